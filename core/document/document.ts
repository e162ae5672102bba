import { randomUUID } from 'node:crypto';
import { NdArray } from './ndarray.js';
import { DocumentArray } from './document-array.js';

/** A named relevance value, docarray's `NamedScore`. */
export interface NamedScore {
  value?: number;
  opName?: string;
  description?: string;
  refId?: string;
}

/** What a Document can be built from: every field optional, arrays accepted for nested docs. */
export interface DocumentInit {
  id?: string;
  text?: string;
  blob?: Uint8Array;
  tensor?: NdArray;
  uri?: string;
  mimeType?: string;
  tags?: Record<string, unknown>;
  embedding?: Float32Array | number[];
  matches?: Iterable<Document | DocumentInit>;
  chunks?: Iterable<Document | DocumentInit>;
  scores?: Record<string, NamedScore>;
  evaluations?: Record<string, NamedScore>;
  granularity?: number;
  adjacency?: number;
  parentId?: string;
  weight?: number;
  modality?: string;
  offset?: number;
  location?: number[];
}

/** A 32-hex-digit id, docarray's default. */
export function newDocumentId(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * The unit of data that flows through executors. Field names are camelCase here;
 * codecs translate them to docarray's snake_case on the wire.
 */
export class Document {
  id: string;
  text?: string;
  blob?: Uint8Array;
  tensor?: NdArray;
  uri?: string;
  mimeType?: string;
  tags: Record<string, unknown>;
  embedding?: Float32Array;
  matches: DocumentArray;
  chunks: DocumentArray;
  scores: Record<string, NamedScore>;
  evaluations: Record<string, NamedScore>;
  granularity?: number;
  adjacency?: number;
  parentId?: string;
  weight?: number;
  modality?: string;
  offset?: number;
  location?: number[];

  constructor(init: DocumentInit = {}) {
    this.id = init.id || newDocumentId();
    if (init.text !== undefined) this.text = init.text;
    if (init.blob !== undefined) this.blob = init.blob;
    if (init.tensor !== undefined) this.tensor = init.tensor;
    if (init.uri !== undefined) this.uri = init.uri;
    if (init.mimeType !== undefined) this.mimeType = init.mimeType;
    this.tags = init.tags ? { ...init.tags } : {};
    if (init.embedding !== undefined) {
      this.embedding = init.embedding instanceof Float32Array ? init.embedding : Float32Array.from(init.embedding);
    }
    this.matches = new DocumentArray(init.matches ?? []);
    this.chunks = new DocumentArray(init.chunks ?? []);
    this.scores = init.scores ? { ...init.scores } : {};
    this.evaluations = init.evaluations ? { ...init.evaluations } : {};
    for (const key of ['granularity', 'adjacency', 'parentId', 'weight', 'modality', 'offset', 'location'] as const) {
      if (init[key] !== undefined) (this as Record<string, unknown>)[key] = init[key];
    }
  }

  /** Which kind of content the document carries, docarray's `content_type`. */
  get contentType(): 'text' | 'blob' | 'tensor' | 'uri' | undefined {
    if (this.text) return 'text';
    if (this.blob && this.blob.byteLength > 0) return 'blob';
    if (this.tensor) return 'tensor';
    if (this.uri) return 'uri';
    return undefined;
  }
}
