import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { WorkspaceLock, WorkspaceLockedError } from '../../../../executors/indexers/workspace-lock.js';

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('WorkspaceLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-wslock-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is exclusive within a process (a second replica) and per table; release frees it', () => {
    const lock = WorkspaceLock.acquire(dir, 'docs', 'first');
    assert.equal(JSON.parse(readFileSync(join(dir, 'docs.lock'), 'utf8')).pid, process.pid);
    assert.throws(() => WorkspaceLock.acquire(dir, 'docs', 'second'), (e: Error) => {
      assert.ok(e instanceof WorkspaceLockedError);
      assert.match(e.message, /already open by another indexer in this process \(a second replica\?\)/);
      assert.match(e.message, /replicas: 1/);
      return true;
    });
    const other = WorkspaceLock.acquire(dir, 'other', 'other table');
    other.release();
    lock.release();
    lock.release();
    assert.equal(existsSync(join(dir, 'docs.lock')), false);
    WorkspaceLock.acquire(dir, 'docs', 'again').release();
  });

  it('fails against a live process and takes over from a dead one or an earlier process with our pid', () => {
    const path = join(dir, 't.lock');
    const info = (pid: number, token = 'x') => JSON.stringify({ pid, token, host: hostname(), owner: 'o', since: 'then' });
    writeFileSync(path, info(process.ppid));
    assert.throws(() => WorkspaceLock.acquire(dir, 't', 'me'), new RegExp(`process ${process.ppid}`));
    writeFileSync(path, info(deadPid()));
    WorkspaceLock.acquire(dir, 't', 'me').release();
    writeFileSync(path, info(process.pid, 'a-previous-incarnation'));
    const lock = WorkspaceLock.acquire(dir, 't', 'me');
    assert.notEqual(JSON.parse(readFileSync(path, 'utf8')).token, 'a-previous-incarnation');
    lock.release();
  });

  it('treats a fresh unreadable lock as being written and an old one as stale', () => {
    const path = join(dir, 'torn.lock');
    writeFileSync(path, '');
    assert.throws(() => WorkspaceLock.acquire(dir, 'torn', 'me'), /being locked/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(path, old, old);
    WorkspaceLock.acquire(dir, 'torn', 'me').release();
  });
});
