import { Document } from '../document/document.js';
import { DocumentArray } from '../document/document-array.js';

/**
 * Copies a document deeply enough that two branches of a flow can mutate their
 * copies independently. Binary payloads (blob, tensor bytes) are shared: executors
 * replace them rather than writing into them.
 */
export function cloneDocument(d: Document): Document {
  const c = new Document({ id: d.id });
  Object.assign(c, d);
  c.tags = structuredClone(d.tags);
  if (d.embedding) c.embedding = d.embedding.slice();
  if (d.location) c.location = [...d.location];
  c.scores = structuredClone(d.scores);
  c.evaluations = structuredClone(d.evaluations);
  c.matches = cloneDocs(d.matches);
  c.chunks = cloneDocs(d.chunks);
  return c;
}

export function cloneDocs(docs: DocumentArray): DocumentArray {
  const out = new DocumentArray();
  for (const d of docs) out.push(cloneDocument(d));
  return out;
}

/**
 * Joins the outputs of several upstream executors by document id (Jina's reduce):
 * order follows the first upstream, unseen ids are appended; for a shared id,
 * fields the base lacks are filled in, tags and scores are merged, and
 * matches/chunks are appended without duplicating ids.
 */
export function mergeByDocId(arrays: DocumentArray[]): DocumentArray {
  if (arrays.length === 1) return arrays[0]!;
  const out = new DocumentArray();
  const byId = new Map<string, Document>();
  for (const docs of arrays) {
    for (const d of docs) {
      const base = byId.get(d.id);
      if (!base) {
        byId.set(d.id, d);
        out.push(d);
      } else if (base !== d) {
        mergeInto(base, d);
      }
    }
  }
  return out;
}

function mergeInto(base: Document, other: Document): void {
  for (const key of ['text', 'blob', 'tensor', 'uri', 'mimeType', 'embedding', 'granularity', 'adjacency', 'parentId', 'weight', 'modality', 'offset', 'location'] as const) {
    if (base[key] === undefined && other[key] !== undefined) (base as unknown as Record<string, unknown>)[key] = other[key];
  }
  base.tags = { ...other.tags, ...base.tags };
  base.scores = { ...other.scores, ...base.scores };
  base.evaluations = { ...other.evaluations, ...base.evaluations };
  base.matches = mergeByDocId([base.matches, other.matches]);
  base.chunks = mergeByDocId([base.chunks, other.chunks]);
}
