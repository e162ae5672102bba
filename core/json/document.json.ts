import { Document, type NamedScore } from '../document/document.js';
import { DocumentArray } from '../document/document-array.js';
import { NdArray } from '../document/ndarray.js';
import { BadRequestError } from '../errors.js';

/**
 * Document <-> Jina's HTTP JSON (docarray's `to_dict`): snake_case keys, blob as
 * base64, tensor and embedding as (nested) lists. `null` means unset.
 */
export type JsonDoc = Record<string, unknown>;

function scoreToJson(s: NamedScore): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.value !== undefined) out.value = s.value;
  if (s.opName !== undefined) out.op_name = s.opName;
  if (s.description !== undefined) out.description = s.description;
  if (s.refId !== undefined) out.ref_id = s.refId;
  return out;
}

export function documentToJson(d: Document): JsonDoc {
  const o: JsonDoc = { id: d.id };
  if (d.text !== undefined) o.text = d.text;
  if (d.blob !== undefined) o.blob = Buffer.from(d.blob.buffer, d.blob.byteOffset, d.blob.byteLength).toString('base64');
  if (d.tensor !== undefined) o.tensor = d.tensor.toNested();
  if (d.uri) o.uri = d.uri;
  if (d.mimeType) o.mime_type = d.mimeType;
  if (Object.keys(d.tags).length) o.tags = d.tags;
  if (d.embedding) o.embedding = Array.from(d.embedding);
  if (d.granularity) o.granularity = d.granularity;
  if (d.adjacency) o.adjacency = d.adjacency;
  if (d.parentId) o.parent_id = d.parentId;
  if (d.weight) o.weight = d.weight;
  if (d.modality) o.modality = d.modality;
  if (d.offset) o.offset = d.offset;
  if (d.location?.length) o.location = d.location;
  if (Object.keys(d.scores).length) o.scores = mapValues(d.scores, scoreToJson);
  if (Object.keys(d.evaluations).length) o.evaluations = mapValues(d.evaluations, scoreToJson);
  if (d.chunks.length) o.chunks = d.chunks.map(documentToJson);
  if (d.matches.length) o.matches = d.matches.map(documentToJson);
  return o;
}

function mapValues<A, B>(o: Record<string, A>, f: (a: A) => B): Record<string, B> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Field readers that name the offending path in their errors. */
class Reader {
  constructor(readonly o: JsonDoc, readonly where: string) {}
  private get(key: string, ...alt: string[]): unknown {
    for (const k of [key, ...alt]) if (this.o[k] !== undefined && this.o[k] !== null) return this.o[k];
    return undefined;
  }
  string(key: string, ...alt: string[]): string | undefined {
    const v = this.get(key, ...alt);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && key === 'id') return String(v);
    if (typeof v !== 'string') throw new BadRequestError(`${this.where}.${key}: expected a string, got ${typeName(v)}`);
    return v;
  }
  number(key: string, ...alt: string[]): number | undefined {
    const v = this.get(key, ...alt);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequestError(`${this.where}.${key}: expected a number, got ${typeName(v)}`);
    return v;
  }
  object(key: string): Record<string, unknown> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`${this.where}.${key}: expected an object, got ${typeName(v)}`);
    return v as Record<string, unknown>;
  }
  list(key: string): unknown[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) throw new BadRequestError(`${this.where}.${key}: expected a list, got ${typeName(v)}`);
    return v;
  }
  raw(key: string): unknown {
    return this.get(key);
  }
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function scoresFromJson(o: Record<string, unknown> | undefined, where: string): Record<string, NamedScore> {
  const out: Record<string, NamedScore> = {};
  for (const [k, v] of Object.entries(o ?? {})) {
    if (typeof v === 'number') {
      out[k] = { value: v };
      continue;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BadRequestError(`${where}.${k}: expected an object like {"value": 0.5}`);
    const r = new Reader(v as JsonDoc, `${where}.${k}`);
    const s: NamedScore = {};
    const value = r.number('value');
    if (value !== undefined) s.value = value;
    const opName = r.string('op_name', 'opName');
    if (opName !== undefined) s.opName = opName;
    const description = r.string('description');
    if (description !== undefined) s.description = description;
    const refId = r.string('ref_id', 'refId');
    if (refId !== undefined) s.refId = refId;
    out[k] = s;
  }
  return out;
}

function arrayFromJson(v: unknown, where: string, dtype?: string): NdArray {
  if (typeof v === 'number') return NdArray.fromNested([v], dtype);
  if (!Array.isArray(v)) throw new BadRequestError(`${where}: expected a list of numbers, got ${typeName(v)}`);
  try {
    return NdArray.fromNested(v, dtype);
  } catch (e) {
    throw new BadRequestError(`${where}: ${(e as Error).message}`);
  }
}

/**
 * Nesting of chunks/matches accepted from JSON: the same bound protobufjs puts on
 * binary messages, so a hostile body gets a 400 instead of exhausting the stack.
 */
export const MAX_DOCUMENT_DEPTH = 100;

/**
 * Standard or URL-safe base64, padded or not, whitespace ignored; anything else is
 * a BadRequestError naming `where`. Image blobs are hundreds of kB, so the usual
 * case (whole 4-character groups, nothing but base64) is checked by decoding once:
 * Node's decoder skips every character it cannot use and stops at '=', so the
 * byte count comes out exactly right only for such strings. Others take the
 * character-by-character check.
 */
export function decodeBase64(text: string, where: string): Uint8Array {
  if (text.length % 4 === 0) {
    const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    const bytes = Buffer.from(text, 'base64');
    if (bytes.length === (text.length / 4) * 3 - pad) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  const compact = text.replace(/\s+/g, '');
  // Node's decoder silently drops what it cannot use ("a" decodes to 0 bytes), so check the
  // length too: unpadded input can't leave 1 char over, padded input is whole 4-char groups.
  const badLength = compact.length % 4 === 1 || (compact.endsWith('=') && compact.length % 4 !== 0);
  if (!BASE64.test(compact) || badLength) throw new BadRequestError(`${where}: not valid base64`);
  return new Uint8Array(Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64'));
}

/** Parses one JSON document; throws BadRequestError naming `where` (e.g. `data[2].blob`). */
export function documentFromJson(value: unknown, where = 'document', depth = 0): Document {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadRequestError(`${where}: expected a document object, got ${typeName(value)}`);
  }
  if (depth > MAX_DOCUMENT_DEPTH) throw new BadRequestError(`${where}: documents nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);
  const r = new Reader(value as JsonDoc, where);
  const d = new Document({ id: r.string('id') });
  const text = r.string('text');
  if (text !== undefined) d.text = text;
  const blob = r.string('blob');
  if (blob !== undefined) d.blob = decodeBase64(blob, `${where}.blob`);
  const tensor = r.raw('tensor');
  if (tensor !== undefined) d.tensor = arrayFromJson(tensor, `${where}.tensor`, typeof r.raw('dtype') === 'string' ? (r.raw('dtype') as string) : undefined);
  const uri = r.string('uri');
  if (uri !== undefined) d.uri = uri;
  const mime = r.string('mime_type', 'mimeType');
  if (mime !== undefined) d.mimeType = mime;
  const tags = r.object('tags');
  if (tags) d.tags = tags;
  const emb = r.raw('embedding');
  if (emb !== undefined) d.embedding = arrayFromJson(emb, `${where}.embedding`).toFloat32();
  for (const key of ['granularity', 'adjacency', 'weight', 'offset'] as const) {
    const v = r.number(key);
    if (v !== undefined) (d as unknown as Record<string, number>)[key] = v;
  }
  const parent = r.string('parent_id', 'parentId');
  if (parent !== undefined) d.parentId = parent;
  const modality = r.string('modality');
  if (modality !== undefined) d.modality = modality;
  const location = r.list('location');
  if (location) d.location = location.map((x, i) => {
    if (typeof x !== 'number') throw new BadRequestError(`${where}.location[${i}]: expected a number`);
    return x;
  });
  d.scores = scoresFromJson(r.object('scores'), `${where}.scores`);
  d.evaluations = scoresFromJson(r.object('evaluations'), `${where}.evaluations`);
  const chunks = r.list('chunks');
  if (chunks) d.chunks = new DocumentArray(chunks.map((c, i) => documentFromJson(c, `${where}.chunks[${i}]`, depth + 1)));
  const matches = r.list('matches');
  if (matches) d.matches = new DocumentArray(matches.map((m, i) => documentFromJson(m, `${where}.matches[${i}]`, depth + 1)));
  return d;
}

export function documentsFromJson(value: unknown, where = 'data'): DocumentArray {
  if (value === undefined || value === null) return new DocumentArray();
  let list: unknown = value;
  // Jina accepts both `"data": [...]` and `"data": {"docs": [...]}`.
  if (!Array.isArray(list) && typeof list === 'object' && Array.isArray((list as JsonDoc).docs)) {
    list = (list as JsonDoc).docs;
    where = `${where}.docs`;
  }
  if (!Array.isArray(list)) throw new BadRequestError(`${where}: expected a list of documents, got ${typeName(value)}`);
  return new DocumentArray(list.map((d, i) => withDocumentId(d, () => documentFromJson(d, `${where}[${i}]`))));
}

/** Adds the document's id (when it sent one) to a parse error, so the caller can find it. */
function withDocumentId(raw: unknown, parse: () => Document): Document {
  try {
    return parse();
  } catch (e) {
    const id = raw && typeof raw === 'object' ? (raw as JsonDoc).id : undefined;
    if (!(e instanceof BadRequestError) || (typeof id !== 'string' && typeof id !== 'number')) throw e;
    throw new BadRequestError(`${e.message} (document id ${JSON.stringify(String(id).slice(0, 64))})`, { cause: e });
  }
}
