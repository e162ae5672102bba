/**
 * Downloads one file from a list of mirrors: streamed to `<dest>.part` (never
 * held in memory), resumed with a `Range` request, md5-verified while it
 * streams, fsynced and renamed into place atomically. Network errors and 5xx
 * are retried with exponential backoff; a 4xx or a bad checksum moves on to the
 * next mirror. Locking against other downloaders is the caller's job.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeStamp } from './cache.js';
import { ChecksumMismatchError, ModelDownloadError } from './model-errors.js';

/** One progress report while a file streams in. */
export interface DownloadProgress {
  /** The file being written (final path). */
  file: string;
  url: string;
  /** Bytes on disk so far, resumed bytes included. */
  received: number;
  /** Full size when the server said (Content-Length / Content-Range). */
  total?: number;
}

/** What `downloadFile` needs. */
export interface DownloadFileOptions {
  /** Full URLs of the same file, tried in order (one per mirror). */
  urls: readonly string[];
  /** Final path; `<dest>.part` holds the bytes until they verify. */
  dest: string;
  md5: string;
  /** Attempts per mirror for retryable failures (default 3). */
  retries?: number;
  /** Delay before the first retry; doubles each time (default 500 ms). */
  backoffMs?: number;
  /** Names the file in messages, e.g. `ViT-B-32::openai textual.onnx`. */
  label?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** A failure worth retrying on the same mirror (network, 5xx, 429, short body). */
class RetryableError extends Error {}
/** A failure that retrying this mirror will not fix (404, 403, ...). */
class MirrorError extends Error {}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Feeds the bytes already in `.part` to the hash so a resumed download is verified whole. */
async function hashExisting(hash: Hash, path: string, signal?: AbortSignal): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
}

/** `bytes START-END/TOTAL` → { start, total }. */
function parseContentRange(header: string | null): { start: number; total?: number } | undefined {
  const m = header ? /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), ...(m[2] !== '*' ? { total: Number(m[2]) } : {}) };
}

async function finish(part: string, dest: string, md5: string, actual: string): Promise<void> {
  if (actual !== md5) {
    await rm(part, { force: true });
    throw new ChecksumMismatchError(dest, md5, actual);
  }
  // fsync before rename: after a crash the final name must never point at missing bytes.
  const fh = await open(part, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(part, dest);
  await writeStamp(dest, md5);
}

async function attempt(url: string, o: DownloadFileOptions): Promise<void> {
  const part = `${o.dest}.part`;
  let offset = await sizeOf(part);
  const headers: Record<string, string> = { 'user-agent': 'clipflow' };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  let res: Response;
  try {
    res = await fetch(url, { headers, redirect: 'follow', ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    throw new RetryableError((e as Error & { cause?: Error }).cause?.message ?? (e as Error).message);
  }
  const hash = createHash('md5');
  let flags: 'a' | 'w' = 'w';
  let total: number | undefined;
  const length = Number(res.headers.get('content-length') ?? NaN);
  if (res.status === 416 && offset > 0) {
    // The .part may already be complete (a crash between last byte and rename): verify it as is.
    await res.body?.cancel();
    await hashExisting(hash, part, o.signal);
    const actual = hash.digest('hex');
    if (actual === o.md5) return finish(part, o.dest, o.md5, actual);
    await rm(part, { force: true });
    throw new RetryableError('range not satisfiable; restarting from byte 0');
  } else if (res.status === 206 && offset > 0) {
    const range = parseContentRange(res.headers.get('content-range'));
    if (!range || range.start !== offset) {
      await res.body?.cancel();
      await rm(part, { force: true });
      throw new RetryableError(`server resumed at the wrong offset (${res.headers.get('content-range')}); restarting`);
    }
    flags = 'a';
    total = range.total ?? (Number.isFinite(length) ? offset + length : undefined);
    await hashExisting(hash, part, o.signal);
  } else if (res.status === 200) {
    // No Range sent, or the server ignored it: the body is the whole file, so start over.
    offset = 0;
    total = Number.isFinite(length) ? length : undefined;
  } else {
    await res.body?.cancel();
    const reason = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    throw res.status >= 500 || res.status === 429 ? new RetryableError(reason) : new MirrorError(reason);
  }
  if (!res.body) throw new RetryableError('empty response body');
  let received = offset;
  const report = o.onProgress;
  report?.({ file: o.dest, url, received, ...(total !== undefined ? { total } : {}) });
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      received += chunk.length;
      report?.({ file: o.dest, url, received, ...(total !== undefined ? { total } : {}) });
      done(null, chunk);
    },
  });
  try {
    const body = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(body, meter, createWriteStream(part, { flags }), ...(o.signal ? [{ signal: o.signal }] : []));
  } catch (e) {
    if (o.signal?.aborted) throw e;
    // Keep the .part: the next attempt resumes from what arrived.
    throw new RetryableError(`connection lost after ${received} bytes: ${(e as Error).message}`);
  }
  if (total !== undefined && received !== total) throw new RetryableError(`got ${received} of ${total} bytes`);
  await finish(part, o.dest, o.md5, hash.digest('hex'));
}

/**
 * Downloads `urls` (mirrors of one file) to `dest`, verifying `md5`. Throws
 * {@link ChecksumMismatchError} when every mirror served wrong bytes, else
 * {@link ModelDownloadError} naming the last URL that failed and why.
 */
export async function downloadFile(o: DownloadFileOptions): Promise<void> {
  if (o.urls.length === 0) throw new ModelDownloadError(`no mirror to download ${o.label ?? o.dest} from`, '');
  const retries = Math.max(1, o.retries ?? 3);
  const backoffMs = o.backoffMs ?? 500;
  let last: { url: string; error: Error } | undefined;
  let mismatch: ChecksumMismatchError | undefined;
  for (const url of o.urls) {
    for (let i = 0; i < retries; i++) {
      o.signal?.throwIfAborted();
      try {
        return await attempt(url, o);
      } catch (e) {
        if (o.signal?.aborted) throw e;
        const error = e as Error;
        last = { url, error };
        if (error instanceof ChecksumMismatchError) mismatch = error;
        if (!(error instanceof RetryableError)) break;
        if (i + 1 < retries) {
          // Jitter keeps several waiting processes from hammering a recovering mirror in step.
          const delay = backoffMs * 2 ** i * (0.75 + Math.random() / 2);
          await sleep(delay, undefined, o.signal ? { signal: o.signal } : {});
        }
      }
    }
  }
  if (mismatch && last?.error === mismatch) throw mismatch;
  const { url, error } = last!;
  throw new ModelDownloadError(
    `cannot download ${o.label ?? o.dest}: ${url} failed (${error.message}); check the network or the mirrors ` +
      `($CLIPFLOW_MODEL_MIRRORS, --mirror), or set model_path to a directory that already holds the model files`,
    url,
    { cause: error },
  );
}
