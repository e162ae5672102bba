import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';
import type { StoredDoc } from './index-backend.js';
import { tagPairs } from './tag-filter.js';

// apache-arrow ships CommonJS and ESM builds; LanceDB `require`s the CommonJS one and
// checks `instanceof` against its classes. An ESM import would give a second copy
// whose tables LanceDB rejects, so take the very module LanceDB uses.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof Arrow;
const { Field, FixedSizeList, Float32, List, Schema, Table, Utf8, makeData, makeVector, vectorFromArray } = arrow;
type Schema = Arrow.Schema;
type Table = Arrow.Table;
type DataType = Arrow.DataType;
type FixedSizeList<T extends Arrow.DataType> = Arrow.FixedSizeList<T>;
type Float32 = Arrow.Float32;
type List<T extends Arrow.DataType> = Arrow.List<T>;
type Utf8 = Arrow.Utf8;

/**
 * The table's columns. `tags` keeps the JSON as given; `tag_kv` holds one
 * canonical `["name",value]` string per tag, so tag equality is an `array_has`
 * over literal strings (this LanceDB's JSON functions need its JSONB type, which
 * its JS writer cannot produce).
 */
export function tableSchema(dim: number): Schema {
  return new Schema([
    new Field('id', new Utf8(), false),
    new Field('text', new Utf8(), true),
    new Field('uri', new Utf8(), true),
    new Field('mime_type', new Utf8(), true),
    new Field('tags', new Utf8(), false),
    new Field('tag_kv', new List(new Field('item', new Utf8(), true)), false),
    new Field('vector', new FixedSizeList(dim, new Field('item', new Float32(), true)), false),
  ]);
}

/** The vector column's size in a table schema. */
export function vectorDimOf(schema: Schema): number {
  const type = schema.fields.find((f) => f.name === 'vector')?.type as DataType | undefined;
  if (!(type instanceof FixedSizeList) && !(type && 'listSize' in type)) throw new Error('the LanceDB table has no fixed-size "vector" column');
  return (type as FixedSizeList<Float32>).listSize;
}

/** Documents as one Arrow table, the vectors copied into one flat Float32Array (no per-element JS objects). */
export function toArrowTable(docs: StoredDoc[], dim: number): Table {
  const schema = tableSchema(dim);
  const flat = new Float32Array(docs.length * dim);
  docs.forEach((d, i) => flat.set(d.embedding!, i * dim));
  const vectorType = schema.fields[6]!.type as FixedSizeList<Float32>;
  const values = makeData({ type: new Float32(), length: flat.length, data: flat });
  const vectors = makeData({ type: vectorType, length: docs.length, nullCount: 0, child: values });
  const utf8 = (values: Array<string | undefined>) => vectorFromArray(values.map((v) => v ?? null), new Utf8());
  return new Table(schema, {
    id: utf8(docs.map((d) => d.id)),
    text: utf8(docs.map((d) => d.text)),
    uri: utf8(docs.map((d) => d.uri)),
    mime_type: utf8(docs.map((d) => d.mimeType)),
    tags: utf8(docs.map((d) => JSON.stringify(d.tags))),
    tag_kv: vectorFromArray(docs.map((d) => tagPairs(d.tags)), schema.fields[5]!.type as List<Utf8>),
    vector: makeVector(vectors),
  });
}

/** A result row back as a stored document. */
export function fromRow(row: Record<string, unknown>, withEmbedding: boolean): StoredDoc {
  const doc: StoredDoc = { id: String(row.id), tags: parseTags(row.tags) };
  if (typeof row.text === 'string') doc.text = row.text;
  if (typeof row.uri === 'string') doc.uri = row.uri;
  if (typeof row.mime_type === 'string') doc.mimeType = row.mime_type;
  if (withEmbedding && row.vector) {
    const v = row.vector as { toArray?: () => ArrayLike<number> } | ArrayLike<number>;
    const values = 'toArray' in v && typeof v.toArray === 'function' ? v.toArray() : (v as ArrayLike<number>);
    doc.embedding = Float32Array.from(values);
  }
  return doc;
}

function parseTags(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string' || !raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
