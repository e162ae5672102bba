/**
 * ensureModel against real HTTP mirrors on loopback: fresh downloads, md5
 * failures, resume, servers that ignore Range, dead mirrors, dropped
 * connections, concurrent callers in one and in two processes, stale locks,
 * zipped graphs, and the `models pull` command. No internet.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { registerModelsCommand, runModelsPull } from '../../../../core/cli/models.command.js';
import { ensureModel, resolveMirrors } from '../../../../executors/clip/models/ensure-model.js';
import { ChecksumMismatchError, ModelDownloadError } from '../../../../executors/clip/models/model-errors.js';
import { tryAcquireLock } from '../../../../executors/clip/models/file-lock.js';
import { registerModel } from '../../../../executors/clip/models/model-registry.js';
import { DEFAULT_MIRROR, type ModelEntry } from '../../../../executors/clip/models/model-table.js';
import { blob, deadMirror, makeZip, md5, startMirror, testEntry, type Mirror } from '../../../unit/executors/clip/models/fixtures.js';

const exists = (p: string) => access(p).then(() => true, () => false);
const FAST = { progress: false, retries: 2, backoffMs: 5, lock: { pollMs: 10 } } as const;

describe('ensureModel over HTTP', () => {
  const textual = blob(150_000);
  const visual = blob(260_000);
  let mirror: Mirror;
  let root: string;
  let n = 0;

  /** A fresh model (own name, own server folder) and cache dir, so tests never share state. */
  function fresh(o: { visualMd5?: string } = {}): { entry: ModelEntry; cacheDir: string; folder: string } {
    const folder = `m${n++}`;
    mirror.files.set(`mirror/${folder}/textual.onnx`, textual);
    mirror.files.set(`mirror/${folder}/visual.onnx`, visual);
    const entry = testEntry(`dl-test-${folder}::x`, folder, textual, visual, o);
    registerModel(entry);
    return { entry, cacheDir: join(root, folder), folder };
  }

  before(async () => {
    mirror = await startMirror({});
    root = await mkdtemp(join(tmpdir(), 'clipflow-dl-'));
  });
  after(async () => {
    await mirror.close();
    await rm(root, { recursive: true, force: true });
  });

  it('downloads both graphs, verifies them and leaves no temporary files', async () => {
    const { entry, cacheDir, folder } = fresh();
    const progress: number[] = [];
    const r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base], onProgress: (p) => p.file.endsWith('visual.onnx') && progress.push(p.received) });
    assert.equal(r.dir, join(cacheDir, `dl-test-${folder}-x`));
    assert.equal(r.textual, join(r.dir, 'textual.onnx'));
    assert.deepEqual(await readFile(r.textual), textual);
    assert.deepEqual(await readFile(r.visual), visual);
    assert.deepEqual(r.downloaded.sort(), [r.textual, r.visual].sort());
    assert.equal(mirror.hitsFor(`${folder}/textual.onnx`).length, 1);
    assert.equal(progress.at(-1), visual.length);
    assert.deepEqual((await readdir(r.dir)).sort(), ['textual.onnx', 'textual.onnx.md5', 'visual.onnx', 'visual.onnx.md5']);
  });

  it('uses cached files with zero requests, re-hashing when the stamp is gone', async () => {
    const { entry, cacheDir, folder } = fresh();
    const first = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    const before = mirror.hits.length;
    const again = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    await rm(`${first.textual}.md5`);
    const hashed = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    assert.equal(mirror.hits.length, before);
    assert.deepEqual([again.downloaded, hashed.downloaded], [[], []]);
    assert.ok(await exists(`${first.textual}.md5`));
    // A cached file with the wrong bytes is replaced.
    await writeFile(first.visual, 'corrupt');
    await rm(`${first.visual}.md5`);
    await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    assert.deepEqual(await readFile(first.visual), visual);
    assert.equal(mirror.hitsFor(`${folder}/visual.onnx`).length, 2);
  });

  it('fails on an md5 mismatch naming the file and both hashes, keeping nothing', async () => {
    const { entry, cacheDir } = fresh({ visualMd5: 'f'.repeat(32) });
    const dir = join(cacheDir, entry.name.replace('::', '-'));
    await assert.rejects(ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] }), (e: unknown) => {
      assert.ok(e instanceof ChecksumMismatchError);
      assert.ok(e.message.includes(join(dir, 'visual.onnx')));
      assert.ok(e.message.includes(`expected ${'f'.repeat(32)}, got ${md5(visual)}`));
      return true;
    });
    assert.equal(await exists(join(dir, 'visual.onnx')), false);
    assert.equal(await exists(join(dir, 'visual.onnx.part')), false);
    assert.equal(await exists(join(dir, 'visual.onnx.lock')), false);
  });

  it('resumes a partial download with a Range request', async () => {
    const { entry, cacheDir, folder } = fresh();
    const dir = join(cacheDir, `dl-test-${folder}-x`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'textual.onnx.part'), textual.subarray(0, 40_000));
    const r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    const hits = mirror.hitsFor(`${folder}/textual.onnx`);
    assert.deepEqual(hits.map((h) => [h.range, h.status]), [['bytes=40000-', 206]]);
    assert.deepEqual(await readFile(r.textual), textual);
  });

  it('restarts cleanly when the server ignores Range and answers 200', async () => {
    const { entry, cacheDir, folder } = fresh();
    const dir = join(cacheDir, `dl-test-${folder}-x`);
    await mkdir(dir, { recursive: true });
    // Garbage in the .part proves it was truncated rather than appended to.
    await writeFile(join(dir, 'textual.onnx.part'), blob(30_000));
    mirror.behaviour.ignoreRange = true;
    try {
      const r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
      assert.deepEqual(mirror.hitsFor(`${folder}/textual.onnx`).map((h) => [h.range, h.status]), [['bytes=30000-', 200]]);
      assert.deepEqual(await readFile(r.textual), textual);
    } finally {
      mirror.behaviour.ignoreRange = false;
    }
  });

  it('retries a dropped connection, resuming where it broke', async () => {
    const { entry, cacheDir, folder } = fresh();
    mirror.behaviour.dropOnceAfter = 50_000;
    // The cut waits until the client has those bytes on disk: on a busy machine a fixed
    // pause could cut before they were read, and a restart from 0 would then be right.
    const partOf = new Map<string, string>();
    mirror.behaviour.beforeDrop = async (path, sent) => {
      for (let i = 0; i < 2000; i++) {
        const part = [...partOf].find(([url]) => url.endsWith(path))?.[1];
        if (part && (await stat(part).then((s) => s.size, () => 0)) >= sent) return;
        await sleep(5);
      }
    };
    let r: Awaited<ReturnType<typeof ensureModel>>;
    try {
      r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base], onProgress: (p) => void partOf.set(p.url, `${p.file}.part`) });
    } finally {
      delete mirror.behaviour.beforeDrop;
    }
    const hits = [...mirror.hitsFor(`${folder}/textual.onnx`), ...mirror.hitsFor(`${folder}/visual.onnx`)];
    assert.equal(hits.length, 3);
    assert.ok(hits.some((h) => h.status === 206 && /^bytes=\d+-$/.test(h.range ?? '')));
    assert.deepEqual(await readFile(r.textual), textual);
    assert.deepEqual(await readFile(r.visual), visual);
  });

  it('falls back to the next mirror when one is down or lacks the file', async () => {
    const { entry, cacheDir, folder } = fresh();
    const other = await startMirror({});
    try {
      const r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [await deadMirror(), other.base, mirror.base] });
      assert.deepEqual(await readFile(r.visual), visual);
      assert.equal(other.hitsFor(`${folder}/visual.onnx`).length, 1, 'a 404 is not retried on the same mirror');
      assert.equal(mirror.hitsFor(`${folder}/visual.onnx`).length, 1);
    } finally {
      await other.close();
    }
  });

  it('without any reachable mirror, fails in one line naming the URL and model_path', async () => {
    const { entry, cacheDir, folder } = fresh();
    const down = await deadMirror();
    await assert.rejects(ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [down] }), (e: unknown) => {
      assert.ok(e instanceof ModelDownloadError);
      assert.ok(e.message.includes(`${down}${folder}/`));
      assert.match(e.message, /model_path/);
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
  });

  it('downloads once for concurrent calls in the same process', async () => {
    const { entry, cacheDir, folder } = fresh();
    mirror.behaviour.chunkDelayMs = 5;
    try {
      const results = await Promise.all([1, 2, 3].map(() => ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] })));
      assert.equal(new Set(results.map((r) => r.textual)).size, 1);
    } finally {
      mirror.behaviour.chunkDelayMs = 0;
    }
    assert.equal(mirror.hitsFor(`${folder}/textual.onnx`).length, 1);
    assert.equal(mirror.hitsFor(`${folder}/visual.onnx`).length, 1);
  });

  /** Runs ensureModel for `entry` in a separate node process; resolves with its exit code and output. */
  async function inChild(entry: ModelEntry, cacheDir: string): Promise<{ code: number | null; out: string }> {
    const script = join(root, 'pull.mjs');
    await writeFile(
      script,
      [
        `const [reg, ens, entry, cacheDir, mirror] = process.argv.slice(2);`,
        `const { registerModel } = await import(reg);`,
        `const { ensureModel } = await import(ens);`,
        `registerModel(JSON.parse(entry));`,
        `const r = await ensureModel(JSON.parse(entry).name, { cacheDir, mirrors: [mirror], progress: false, lock: { pollMs: 10 } });`,
        `process.stdout.write(JSON.stringify(r.downloaded));`,
      ].join('\n'),
    );
    const reg = new URL('../../../../executors/clip/models/model-registry.js', import.meta.url).href;
    const ens = new URL('../../../../executors/clip/models/ensure-model.js', import.meta.url).href;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [script, reg, ens, JSON.stringify(entry), cacheDir, mirror.base], {
        env: { ...process.env, CLIPFLOW_LOG_LEVEL: 'silent' },
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
  }

  it('downloads once for two processes at the same time (lock file)', async () => {
    const { entry, cacheDir, folder } = fresh();
    mirror.behaviour.chunkDelayMs = 15;
    try {
      const [a, b] = await Promise.all([inChild(entry, cacheDir), inChild(entry, cacheDir)]);
      assert.equal(a.code, 0, a.out);
      assert.equal(b.code, 0, b.out);
      const downloads = [...JSON.parse(a.out), ...JSON.parse(b.out)];
      assert.equal(downloads.length, 2, 'each file downloaded by exactly one process');
    } finally {
      mirror.behaviour.chunkDelayMs = 0;
    }
    assert.equal(mirror.hitsFor(`${folder}/textual.onnx`).length, 1);
    assert.equal(mirror.hitsFor(`${folder}/visual.onnx`).length, 1);
  });

  it("waits on another process's lock, then re-checks and uses the file it left", async () => {
    const { entry, cacheDir, folder } = fresh();
    const dir = join(cacheDir, `dl-test-${folder}-x`);
    await mkdir(dir, { recursive: true });
    const held = (await tryAcquireLock(join(dir, 'textual.onnx.lock')))!;
    const child = inChild(entry, cacheDir);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(mirror.hitsFor(`${folder}/textual.onnx`).length, 0, 'the child is waiting, not downloading');
    // Play the lock holder finishing its download.
    await writeFile(join(dir, 'textual.onnx'), textual);
    await held.release();
    const { code, out } = await child;
    assert.equal(code, 0, out);
    assert.deepEqual(JSON.parse(out), [join(dir, 'visual.onnx')]);
    assert.equal(mirror.hitsFor(`${folder}/textual.onnx`).length, 0);
  });

  it('takes over a stale lock left by a dead process', async () => {
    const { entry, cacheDir, folder } = fresh();
    const dir = join(cacheDir, `dl-test-${folder}-x`);
    await mkdir(dir, { recursive: true });
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid!));
    });
    await writeFile(join(dir, 'textual.onnx.lock'), JSON.stringify({ pid: dead, host: hostname(), time: Date.now(), token: 't' }));
    const r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    assert.deepEqual(await readFile(r.textual), textual);
    assert.equal(await exists(join(dir, 'textual.onnx.lock')), false);
  });

  it('unzips a zipped graph, drops the archive and later finds it with no request', async () => {
    const folder = `z${n++}`;
    const zip = makeZip([{ name: 'visual.onnx', data: visual, deflate: true }, { name: 'visual.onnx.data', data: textual }]);
    mirror.files.set(`mirror/${folder}/textual.onnx`, textual);
    mirror.files.set(`mirror/${folder}/visual.zip`, zip);
    const entry = testEntry(`dl-test-${folder}::x`, folder, textual, zip, { visualName: 'visual.zip' });
    registerModel(entry);
    const cacheDir = join(root, folder);
    const r = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    assert.equal(r.visual, join(r.dir, 'visual.onnx'));
    assert.deepEqual(await readFile(r.visual), visual);
    assert.deepEqual(await readFile(join(r.dir, 'visual.onnx.data')), textual);
    assert.equal(await exists(join(r.dir, 'visual.zip')), false);
    const hits = mirror.hits.length;
    const again = await ensureModel(entry.name, { ...FAST, cacheDir, mirrors: [mirror.base] });
    assert.equal(again.visual, r.visual);
    assert.equal(mirror.hits.length, hits);
  });

  it('resolves a bundled model from its directory with no request', async () => {
    const dir = join(root, 'bundled');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'textual.onnx'), 't');
    await writeFile(join(dir, 'visual.onnx'), 'v');
    registerModel({ ...testEntry('bundled-dl::clipflow', 'b', textual, visual), source: { kind: 'bundled', dir } });
    const hits = mirror.hits.length;
    const r = await ensureModel('bundled-dl::clipflow', { ...FAST, cacheDir: join(root, 'unused'), mirrors: [mirror.base] });
    assert.deepEqual([r.dir, r.textual, r.visual, r.downloaded], [dir, join(dir, 'textual.onnx'), join(dir, 'visual.onnx'), []]);
    assert.equal(mirror.hits.length, hits);
    assert.equal(await exists(join(root, 'unused')), false);
  });

  it('`models pull` downloads through the mirrors it is given', async () => {
    const { entry, cacheDir } = fresh();
    const text = await runModelsPull(entry.name, { cacheDir, mirror: [`${mirror.base}missing/,${mirror.base}`] });
    assert.match(text, new RegExp(`^${entry.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} downloaded: `));
    const out: string[] = [];
    const program = new Command('clipflow').exitOverride();
    registerModelsCommand(program, async (line) => void out.push(line));
    await program.parseAsync(['models', 'pull', entry.name, '--cache-dir', cacheDir, '--mirror', mirror.base], { from: 'user' });
    assert.match(out.join(''), /already cached: /);
  });

  it('takes mirrors from options, then $CLIPFLOW_MODEL_MIRRORS, then the S3 default', () => {
    assert.deepEqual(resolveMirrors(['http://a/x'], { CLIPFLOW_MODEL_MIRRORS: 'http://b/' }), ['http://a/x/']);
    assert.deepEqual(resolveMirrors(undefined, { CLIPFLOW_MODEL_MIRRORS: ' http://b/ , https://c/y ' }), ['http://b/', 'https://c/y/']);
    assert.deepEqual(resolveMirrors([], {}), [DEFAULT_MIRROR]);
    assert.throws(() => resolveMirrors(['ftp://x/']), /must be http\(s\)/);
  });
});
