import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { looksCached, md5File, resolveCacheDir, stampPath, verifyCachedFile } from '../../../../../executors/clip/models/cache.js';
import { blob, md5 } from './fixtures.js';

describe('cache dir', () => {
  it('prefers the option, then $CLIPFLOW_CACHE_DIR, then $XDG_CACHE_HOME/clipflow, then ~/.cache/clipflow', () => {
    const env = { CLIPFLOW_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' };
    assert.equal(resolveCacheDir('/opt', env), '/opt');
    assert.equal(resolveCacheDir(undefined, env), '/c');
    assert.equal(resolveCacheDir(undefined, { XDG_CACHE_HOME: '/x' }), '/x/clipflow');
    assert.equal(resolveCacheDir(undefined, { CLIPFLOW_CACHE_DIR: '', XDG_CACHE_HOME: '' }), join(homedir(), '.cache', 'clipflow'));
  });

  it('reads process.env by default', () => {
    const saved = process.env.CLIPFLOW_CACHE_DIR;
    process.env.CLIPFLOW_CACHE_DIR = '/from-env';
    try {
      assert.equal(resolveCacheDir(), '/from-env');
    } finally {
      if (saved === undefined) delete process.env.CLIPFLOW_CACHE_DIR;
      else process.env.CLIPFLOW_CACHE_DIR = saved;
    }
  });
});

describe('verified cache files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipflow-cache-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('hashes a file as a stream', async () => {
    const data = blob(3 * 1024 * 1024 + 7);
    await writeFile(join(dir, 'big'), data);
    assert.equal(await md5File(join(dir, 'big')), md5(data));
  });

  it('hashes once, then trusts the stamp until the file changes', async () => {
    const file = join(dir, 'g.onnx');
    const data = blob(1000);
    assert.equal(await verifyCachedFile(file, md5(data)), 'missing');
    await writeFile(file, data);
    assert.equal(await verifyCachedFile(file, md5(data)), 'hashed');
    assert.equal(JSON.parse(await readFile(stampPath(file), 'utf8')).md5, md5(data));
    assert.equal(await verifyCachedFile(file, md5(data)), 'stamped');
    // Same size, new bytes, new mtime: the stamp no longer matches, so it is hashed again.
    await writeFile(file, blob(1000));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(await verifyCachedFile(file, md5(data)), 'mismatch');
  });

  it('looksCached checks presence and the stamp without hashing', async () => {
    const file = join(dir, 'h.onnx');
    assert.equal(await looksCached(file, 'a'.repeat(32)), false);
    await writeFile(file, 'x');
    assert.equal(await looksCached(file, 'a'.repeat(32)), true);
    await writeFile(stampPath(file), JSON.stringify({ md5: 'b'.repeat(32), size: 1, mtimeMs: 0 }));
    assert.equal(await looksCached(file, 'a'.repeat(32)), false);
  });
});
