import { mkdir, open, readdir, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { syncCreatedDirs } from './dir-sync.js';
import type { StoredDoc } from './index-backend.js';
import { decodeRecords, encodeEnd, encodeHeader, encodeOp, type LogOp, type SnapshotHeader } from './memory-log.js';

const SNAPSHOT = /^vectors-(\d+)\.snapshot$/;
const LOG = /^vectors-(\d+)\.log$/;
const snapshotName = (g: number) => `vectors-${g}.snapshot`;
const logName = (g: number) => `vectors-${g}.log`;

/**
 * The memory backend's files: generation g is `vectors-g.snapshot` (all rows at
 * the start of g; none for g = 0) plus `vectors-g.log` (changes since, appended
 * and fsynced before a write is acknowledged). Compaction writes generation g+1's
 * snapshot to a temp file, fsyncs and renames it, and only then drops g: at every
 * instant the newest complete snapshot plus its log is the whole acknowledged state.
 */
export class MemoryStore {
  private generation = 0;
  private log: FileHandle | undefined;
  private logBytes = 0;
  private snapshotBytes = 0;
  private broken: Error | undefined;

  constructor(
    readonly dir: string,
    private readonly compactBytes: number,
    private readonly logger?: Logger,
  ) {}

  /** Replays the newest complete snapshot and its log through `apply`; returns the stored dimension. */
  async load(apply: (op: LogOp) => void): Promise<number | null> {
    await syncCreatedDirs(await mkdir(this.dir, { recursive: true }), this.dir);
    const names = await readdir(this.dir);
    for (const n of names) if (n.endsWith('.tmp')) await rm(join(this.dir, n), { force: true });
    const generations = names.map((n) => SNAPSHOT.exec(n)?.[1]).filter((g): g is string => g !== undefined).map(Number).sort((a, b) => b - a);
    let dim: number | null = null;
    this.generation = 0;
    for (const g of generations) {
      const header = await this.readSnapshot(g, apply);
      if (!header) continue;
      this.generation = g;
      dim = header.dim;
      break;
    }
    const logPath = join(this.dir, logName(this.generation));
    const log = await readFile(logPath).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
    const created = log === undefined;
    if (log) {
      const { records, validBytes } = decodeRecords(log);
      for (const r of records) {
        if (r.op !== 'put' && r.op !== 'delete') continue;
        if (r.op === 'put') dim ??= r.doc.embedding.length;
        apply(r);
      }
      if (validBytes < log.length) {
        // Only an unacknowledged write can be torn: each write is fsynced before its ack.
        this.logger?.warn({ file: logPath, dropped: log.length - validBytes }, 'dropping a torn record at the end of the index log');
        const fh = await open(logPath, 'r+');
        await fh.truncate(validBytes);
        await fh.sync();
        await fh.close();
      }
      this.logBytes = validBytes;
    }
    this.log = await open(logPath, 'a');
    if (created) await syncDir(this.dir);
    // Older generations (and a newer snapshot that failed its check) are superseded.
    for (const n of await readdir(this.dir)) {
      const g = Number(SNAPSHOT.exec(n)?.[1] ?? LOG.exec(n)?.[1] ?? NaN);
      if (Number.isFinite(g) && g !== this.generation) await rm(join(this.dir, n), { force: true });
    }
    return dim;
  }

  /** Reads snapshot g into `apply`; undefined (and nothing applied) when it is incomplete or damaged. */
  private async readSnapshot(g: number, apply: (op: LogOp) => void): Promise<SnapshotHeader | undefined> {
    const path = join(this.dir, snapshotName(g));
    const buf = await readFile(path);
    const { records } = decodeRecords(buf);
    const head = records[0];
    const end = records[records.length - 1];
    const puts = records.slice(1, -1);
    if (head?.op !== 'header' || end?.op !== 'end' || end.count !== puts.length || puts.some((r) => r.op !== 'put')) {
      this.logger?.warn({ file: path }, 'ignoring an incomplete index snapshot');
      return undefined;
    }
    for (const r of puts) apply(r as LogOp);
    this.snapshotBytes = buf.length;
    return head.header;
  }

  /** Appends changes and fsyncs them; when this resolves they survive a crash. */
  async append(ops: LogOp[]): Promise<void> {
    if (this.broken) throw new Error(`the index log is unusable after an earlier write error: ${this.broken.message}`);
    if (!this.log) throw new Error('MemoryStore used before load()');
    const buf = Buffer.concat(ops.map(encodeOp));
    try {
      await writeAll(this.log, buf);
      await this.log.datasync();
      this.logBytes += buf.length;
    } catch (e) {
      // Cut a partial append off, or later records would sit behind garbage and be lost on replay.
      await this.log.truncate(this.logBytes).catch((t: Error) => (this.broken = t));
      throw e;
    }
  }

  /** True when the log has outgrown the snapshot (amortises compaction to O(1) per write). */
  shouldCompact(): boolean {
    return this.logBytes >= Math.max(this.compactBytes, this.snapshotBytes);
  }

  hasLog(): boolean {
    return this.logBytes > 0;
  }

  /** Writes every row as the next generation's snapshot, then drops the current generation. */
  async compact(dim: number | null, docs: Iterable<StoredDoc & { embedding: Float32Array }>): Promise<void> {
    const next = this.generation + 1;
    const tmp = join(this.dir, `${snapshotName(next)}.tmp`);
    const fh = await open(tmp, 'w');
    let bytes = 0;
    try {
      const header: SnapshotHeader = { format: 'clipflow-vectors', version: 1, generation: next, dim };
      let chunk: Buffer[] = [encodeHeader(header)];
      let chunkBytes = chunk[0]!.length;
      let count = 0;
      const flush = async () => {
        const buf = Buffer.concat(chunk);
        await writeAll(fh, buf);
        bytes += buf.length;
        chunk = [];
        chunkBytes = 0;
      };
      for (const doc of docs) {
        const rec = encodeOp({ op: 'put', doc });
        chunk.push(rec);
        chunkBytes += rec.length;
        count++;
        if (chunkBytes >= 4 << 20) await flush();
      }
      chunk.push(encodeEnd(count));
      await flush();
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The next log exists before the snapshot is published: once the rename lands there
    // is nothing left that can fail before writes move over to generation next.
    const logPath = join(this.dir, logName(next));
    const log = await open(logPath, 'a');
    try {
      await rename(tmp, join(this.dir, snapshotName(next)));
    } catch (e) {
      await log.close();
      await rm(logPath, { force: true });
      await rm(tmp, { force: true });
      throw e;
    }
    const previous = { generation: this.generation, log: this.log };
    this.log = log;
    this.generation = next;
    this.logBytes = 0;
    this.snapshotBytes = bytes;
    try {
      await syncDir(this.dir);
    } catch (e) {
      // Unsure the new names are durable: a later write acknowledged into the new log
      // could vanish with them. Refuse writes rather than risk that.
      this.broken = e as Error;
      throw e;
    }
    await previous.log?.close().catch(() => undefined);
    await rm(join(this.dir, snapshotName(previous.generation)), { force: true });
    await rm(join(this.dir, logName(previous.generation)), { force: true });
  }

  async close(): Promise<void> {
    await this.log?.close();
    this.log = undefined;
  }

  /** Bytes on disk (snapshot + log), for status and benchmarks. */
  async diskBytes(): Promise<number> {
    const sizes = await Promise.all(
      [snapshotName(this.generation), logName(this.generation)].map((n) => stat(join(this.dir, n)).then((s) => s.size, () => 0)),
    );
    return sizes.reduce((a, b) => a + b, 0);
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/** Makes a directory's new or renamed entries durable (a file's fsync does not cover its name). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
