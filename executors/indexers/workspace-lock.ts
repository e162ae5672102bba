import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ClipflowError } from '../../core/errors.js';
import { pidAlive } from '../clip/models/file-lock.js';

/** Tells this process apart from an earlier one that had the same pid (containers restart as pid 1). */
const PROCESS_TOKEN = randomUUID();

interface LockInfo {
  pid: number;
  token: string;
  host: string;
  owner: string;
  since: string;
}

/** A second indexer (replica or process) tried to open a workspace that is in use. */
export class WorkspaceLockedError extends ClipflowError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/**
 * An exclusive lock on one table of a workspace: a file created with O_EXCL that
 * holds the owner's pid. Two writers on one store would corrupt it or lose
 * acknowledged writes, so the second one must fail at start-up, loudly. A lock
 * whose process is gone (a crash, SIGKILL) is taken over.
 */
export class WorkspaceLock {
  private released = false;

  private constructor(readonly path: string) {}

  /** Takes `<dir>/<name>.lock`, or throws WorkspaceLockedError naming the holder. */
  static acquire(dir: string, name: string, owner: string): WorkspaceLock {
    const path = join(dir, `${name}.lock`);
    const info: LockInfo = { pid: process.pid, token: PROCESS_TOKEN, host: hostname(), owner, since: new Date().toISOString() };
    // A few rounds: a stale lock we remove may be re-created by a racing process first.
    for (let round = 0; round < 5; round++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o644);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const raw = readRaw(path);
        if (raw === undefined) continue; // vanished meanwhile: try again
        const holder = parse(raw);
        if (holder && holderAlive(holder)) throw lockedError(dir, name, holder);
        // Unreadable and fresh: its creator may be between open and write. Not stale yet.
        if (!holder && youngerThan(path, TORN_GRACE_MS)) throw new WorkspaceLockedError(`workspace ${dir} (table "${name}") is being locked by another process right now`);
        // Stale. Remove it only if it is still the file we judged, not a fresh lock.
        if (readRaw(path) === raw) tryUnlink(path);
        continue;
      }
      try {
        writeSync(fd, JSON.stringify(info));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return new WorkspaceLock(path);
    }
    throw new WorkspaceLockedError(`cannot take the lock ${path}: it keeps changing hands`);
  }

  /** Removes the lock file (once); safe to call again. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const holder = parse(readRaw(this.path) ?? '');
    // Never delete a lock that someone else took over (e.g. after our process was presumed dead).
    if (holder?.token === PROCESS_TOKEN && holder.pid === process.pid) tryUnlink(this.path);
  }
}

function readRaw(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function parse(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    return typeof v.pid === 'number' && typeof v.token === 'string' ? (v as LockInfo) : undefined;
  } catch {
    // Empty or torn: its writer is between create and write, or died there.
    return undefined;
  }
}

/** How long an unreadable lock file is presumed to be in the middle of being written. */
const TORN_GRACE_MS = 5_000;

function youngerThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}

function holderAlive(holder: LockInfo): boolean {
  // On another host (a shared volume) we cannot probe the pid: assume it is alive.
  if (holder.host && holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return holder.token === PROCESS_TOKEN;
  return pidAlive(holder.pid);
}

function lockedError(dir: string, name: string, holder: LockInfo): WorkspaceLockedError {
  const who = holder.pid === process.pid ? 'another indexer in this process (a second replica?)' : `process ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''}`;
  return new WorkspaceLockedError(
    `workspace ${dir} (table "${name}") is already open by ${who} (${holder.owner}, since ${holder.since}); ` +
      'replicas of a persistent indexer cannot share a workspace: use replicas: 1 or give each its own workspace',
  );
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
