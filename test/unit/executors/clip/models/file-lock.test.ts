import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pidAlive, tryAcquireLock, waitForLock } from '../../../../../executors/clip/models/file-lock.js';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

const exists = (p: string) => access(p).then(() => true, () => false);

describe('file lock', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipflow-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('is exclusive, records its owner and is removed on release', async () => {
    const path = join(dir, 'a.lock');
    const held = await tryAcquireLock(path);
    assert.ok(held);
    const info = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(info.pid, process.pid);
    assert.equal(info.host, hostname());
    assert.equal(typeof info.time, 'number');
    assert.equal(await tryAcquireLock(path), undefined);
    await held.release();
    assert.equal(await exists(path), false);
    const again = await tryAcquireLock(path);
    assert.ok(again);
    await again.release();
  });

  it('lets a waiter go as soon as the holder releases', async () => {
    const path = join(dir, 'b.lock');
    const held = (await tryAcquireLock(path))!;
    let done = false;
    const waiting = waitForLock(path, { pollMs: 10 }).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(done, false);
    await held.release();
    await waiting;
    assert.equal(done, true);
  });

  it('takes over a lock whose owner died', async () => {
    const path = join(dir, 'c.lock');
    const pid = deadPid();
    assert.equal(pidAlive(pid), false);
    await writeFile(path, JSON.stringify({ pid, host: hostname(), time: Date.now(), token: 'x' }));
    await waitForLock(path, { pollMs: 10 });
    assert.equal(await exists(path), false);
    assert.equal(await exists(`${path}.takeover`), false);
  });

  it('takes over a lock that stopped heart-beating, even if its pid lives', async () => {
    const path = join(dir, 'd.lock');
    await writeFile(path, JSON.stringify({ pid: process.ppid, host: 'elsewhere', time: 0, token: 'y' }));
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    await waitForLock(path, { pollMs: 10, staleMs: 30_000 });
    assert.equal(await exists(path), false);
  });

  it('keeps a live lock of another host until it goes stale', async () => {
    const path = join(dir, 'e.lock');
    await writeFile(path, JSON.stringify({ pid: 1, host: 'elsewhere', time: Date.now(), token: 'z' }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 60);
    await assert.rejects(waitForLock(path, { pollMs: 10, signal: ac.signal }), { name: 'AbortError' });
    assert.equal(await exists(path), true);
  });

  it('heart-beats while held and never deletes a lock it no longer owns', async () => {
    const path = join(dir, 'f.lock');
    const held = (await tryAcquireLock(path, { heartbeatMs: 10 }))!;
    const old = new Date(Date.now() - 60_000);
    await utimes(path, old, old);
    await new Promise((r) => setTimeout(r, 60));
    assert.ok((await stat(path)).mtimeMs > Date.now() - 10_000, 'heartbeat refreshed the mtime');
    const stolen = JSON.stringify({ pid: process.pid, host: hostname(), time: Date.now(), token: 'other' });
    await rm(path);
    await writeFile(path, stolen);
    await held.release();
    assert.equal(await readFile(path, 'utf8'), stolen);
    await rm(path);
  });
});
