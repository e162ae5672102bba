/**
 * The on-disk model cache: where it lives, how files in it are verified, and
 * the small "stamp" files that let a verified multi-GB file skip re-hashing on
 * every start while still catching a file that was replaced or truncated.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The cache root: `override`, else `$CLIPFLOW_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/clipflow`, else `~/.cache/clipflow`.
 */
export function resolveCacheDir(override?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (override) return override;
  if (env.CLIPFLOW_CACHE_DIR) return env.CLIPFLOW_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'clipflow');
  return join(homedir(), '.cache', 'clipflow');
}

/** Hex md5 of a file's bytes, read as a stream (models can be several GB). */
export async function md5File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('md5');
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What a stamp records: the md5 the file was verified against and the stat it had then. */
interface Stamp {
  md5: string;
  size: number;
  mtimeMs: number;
}

/** The stamp file next to a verified file. */
export function stampPath(file: string): string {
  return `${file}.md5`;
}

async function statOrUndefined(path: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/** Records that `file` (as it is now) has md5 `md5`. */
export async function writeStamp(file: string, md5: string): Promise<void> {
  const s = await statOrUndefined(file);
  if (!s) return;
  const stamp: Stamp = { md5, size: s.size, mtimeMs: s.mtimeMs };
  await writeFile(stampPath(file), JSON.stringify(stamp) + '\n');
}

async function readStamp(file: string): Promise<Stamp | undefined> {
  try {
    const parsed = JSON.parse(await readFile(stampPath(file), 'utf8')) as Partial<Stamp>;
    if (typeof parsed.md5 === 'string' && typeof parsed.size === 'number' && typeof parsed.mtimeMs === 'number') {
      return parsed as Stamp;
    }
  } catch {
    // A missing or garbled stamp only costs a re-hash.
  }
  return undefined;
}

/** How `verifyCachedFile` decided. */
export type CacheCheck = 'missing' | 'stamped' | 'hashed' | 'mismatch';

/**
 * Whether `file` exists with md5 `md5`. A stamp matching the file's size and
 * mtime is trusted; otherwise the file is hashed (and stamped when it matches).
 * A mismatching file is left alone: the caller decides whether to replace it.
 */
export async function verifyCachedFile(file: string, md5: string, signal?: AbortSignal): Promise<CacheCheck> {
  const s = await statOrUndefined(file);
  if (!s) return 'missing';
  const stamp = await readStamp(file);
  if (stamp && stamp.md5 === md5 && stamp.size === s.size && stamp.mtimeMs === s.mtimeMs) return 'stamped';
  const actual = await md5File(file, signal);
  if (actual !== md5) return 'mismatch';
  await writeStamp(file, md5);
  return 'hashed';
}

/** Cheap presence check for listings: the file exists and its stamp (if any) names `md5`. */
export async function looksCached(file: string, md5: string): Promise<boolean> {
  const s = await statOrUndefined(file);
  if (!s) return false;
  const stamp = await readStamp(file);
  return !stamp || stamp.md5 === md5;
}

/** Removes a file and its stamp, ignoring ones that are not there. */
export async function removeCached(file: string): Promise<void> {
  await rm(file, { force: true });
  await rm(stampPath(file), { force: true });
}
