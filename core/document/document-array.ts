import { Document, type DocumentInit } from './document.js';

/**
 * An ordered list of Documents with id lookup and Jina's access paths.
 * It is a real Array (indexable, iterable); `map`/`filter` return plain arrays.
 */
export class DocumentArray extends Array<Document> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** `new DocumentArray([{ text: 'a' }, doc])`: Documents or Document inits. */
  constructor(items?: Iterable<Document | DocumentInit> | number) {
    super();
    // Array internals may call the constructor with a length; honour that form too.
    if (typeof items === 'number') this.length = items;
    else if (items) for (const d of items) this.push(d instanceof Document ? d : new Document(d));
  }

  /** The document with this id, if any (linear scan; use `indexById` for many lookups). */
  byId(id: string): Document | undefined {
    return this.find((d) => d.id === id);
  }

  /** A map from id to document. */
  indexById(): Map<string, Document> {
    return new Map(this.map((d) => [d.id, d] as const));
  }

  /** Every embedding, in order; undefined where a document has none. */
  get embeddings(): Array<Float32Array | undefined> {
    return this.map((d) => d.embedding);
  }

  /** Every text, in order. */
  get texts(): Array<string | undefined> {
    return this.map((d) => d.text);
  }

  /**
   * Documents reached by a Jina access path: `@r` roots, `@c` chunks, `@m` matches,
   * combined like `@cm` (matches of chunks) and listed with commas (`@r,m`).
   */
  traverse(accessPaths: string): DocumentArray {
    const out = new DocumentArray();
    for (const path of parseAccessPaths(accessPaths)) collect(this, path, out);
    return out;
  }
}

/** Splits `@r,cm` into ['r', 'cm']; throws on letters other than r, c, m. */
export function parseAccessPaths(spec: string): string[] {
  const body = spec.trim().replace(/^@/, '');
  if (!body) throw new TypeError(`empty access path "${spec}"`);
  return body.split(',').map((p) => {
    const path = p.trim();
    if (!/^(r|[cm]+)$/.test(path)) throw new TypeError(`invalid access path "${spec}": each part is "r" or a sequence of "c" and "m"`);
    return path;
  });
}

function collect(docs: DocumentArray, path: string, out: DocumentArray): void {
  if (path === 'r' || path === '') {
    // A loop, not push(...docs): spreading >~100k arguments overflows the stack.
    for (const d of docs) out.push(d);
    return;
  }
  const step = path[0] === 'c' ? 'chunks' : 'matches';
  for (const d of docs) collect(d[step], path.slice(1), out);
}
