/**
 * `ensureModel(name)`: makes a table model's two graphs present and verified in
 * the cache, downloading only what is missing, and returns their paths. Safe to
 * call from many places at once: calls in one process share one download, and
 * processes coordinate through a lock file per downloaded file.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { packagePath } from '../../../core/config/paths.js';
import { childLogger } from '../../../core/telemetry/logger.js';
import { looksCached, removeCached, resolveCacheDir, verifyCachedFile } from './cache.js';
import { createProgressReporter } from './download-progress.js';
import { downloadFile, type DownloadProgress } from './downloader.js';
import { tryAcquireLock, waitForLock, type LockOptions } from './file-lock.js';
import { resolveModelDir } from './model-dir.js';
import { cacheFolderName, getModel } from './model-registry.js';
import { DEFAULT_MIRROR, type ModelEntry, type RemoteFile } from './model-table.js';
import { extractZip } from './zip-extract.js';

/** Options of {@link ensureModel}. */
export interface EnsureModelOptions {
  /** Cache root; default `$CLIPFLOW_CACHE_DIR`, `$XDG_CACHE_HOME/clipflow`, `~/.cache/clipflow`. */
  cacheDir?: string;
  /** Base URLs tried in order; default `$CLIPFLOW_MODEL_MIRRORS` (comma-separated), else clip-server's S3. */
  mirrors?: readonly string[];
  /** Called for every chunk received. */
  onProgress?: (p: DownloadProgress) => void;
  /** The built-in display (a bar on a TTY, pino lines otherwise); default true. */
  progress?: boolean;
  signal?: AbortSignal;
  /** Attempts per mirror on network errors (default 3). */
  retries?: number;
  /** First retry delay in ms, doubling (default 500). */
  backoffMs?: number;
  /** Lock tuning (poll interval, staleness). */
  lock?: Omit<LockOptions, 'signal'>;
}

/** Where a model's graphs are, once {@link ensureModel} resolves. */
export interface EnsuredModel {
  entry: ModelEntry;
  dir: string;
  textual: string;
  visual: string;
  /** Files this call downloaded (empty when everything was cached). */
  downloaded: string[];
}

/** The mirrors to use: `explicit`, else `$CLIPFLOW_MODEL_MIRRORS`, else clip-server's bucket; each ends in `/`. */
export function resolveMirrors(explicit?: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = (env.CLIPFLOW_MODEL_MIRRORS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const list = explicit && explicit.length > 0 ? [...explicit] : fromEnv.length > 0 ? fromEnv : [DEFAULT_MIRROR];
  return list.map((m) => {
    let url: URL;
    try {
      url = new URL(m);
    } catch {
      throw new Error(`model mirror "${m}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`model mirror "${m}" must be http(s)`);
    return url.href.endsWith('/') ? url.href : `${url.href}/`;
  });
}

/** The cache folder of a table model (it holds a clip-server layout once pulled). */
export function modelCacheDir(entry: ModelEntry, cacheDir?: string): string {
  return join(resolveCacheDir(cacheDir), cacheFolderName(entry));
}

/** Records what a `.zip` unpacked to, so later runs skip both the archive and its hash. */
interface ExtractMarker {
  md5: string;
  onnx: string;
  files: string[];
}

function markerPath(dir: string, part: string): string {
  return join(dir, `${part}.extracted.json`);
}

async function readMarker(dir: string, part: string, md5: string): Promise<string | undefined> {
  try {
    const m = JSON.parse(await readFile(markerPath(dir, part), 'utf8')) as ExtractMarker;
    if (m.md5 !== md5) return undefined;
    for (const f of m.files) if (!(await stat(join(dir, f))).isFile()) return undefined;
    return join(dir, m.onnx);
  } catch {
    return undefined;
  }
}

/** Quick check for listings: both graphs present (stamps consulted, nothing hashed). */
export async function isModelCached(entry: ModelEntry, cacheDir?: string): Promise<boolean> {
  if (entry.source.kind === 'bundled') return true;
  const dir = modelCacheDir(entry, cacheDir);
  const { textual, visual } = entry.source;
  const present = async (part: string, f: RemoteFile): Promise<boolean> =>
    f.path.endsWith('.zip') ? (await readMarker(dir, part, f.md5)) !== undefined : looksCached(join(dir, basename(f.path)), f.md5);
  return (await present('textual', textual)) && (await present('visual', visual));
}

/** In-process sharing: concurrent calls for the same file wait on one promise. */
const inFlight = new Map<string, Promise<{ path: string; downloaded: boolean }>>();

interface PartJob {
  entry: ModelEntry;
  dir: string;
  part: 'textual' | 'visual';
  file: RemoteFile;
  mirrors: string[];
  options: EnsureModelOptions;
}

async function fetchVerified(job: PartJob, dest: string): Promise<void> {
  const label = `${job.entry.name} ${basename(dest)}`;
  const reporter = job.options.progress === false ? undefined : createProgressReporter(label);
  const user = job.options.onProgress;
  let ok = false;
  try {
    await downloadFile({
      urls: job.mirrors.map((m) => new URL(job.file.path, m).href),
      dest,
      md5: job.file.md5,
      label,
      ...(job.options.retries !== undefined ? { retries: job.options.retries } : {}),
      ...(job.options.backoffMs !== undefined ? { backoffMs: job.options.backoffMs } : {}),
      ...(job.options.signal ? { signal: job.options.signal } : {}),
      onProgress: (p) => {
        reporter?.update(p);
        user?.(p);
      },
    });
    ok = true;
  } finally {
    reporter?.stop(ok);
  }
}

/** One graph of one model: cached → its path; else download (and unzip) under the file's lock. */
async function ensurePart(job: PartJob): Promise<{ path: string; downloaded: boolean }> {
  const { dir, part, file } = job;
  const zipped = file.path.endsWith('.zip');
  const dest = join(dir, basename(file.path));
  const ready = async (): Promise<string | undefined> => {
    if (zipped) return readMarker(dir, part, file.md5);
    const check = await verifyCachedFile(dest, file.md5, job.options.signal);
    return check === 'stamped' || check === 'hashed' ? dest : undefined;
  };
  const lockOptions: LockOptions = { ...job.options.lock, ...(job.options.signal ? { signal: job.options.signal } : {}) };
  for (;;) {
    const cached = await ready();
    if (cached) return { path: cached, downloaded: false };
    const lock = await tryAcquireLock(`${dest}.lock`, lockOptions);
    if (!lock) {
      // Another process is on it: wait for its lock to go, then look again.
      await waitForLock(`${dest}.lock`, lockOptions);
      continue;
    }
    try {
      const done = await ready();
      if (done) return { path: done, downloaded: false };
      if (!zipped) {
        await removeCached(dest); // a wrong-md5 file left over from elsewhere
        await fetchVerified(job, dest);
        return { path: dest, downloaded: true };
      }
      const zipState = await verifyCachedFile(dest, file.md5, job.options.signal);
      if (zipState !== 'stamped' && zipState !== 'hashed') {
        await removeCached(dest);
        await fetchVerified(job, dest);
      }
      const files = await extractZip(dest, dir, job.options.signal);
      const onnx = files.find((f) => f === `${part}.onnx`) ?? files.find((f) => basename(f) === `${part}.onnx`) ?? files.find((f) => f.endsWith('.onnx'));
      if (!onnx) throw new Error(`${dest} holds no .onnx graph (entries: ${files.join(', ')})`);
      const marker: ExtractMarker = { md5: file.md5, onnx, files };
      await writeFile(markerPath(dir, part), JSON.stringify(marker) + '\n');
      // The archive is only a transport: the unpacked graph is what loads, and keeping both doubles GBs.
      await removeCached(dest);
      return { path: join(dir, onnx), downloaded: true };
    } finally {
      await lock.release();
    }
  }
}

function shared(job: PartJob): Promise<{ path: string; downloaded: boolean }> {
  const key = join(job.dir, basename(job.file.path));
  let p = inFlight.get(key);
  if (!p) {
    p = ensurePart(job).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

/**
 * Makes the model `name` (canonical name or alias) ready to load and returns
 * its directory and graph paths. Cached files with the right md5 are used with
 * no network; bundled models resolve inside the package. Throws
 * `UnknownModelError` (with suggestions), `ModelDownloadError` (which URL
 * failed, and that model_path can point at local files) or `ChecksumMismatchError`.
 */
export async function ensureModel(name: string, options: EnsureModelOptions = {}): Promise<EnsuredModel> {
  const entry = getModel(name);
  if (entry.source.kind === 'bundled') {
    const dir = isAbsolute(entry.source.dir) ? entry.source.dir : packagePath(entry.source.dir);
    const spec = await resolveModelDir(dir, entry.name);
    return { entry, dir: spec.dir, textual: spec.textualPath, visual: spec.visualPath, downloaded: [] };
  }
  const dir = modelCacheDir(entry, options.cacheDir);
  await mkdir(dir, { recursive: true });
  const mirrors = resolveMirrors(options.mirrors);
  const base = { entry, dir, mirrors, options };
  // Both parts settle before a failure is thrown, so neither leaves its lock behind when the process then exits.
  const [t, v] = await allSettledOrThrow([
    shared({ ...base, part: 'textual', file: entry.source.textual }),
    shared({ ...base, part: 'visual', file: entry.source.visual }),
  ]);
  const downloaded = [t, v].filter((r) => r.downloaded).map((r) => r.path);
  if (downloaded.length > 0) childLogger('models').info({ model: entry.name, dir }, 'model ready');
  return { entry, dir, textual: t.path, visual: v.path, downloaded };
}

/** Like Promise.all, but waits for every promise before throwing the first failure. */
async function allSettledOrThrow<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}
