import type { Logger } from 'pino';
import { BadRequestError } from '../../core/errors.js';
import type { IndexBackend, SearchHit, SearchRequest, StoredDoc } from './index-backend.js';
import type { LogOp } from './memory-log.js';
import { MemoryStore } from './memory-store.js';
import { matchesTags } from './tag-filter.js';
import { VectorMatrix } from './vector-matrix.js';

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** Folder for the log and snapshots; without one nothing is persisted. */
  dir?: string;
  /** Compact once the log reaches this many bytes (and outgrows the snapshot). Default 64 MiB. */
  compactBytes?: number;
  logger?: Logger;
}

type WithEmbedding = StoredDoc & { embedding: Float32Array };

/**
 * Exact cosine search over an in-memory matrix (see {@link VectorMatrix}),
 * optionally persisted to a workspace by {@link MemoryStore}: every write is in
 * the fsynced log before it is acknowledged and before searches can see it.
 */
export class MemoryBackend implements IndexBackend {
  readonly name = 'memory' as const;
  private matrix: VectorMatrix | undefined;
  private storedDim: number | undefined;
  private readonly store: MemoryStore | undefined;
  /** Set once everything on disk was replayed; before that, a compaction would persist a partial state. */
  private loaded = false;

  constructor(private readonly options: MemoryBackendOptions = {}) {
    this.store = options.dir ? new MemoryStore(options.dir, options.compactBytes ?? 64 << 20, options.logger) : undefined;
  }

  async open(): Promise<void> {
    if (!this.store) return;
    const dim = await this.store.load((op) => this.apply(op));
    this.loaded = true;
    if (dim !== null) this.storedDim ??= dim;
    this.options.logger?.info({ dir: this.store.dir, count: this.matrix?.size ?? 0, dim: this.storedDim }, 'memory index loaded');
  }

  dim(): number | undefined {
    return this.storedDim;
  }

  async count(): Promise<number> {
    return this.matrix?.size ?? 0;
  }

  async upsert(docs: StoredDoc[]): Promise<void> {
    const ops: LogOp[] = docs.map((doc) => {
      if (!doc.embedding) throw new TypeError(`document ${doc.id} has no embedding`);
      return { op: 'put', doc: doc as WithEmbedding };
    });
    await this.write(ops);
  }

  async existing(ids: string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => this.matrix?.has(id)));
  }

  async delete(ids: string[]): Promise<number> {
    const present = [...new Set(ids)].filter((id) => this.matrix?.has(id));
    if (present.length) await this.write(present.map((id) => ({ op: 'delete', id })));
    return present.length;
  }

  async search(request: SearchRequest): Promise<SearchHit[][]> {
    const { filter } = request;
    if (filter?.kind === 'where') {
      throw new BadRequestError('parameters.filter: a where string needs the lancedb backend; the memory backend takes an object of tag values, e.g. {"color": "red"}');
    }
    const matrix = this.matrix;
    if (!matrix) return request.queries.map(() => []);
    const accept = filter ? (row: number) => matchesTags(matrix.tagsOf(row), filter) : undefined;
    return request.queries.map((q) =>
      matrix.search(q, request.limit, accept).map(({ row, distance }) => ({ doc: matrix.doc(row, request.includeEmbeddings), distance })),
    );
  }

  async buildAnnIndex(): Promise<Record<string, unknown>> {
    throw new BadRequestError('the memory backend always searches exactly; ANN indexes need backend: lancedb');
  }

  async close(): Promise<void> {
    // A clean stop leaves one snapshot and an empty log, so the next start replays nothing.
    if (this.loaded && this.store?.hasLog()) await this.compact();
    await this.store?.close();
  }

  /** Bytes the index occupies on disk (0 without a workspace). */
  async diskBytes(): Promise<number> {
    return (await this.store?.diskBytes()) ?? 0;
  }

  /** Logs (durably, when persistent), then applies: searches never see an unacknowledged write. */
  private async write(ops: LogOp[]): Promise<void> {
    if (this.store) await this.store.append(ops);
    for (const op of ops) this.apply(op);
    if (!this.store?.shouldCompact()) return;
    try {
      await this.compact();
    } catch (e) {
      // The write itself is durable in the log; a failed compaction only delays the next one.
      this.options.logger?.warn({ err: e }, 'index compaction failed; the log keeps every write and compaction will be retried');
    }
  }

  private async compact(): Promise<void> {
    const matrix = this.matrix;
    const rows = function* (): Generator<WithEmbedding> {
      if (!matrix) return;
      for (let row = 0; row < matrix.size; row++) yield matrix.doc(row, true) as WithEmbedding;
    };
    await this.store!.compact(this.storedDim ?? null, rows());
  }

  private apply(op: LogOp): void {
    if (op.op === 'delete') {
      this.matrix?.remove(op.id);
      return;
    }
    const dim = op.doc.embedding.length;
    this.storedDim ??= dim;
    this.matrix ??= new VectorMatrix(dim);
    this.matrix.put(op.doc);
  }
}
