import type { TagFilter } from './tag-filter.js';

/** The names `with: { backend }` accepts. */
export const INDEX_BACKENDS = ['lancedb', 'memory'] as const;
export type IndexBackendName = (typeof INDEX_BACKENDS)[number];

/** What an indexer keeps of a Document: its id, content reference, tags and embedding. */
export interface StoredDoc {
  id: string;
  text?: string;
  uri?: string;
  mimeType?: string;
  tags: Record<string, unknown>;
  /** The embedding as it was indexed (not normalised); absent in hits unless asked for. */
  embedding?: Float32Array;
}

/** One nearest neighbour: the stored document and its cosine distance (1 - cos) to the query. */
export interface SearchHit {
  doc: StoredDoc;
  distance: number;
}

/** One batch of nearest-neighbour queries. */
export interface SearchRequest {
  queries: Float32Array[];
  limit: number;
  /** Tag equality (object form) or, on lancedb, a where string. */
  filter?: TagFilter;
  includeEmbeddings: boolean;
  /** Skip an ANN index even when one was built (lancedb). */
  exact?: boolean;
  /** ANN tuning (lancedb IVF indexes): partitions probed, re-ranking factor. */
  nprobes?: number;
  refineFactor?: number;
}

/** Options of an ANN index build (lancedb only). */
export interface AnnIndexOptions {
  type: 'IVF_PQ' | 'IVF_FLAT';
  numPartitions?: number;
  numSubVectors?: number;
}

/**
 * Storage and nearest-neighbour search behind the VectorIndexer. Writes are
 * durable when their promise resolves; the executor serialises them, so an
 * implementation may assume one write at a time (searches run alongside).
 */
export interface IndexBackend {
  readonly name: IndexBackendName;
  /** Loads or creates the stored state. */
  open(): Promise<void>;
  /** Embedding size of the stored vectors; undefined while the index is empty and new. */
  dim(): number | undefined;
  count(): Promise<number>;
  /** Adds documents, replacing stored ones with the same id (the last of duplicate ids wins). */
  upsert(docs: StoredDoc[]): Promise<void>;
  /** Which of these ids are stored. */
  existing(ids: string[]): Promise<Set<string>>;
  /** Removes these ids; unknown ids are ignored. Resolves to how many were removed. */
  delete(ids: string[]): Promise<number>;
  /** For each query, up to `limit` hits ordered by ascending cosine distance. */
  search(request: SearchRequest): Promise<SearchHit[][]>;
  /** Builds an approximate index; backends that are always exact refuse. */
  buildAnnIndex(options: AnnIndexOptions): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}
