import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Document } from '../../core/document/document.js';
import { DocumentArray } from '../../core/document/document-array.js';
import { BadRequestError, FlowConfigError, NotFoundError } from '../../core/errors.js';
import { requests } from '../../core/executor/decorators.js';
import { Executor, type ExecutorContext, type HandlerArgs } from '../../core/executor/executor.js';
import { syncCreatedDirs } from './dir-sync.js';
import type { IndexBackend, SearchHit, StoredDoc } from './index-backend.js';
import { MemoryBackend } from './memory.backend.js';
import { parseFilter } from './tag-filter.js';
import { annOptions, parseIndexerArgs, positiveIntParam, type IndexerSettings } from './vector-indexer.config.js';
import { WorkspaceLock } from './workspace-lock.js';

/** Matches per query when `parameters.limit` is not given (docarray's default). */
const DEFAULT_LIMIT = 10;
/** A bound on one reply's size: 100k matches per query is already a bulk export, not a search. */
const MAX_LIMIT = 100_000;

/**
 * Stores documents with their embeddings and finds the nearest ones by cosine
 * (Jina's indexer after an encoder). `with: { backend: lancedb | memory,
 * workspace?, table: 'docs', metric: cosine, ann? }`.
 *
 * Endpoints: `/index` (add or replace by id), `/search` (`matches` with
 * `scores.cosine` = cosine distance, ascending), `/update` (replace; unknown ids
 * are an error), `/delete` (by id), `/status` (`{count, dim, backend}` in
 * `parameters.__results__`), `/build_index` (lancedb ANN index).
 * A persistent indexer locks its workspace: a second replica fails to start.
 */
export class VectorIndexer extends Executor {
  private readonly settings: IndexerSettings;
  private backend: IndexBackend | undefined;
  private lock: WorkspaceLock | undefined;
  /** Writes run one at a time, in arrival order; searches do not wait for them. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(args: Record<string, unknown> = {}, context?: ExecutorContext) {
    super(args, context);
    this.settings = parseIndexerArgs(args, context?.workspace);
    if (!this.settings.workspace && (context?.replicas ?? 1) > 1) {
      // Each replica would hold its own part of the data and answer searches from it alone.
      throw new FlowConfigError('replicas of an in-memory VectorIndexer would each hold a different part of the index; use replicas: 1', 'replicas');
    }
  }

  override async init(): Promise<void> {
    const { workspace, table, ignored } = this.settings;
    if (ignored.length) this.logger?.debug({ keys: ignored }, 'VectorIndexer ignores these with: keys');
    if (workspace) {
      await syncCreatedDirs(await mkdir(workspace, { recursive: true }), workspace);
      this.lock = WorkspaceLock.acquire(workspace, table, `VectorIndexer ${this.name}`);
    }
    let store: IndexBackend | undefined;
    try {
      store = await this.createBackend();
      await store.open();
    } catch (e) {
      await store?.close().catch(() => undefined);
      this.lock?.release();
      this.lock = undefined;
      throw e;
    }
    this.backend = store;
  }

  private async createBackend(): Promise<IndexBackend> {
    const { workspace, backend, table, ann, optimizeEvery, compactBytes } = this.settings;
    if (backend === 'memory') {
      return new MemoryBackend({ dir: workspace ? resolve(workspace, `${table}.memory`) : undefined, compactBytes, logger: this.logger });
    }
    // LanceDB (a native module) and Arrow load only when a flow uses them.
    const { LanceDbBackend } = await import('./lancedb.backend.js');
    return new LanceDbBackend({ dir: workspace!, table, ann, optimizeEvery, logger: this.logger });
  }

  override async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    try {
      await this.backend?.close();
    } finally {
      this.backend = undefined;
      this.lock?.release();
      this.lock = undefined;
    }
  }

  @requests('/index')
  async index({ docs }: HandlerArgs): Promise<void> {
    const stored = storedDocs(docs, '/index');
    if (!stored.length) return;
    await this.serial(async (backend) => {
      checkDims(stored, backend.dim());
      await backend.upsert(stored);
    });
  }

  @requests('/update')
  async update({ docs }: HandlerArgs): Promise<void> {
    const stored = storedDocs(docs, '/update');
    if (!stored.length) return;
    await this.serial(async (backend) => {
      checkDims(stored, backend.dim());
      // Checked under the write lock, so no delete can slip in between check and write.
      const known = await backend.existing(stored.map((d) => d.id));
      const unknown = [...new Set(stored.map((d) => d.id).filter((id) => !known.has(id)))];
      if (unknown.length) {
        throw new NotFoundError(`cannot update documents that are not indexed: ${listIds(unknown)}; nothing was changed (use /index to add documents)`);
      }
      await backend.upsert(stored);
    });
  }

  @requests('/delete')
  async delete({ docs }: HandlerArgs): Promise<Record<string, unknown>> {
    const ids = docs.map((d) => d.id);
    const deleted = ids.length ? await this.serial((backend) => backend.delete(ids)) : 0;
    return { deleted };
  }

  @requests('/search')
  async search({ docs, parameters }: HandlerArgs): Promise<void> {
    const backend = this.ready();
    const limit = positiveIntParam(parameters.limit ?? parameters.top_k, 'limit') ?? DEFAULT_LIMIT;
    if (limit > MAX_LIMIT) throw new BadRequestError(`parameters.limit: at most ${MAX_LIMIT} matches per query, got ${limit}`);
    const filter = parseFilter(parameters.filter);
    const dim = backend.dim();
    const queries = docs.map((d, i) => {
      if (!d.embedding) throw new BadRequestError(`query document ${d.id} (index ${i}) has no embedding; put an encoder before the indexer or send embeddings`);
      if (dim !== undefined && d.embedding.length !== dim) throw new BadRequestError(`expected ${dim}-d embeddings, query document ${d.id} has ${d.embedding.length}`);
      return d.embedding;
    });
    if (!queries.length) return;
    const hits = await backend.search({
      queries,
      limit,
      filter,
      includeEmbeddings: parameters.include_embeddings === true,
      exact: parameters.exact === true,
      nprobes: positiveIntParam(parameters.nprobes, 'nprobes'),
      refineFactor: positiveIntParam(parameters.refine_factor, 'refine_factor'),
    });
    docs.forEach((d, i) => (d.matches = new DocumentArray(hits[i]!.map(toMatch))));
  }

  @requests('/status')
  async status(): Promise<Record<string, unknown>> {
    const backend = this.ready();
    return { count: await backend.count(), dim: backend.dim() ?? null, backend: backend.name };
  }

  @requests('/build_index')
  async buildIndex({ parameters }: HandlerArgs): Promise<Record<string, unknown>> {
    const options = annOptions(parameters, 'parameters');
    return this.serial((backend) => backend.buildAnnIndex(options));
  }

  private ready(): IndexBackend {
    if (!this.backend) throw new Error('VectorIndexer used before init() or after close()');
    return this.backend;
  }

  /** Runs a write after every earlier one has finished (failed or not). */
  private serial<T>(fn: (backend: IndexBackend) => Promise<T>): Promise<T> {
    const backend = this.ready();
    const run = this.writes.then(() => fn(backend), () => fn(backend));
    this.writes = run.catch(() => undefined);
    return run;
  }
}

/** The documents of a write as stored records; every one must carry a finite embedding. */
function storedDocs(docs: DocumentArray, endpoint: string): StoredDoc[] {
  return docs.map((d, i) => {
    const e = d.embedding;
    if (!e || e.length === 0) {
      throw new BadRequestError(`document ${d.id} (index ${i}) has no embedding to store on ${endpoint}; put an encoder before the indexer or send embeddings`);
    }
    if (!e.every(Number.isFinite)) throw new BadRequestError(`document ${d.id} (index ${i}) has a non-finite value in its embedding`);
    const doc: StoredDoc = { id: d.id, tags: d.tags, embedding: e };
    if (d.text) doc.text = d.text;
    if (d.uri) doc.uri = d.uri;
    if (d.mimeType) doc.mimeType = d.mimeType;
    return doc;
  });
}

/** Every vector must have the stored size; the first write of a new index sets it. */
function checkDims(docs: StoredDoc[], stored: number | undefined): void {
  const expected = stored ?? docs[0]!.embedding!.length;
  const bad = docs.find((d) => d.embedding!.length !== expected);
  if (bad) throw new BadRequestError(`expected ${expected}-d embeddings, document ${bad.id} has ${bad.embedding!.length}`);
}

function toMatch(hit: SearchHit): Document {
  const { doc, distance } = hit;
  return new Document({ ...doc, tags: doc.tags, scores: { cosine: { value: distance, opName: 'cosine' } } });
}

function listIds(ids: string[]): string {
  return ids.length <= 10 ? ids.join(', ') : `${ids.slice(0, 10).join(', ')} and ${ids.length - 10} more`;
}
