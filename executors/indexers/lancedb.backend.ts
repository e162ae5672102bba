import * as lancedb from '@lancedb/lancedb';
import type { Logger } from 'pino';
import { BadRequestError, errorMessage } from '../../core/errors.js';
import { DirectorySync } from './dir-sync.js';
import type { AnnIndexOptions, IndexBackend, SearchHit, SearchRequest, StoredDoc } from './index-backend.js';
import { fromRow, tableSchema, toArrowTable, vectorDimOf } from './lance-rows.js';
import { sqlIdList, tagPairsWhere } from './tag-filter.js';

/** Options of {@link LanceDbBackend}. */
export interface LanceDbBackendOptions {
  /** The LanceDB database folder (the workspace). */
  dir: string;
  table: string;
  /** Build an ANN index by itself once the table has `minRows` rows (`with: { ann }`). */
  ann?: AnnIndexOptions & { minRows: number };
  /** Compact fragments and drop old versions every this many writes (default 50). */
  optimizeEvery?: number;
  logger?: Logger;
}

/** Ids per SQL `IN (...)` list. */
const ID_CHUNK = 512;
/** Versions a running search may still read are kept this long by the periodic cleanup. */
const KEEP_VERSIONS_MS = 5 * 60_000;

/**
 * A LanceDB table on the local disk: one row per document (id, text, uri,
 * mime_type, tags as JSON, tag pairs for filtering, vector). Searches are exact
 * flat scans unless an ANN index was built; writes are merge-inserts on `id`,
 * fsynced (see {@link DirectorySync}) before they resolve.
 */
export class LanceDbBackend implements IndexBackend {
  readonly name = 'lancedb' as const;
  private db: lancedb.Connection | undefined;
  private table: lancedb.Table | undefined;
  private storedDim: number | undefined;
  private annIndex: string | undefined;
  private writes = 0;
  private readonly durable: DirectorySync;

  constructor(private readonly options: LanceDbBackendOptions) {
    this.durable = new DirectorySync(`${options.dir}/${options.table}.lance`);
  }

  async open(): Promise<void> {
    this.db = await lancedb.connect(this.options.dir);
    if ((await this.db.tableNames()).includes(this.options.table)) {
      this.table = await this.db.openTable(this.options.table);
      this.storedDim = vectorDimOf(await this.table.schema());
      await this.refreshIndexInfo();
      await this.durable.syncChanges();
    }
    await this.maybeBuildAnn();
    this.options.logger?.info({ dir: this.options.dir, table: this.options.table, count: await this.count(), dim: this.storedDim, ann: this.annIndex }, 'lancedb index opened');
  }

  dim(): number | undefined {
    return this.storedDim;
  }

  /** The vector index's type (e.g. IVF_PQ), or undefined while searches are flat scans. */
  annIndexType(): string | undefined {
    return this.annIndex;
  }

  async count(): Promise<number> {
    return this.table ? this.table.countRows() : 0;
  }

  async upsert(docs: StoredDoc[]): Promise<void> {
    if (!docs.length) return;
    // merge_insert refuses two source rows for one key: keep the last, as sequential puts would.
    const last = new Map(docs.map((d) => [d.id, d]));
    const unique = [...last.values()];
    const table = await this.ensureTable(unique[0]!.embedding!.length);
    await table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(toArrowTable(unique, this.storedDim!));
    await this.afterWrite();
  }

  async existing(ids: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    if (!this.table) return found;
    for (let i = 0; i < ids.length; i += ID_CHUNK) {
      const rows = await this.table.query().where(sqlIdList('id', ids.slice(i, i + ID_CHUNK))).select(['id']).toArray();
      for (const r of rows) found.add(String((r as { id: string }).id));
    }
    return found;
  }

  async delete(ids: string[]): Promise<number> {
    if (!this.table || !ids.length) return 0;
    const unique = [...new Set(ids)];
    let deleted = 0;
    for (let i = 0; i < unique.length; i += ID_CHUNK) {
      deleted += (await this.table.delete(sqlIdList('id', unique.slice(i, i + ID_CHUNK)))).numDeletedRows;
    }
    await this.afterWrite();
    return deleted;
  }

  async search(request: SearchRequest): Promise<SearchHit[][]> {
    const table = this.table;
    if (!table) return request.queries.map(() => []);
    const where = request.filter?.kind === 'where' ? request.filter.where : request.filter ? tagPairsWhere('tag_kv', request.filter) : undefined;
    const columns = ['id', 'text', 'uri', 'mime_type', 'tags', '_distance', ...(request.includeEmbeddings ? ['vector'] : [])];
    const one = async (q: Float32Array): Promise<SearchHit[]> => {
      let query = table.vectorSearch(q).distanceType('cosine').limit(request.limit).select(columns);
      if (where) query = query.where(where);
      if (this.annIndex && !request.exact) {
        if (request.nprobes) query = query.nprobes(request.nprobes);
        if (request.refineFactor) query = query.refineFactor(request.refineFactor);
      } else if (this.annIndex) {
        query = query.bypassVectorIndex();
      }
      const rows = (await query.toArray()) as Array<Record<string, unknown>>;
      return rows.map((r) => ({ doc: fromRow(r, request.includeEmbeddings), distance: Number(r._distance) }));
    };
    try {
      return await Promise.all(request.queries.map(one));
    } catch (e) {
      // Only the caller's where string can make a valid query fail to plan.
      if (request.filter?.kind === 'where') throw new BadRequestError(`parameters.filter: LanceDB cannot apply "${request.filter.where}": ${firstLine(e)}`);
      throw e;
    }
  }

  async buildAnnIndex(options: AnnIndexOptions): Promise<Record<string, unknown>> {
    const table = this.table;
    const rows = await this.count();
    if (!table || rows < 2) throw new BadRequestError(`an ANN index needs indexed documents; the table has ${rows}`);
    const { type, numPartitions, numSubVectors } = options;
    const config =
      type === 'IVF_FLAT'
        ? lancedb.Index.ivfFlat({ distanceType: 'cosine', ...(numPartitions ? { numPartitions } : {}) })
        : lancedb.Index.ivfPq({ distanceType: 'cosine', ...(numPartitions ? { numPartitions } : {}), ...(numSubVectors ? { numSubVectors } : {}) });
    const started = performance.now();
    try {
      await table.createIndex('vector', { config, replace: true });
    } catch (e) {
      throw new BadRequestError(`cannot build a ${type} index over ${rows} rows: ${firstLine(e)}`);
    }
    await this.durable.syncChanges();
    await this.refreshIndexInfo();
    return { index: type, rows, seconds: (performance.now() - started) / 1000 };
  }

  async close(): Promise<void> {
    this.table?.close();
    this.db?.close();
    this.table = undefined;
    this.db = undefined;
  }

  private async ensureTable(dim: number): Promise<lancedb.Table> {
    if (this.table) return this.table;
    this.table = await this.db!.createEmptyTable(this.options.table, tableSchema(dim), { existOk: true });
    this.storedDim = vectorDimOf(await this.table.schema());
    return this.table;
  }

  /** fsyncs the write; now and then compacts fragments (a scan's cost grows with their count). */
  private async afterWrite(): Promise<void> {
    if (++this.writes % (this.options.optimizeEvery ?? 50) === 0) {
      await this.table!.optimize({ cleanupOlderThan: new Date(Date.now() - KEEP_VERSIONS_MS) });
    }
    await this.durable.syncChanges();
    await this.maybeBuildAnn();
  }

  private async maybeBuildAnn(): Promise<void> {
    const ann = this.options.ann;
    if (!ann || this.annIndex || !this.table || (await this.count()) < ann.minRows) return;
    const result = await this.buildAnnIndex(ann);
    this.options.logger?.info(result, 'built the ANN index');
  }

  private async refreshIndexInfo(): Promise<void> {
    const indices = (await this.table?.listIndices()) ?? [];
    // LanceDB reports e.g. "IvfPq"; we speak its index-builder names ("IVF_PQ").
    this.annIndex = indices.find((i) => i.columns.includes('vector'))?.indexType.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
  }
}

function firstLine(e: unknown): string {
  return errorMessage(e).split('\n')[0]!.replace(/, \/[^ ]+\.rs:\d+:\d+/g, '').slice(0, 500);
}
