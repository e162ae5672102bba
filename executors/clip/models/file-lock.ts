/**
 * A cross-process lock on one file: `<file>.lock`, created exclusively (`wx`)
 * and holding the owner's pid, host and start time. Waiters poll until it
 * disappears; a lock whose owner is dead (same host) or whose heartbeat stopped
 * longer than `staleMs` ago is taken over. No lock server, no native module:
 * `O_EXCL` creation is atomic on local filesystems, which is all this needs.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a lock file says about its owner. */
export interface LockInfo {
  pid: number;
  host: string;
  /** When it was taken (ms since epoch). */
  time: number;
  /** Unique per acquisition, so a release never deletes someone else's lock. */
  token: string;
}

/** Tuning for waiting on and holding a lock. */
export interface LockOptions {
  /** How often a waiter looks at the lock file (default 250 ms). */
  pollMs?: number;
  /** A lock not refreshed for this long is stale (default 10 min). */
  staleMs?: number;
  /** How often a holder refreshes its lock's mtime (default staleMs / 4). */
  heartbeatMs?: number;
  signal?: AbortSignal;
}

/** A lock this process holds. */
export interface HeldLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Stops the heartbeat and removes the lock file if it is still ours. */
  release(): Promise<void>;
}

const DEFAULT_POLL_MS = 250;
const DEFAULT_STALE_MS = 10 * 60_000;
/** A takeover marker older than this belongs to a process that died mid-takeover. */
const TAKEOVER_STALE_MS = 30_000;

async function readLock(path: string): Promise<{ info?: LockInfo; mtimeMs: number } | undefined> {
  try {
    const [text, s] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    try {
      return { info: JSON.parse(text) as LockInfo, mtimeMs: s.mtimeMs };
    } catch {
      // Created but not yet written (or garbled): only its age can say it is stale.
      return { mtimeMs: s.mtimeMs };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether a pid on this host is running (EPERM means it is, under another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(lock: { info?: LockInfo; mtimeMs: number }, staleMs: number): boolean {
  if (Date.now() - lock.mtimeMs > staleMs) return true;
  const info = lock.info;
  return info !== undefined && info.host === hostname() && info.pid !== process.pid && !pidAlive(info.pid);
}

/** Creates the lock if nobody holds it; undefined when it exists. */
export async function tryAcquireLock(path: string, options: LockOptions = {}): Promise<HeldLock | undefined> {
  const info: LockInfo = { pid: process.pid, host: hostname(), time: Date.now(), token: randomUUID() };
  try {
    await writeFile(path, JSON.stringify(info) + '\n', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  // Long downloads outlive staleMs: touching the file tells waiters the owner is still working.
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, options.heartbeatMs ?? Math.max(1, Math.floor(staleMs / 4)));
  heartbeat.unref();
  let released = false;
  return {
    path,
    info,
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const current = await readLock(path).catch(() => undefined);
      if (current?.info?.token === info.token) await rm(path, { force: true });
    },
  };
}

/**
 * Removes a stale lock. A short-lived `<lock>.takeover` marker serialises
 * takeovers, so two waiters cannot both delete "the stale lock" when one of
 * them has already replaced it with a fresh one.
 */
async function takeOver(path: string, stale: { info?: LockInfo; mtimeMs: number }): Promise<void> {
  const marker = `${path}.takeover`;
  try {
    await writeFile(marker, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const s = await stat(marker).catch(() => undefined);
    if (s && Date.now() - s.mtimeMs > TAKEOVER_STALE_MS) await rm(marker, { force: true });
    return;
  }
  try {
    const again = await readLock(path);
    const same = again !== undefined && again.info?.token === stale.info?.token && again.mtimeMs === stale.mtimeMs;
    if (same) await rm(path, { force: true });
  } finally {
    await rm(marker, { force: true });
  }
}

/**
 * Waits until the lock at `path` is gone, taking over a stale one. Resolves as
 * soon as the caller should re-check its work and try to acquire again.
 */
export async function waitForLock(path: string, options: LockOptions = {}): Promise<void> {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  for (;;) {
    options.signal?.throwIfAborted();
    const lock = await readLock(path);
    if (!lock) return;
    if (isStale(lock, staleMs)) {
      await takeOver(path, lock);
      return;
    }
    await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
  }
}
