import { Document, type NamedScore } from '../document/document.js';
import { DocumentArray } from '../document/document-array.js';
import { NdArray } from '../document/ndarray.js';
import { BadRequestError } from '../errors.js';
import { fromStruct, toStruct, type StructObj } from './struct.js';

/** docarray's `DocumentProto` in protobufjs object form (camelCase keys). */
export interface DocumentProtoObj {
  id?: string;
  blob?: Uint8Array;
  tensor?: NdArrayProtoObj;
  text?: string;
  granularity?: number;
  adjacency?: number;
  parentId?: string;
  weight?: number;
  uri?: string;
  modality?: string;
  mimeType?: string;
  offset?: number;
  location?: number[];
  chunks?: DocumentProtoObj[];
  matches?: DocumentProtoObj[];
  embedding?: NdArrayProtoObj;
  tags?: StructObj;
  scores?: Record<string, NamedScoreObj>;
  evaluations?: Record<string, NamedScoreObj>;
}
export interface NdArrayProtoObj {
  dense?: { buffer?: Uint8Array; shape?: number[]; dtype?: string };
  sparse?: unknown;
  clsName?: string;
  parameters?: StructObj;
}
interface NamedScoreObj {
  value?: number;
  opName?: string;
  description?: string;
  refId?: string;
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function ndarrayToProto(arr: NdArray): NdArrayProtoObj {
  return { dense: { buffer: arr.buffer, shape: arr.shape, dtype: arr.dtype }, clsName: 'numpy' };
}

export function ndarrayFromProto(p: NdArrayProtoObj, where: string): NdArray {
  if (p.sparse && !p.dense) throw new BadRequestError(`${where}: sparse arrays are not supported`);
  const dense = p.dense ?? {};
  const buffer = dense.buffer ?? new Uint8Array(0);
  const shape = Array.from(dense.shape ?? [-1]);
  const arr = new NdArray(buffer, shape, dense.dtype || '<f4');
  // A sender that left out the shape (decoded as []) means a flat vector unless it holds exactly one value.
  if (shape.includes(-1) || (shape.length === 0 && arr.toTypedArray().length !== 1)) {
    return new NdArray(buffer, [arr.toTypedArray().length], arr.dtype);
  }
  return arr;
}

function scoresToProto(scores: Record<string, NamedScore>): Record<string, NamedScoreObj> | undefined {
  const keys = Object.keys(scores);
  if (!keys.length) return undefined;
  const out: Record<string, NamedScoreObj> = {};
  for (const k of keys) out[k] = { ...scores[k] };
  return out;
}

function scoresFromProto(s: Record<string, NamedScoreObj> | undefined): Record<string, NamedScore> {
  const out: Record<string, NamedScore> = {};
  for (const [k, v] of Object.entries(s ?? {})) {
    const score: NamedScore = {};
    // A map entry with no value on the wire decodes as null: an all-default score.
    if (!v) {
      out[k] = score;
      continue;
    }
    if (own(v, 'value')) score.value = v.value!;
    if (own(v, 'opName')) score.opName = v.opName!;
    if (own(v, 'description')) score.description = v.description!;
    if (own(v, 'refId')) score.refId = v.refId!;
    out[k] = score;
  }
  return out;
}

/** Document -> DocumentProto object. Only fields that are set are emitted, as Python does. */
export function documentToProto(d: Document): DocumentProtoObj {
  const p: DocumentProtoObj = { id: d.id };
  // The wire has one content slot; blob wins over tensor over text, like docarray's setter order.
  if (d.blob !== undefined) p.blob = d.blob;
  else if (d.tensor !== undefined) p.tensor = ndarrayToProto(d.tensor);
  else if (d.text !== undefined) p.text = d.text;
  if (d.granularity) p.granularity = d.granularity;
  if (d.adjacency) p.adjacency = d.adjacency;
  if (d.parentId) p.parentId = d.parentId;
  if (d.weight) p.weight = d.weight;
  if (d.uri) p.uri = d.uri;
  if (d.modality) p.modality = d.modality;
  if (d.mimeType) p.mimeType = d.mimeType;
  if (d.offset) p.offset = d.offset;
  if (d.location?.length) p.location = d.location;
  if (d.chunks.length) p.chunks = d.chunks.map(documentToProto);
  if (d.matches.length) p.matches = d.matches.map(documentToProto);
  if (d.embedding) {
    // The wire contract is '<f4'; JS executors may assign a number[] or Float64Array.
    const e: unknown = d.embedding;
    const f32 = e instanceof Float32Array ? e : Float32Array.from(e as ArrayLike<number>);
    p.embedding = ndarrayToProto(NdArray.from(f32));
  }
  if (Object.keys(d.tags).length) p.tags = toStruct(d.tags);
  const scores = scoresToProto(d.scores);
  if (scores) p.scores = scores;
  const evaluations = scoresToProto(d.evaluations);
  if (evaluations) p.evaluations = evaluations;
  return p;
}

/** DocumentProto (decoded message or object) -> Document; `where` names it in errors. */
export function documentFromProto(p: DocumentProtoObj, where = 'document'): Document {
  const d = new Document({ id: p.id || undefined });
  if (own(p, 'blob') && p.blob) d.blob = p.blob;
  if (own(p, 'tensor') && p.tensor) d.tensor = ndarrayFromProto(p.tensor, `${where}.tensor`);
  if (own(p, 'text') && p.text != null) d.text = p.text;
  if (p.granularity) d.granularity = p.granularity;
  if (p.adjacency) d.adjacency = p.adjacency;
  if (p.parentId) d.parentId = p.parentId;
  if (p.weight) d.weight = p.weight;
  if (p.uri) d.uri = p.uri;
  if (p.modality) d.modality = p.modality;
  if (p.mimeType) d.mimeType = p.mimeType;
  if (p.offset) d.offset = p.offset;
  if (p.location?.length) d.location = Array.from(p.location);
  if (p.chunks?.length) d.chunks = new DocumentArray(p.chunks.map((c, i) => documentFromProto(c, `${where}.chunks[${i}]`)));
  if (p.matches?.length) d.matches = new DocumentArray(p.matches.map((m, i) => documentFromProto(m, `${where}.matches[${i}]`)));
  if (p.embedding) {
    try {
      const f32 = ndarrayFromProto(p.embedding, `${where}.embedding`).toFloat32();
      // Own the floats: a view would pin the whole (possibly multi-MB) request buffer
      // for as long as the embedding lives, e.g. inside an in-memory index.
      d.embedding = f32.byteLength === f32.buffer.byteLength ? f32 : f32.slice();
    } catch (e) {
      throw e instanceof BadRequestError ? e : new BadRequestError(`${where}.embedding: ${(e as Error).message}`);
    }
  }
  if (p.tags) d.tags = fromStruct(p.tags, `${where}.tags`);
  if (p.scores) d.scores = scoresFromProto(p.scores);
  if (p.evaluations) d.evaluations = scoresFromProto(p.evaluations);
  return d;
}
