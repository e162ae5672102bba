import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, type DocumentInit } from '../document/document.js';
import { DocumentArray } from '../document/document-array.js';

/** One input: a sentence or image reference as a string, a Document, or a Document's init object. */
export type ClientInput = string | Document | DocumentInit;
/** One input, or any (async) iterable of them; iterables are consumed lazily. */
export type ClientInputs<T extends ClientInput = ClientInput> = T | Iterable<T> | AsyncIterable<T>;

/** An input turned into the Document that goes on the wire. */
export interface PreparedInput {
  /** What is sent: a copy when the client had to load a file, so the caller's object stays as it was. */
  doc: Document;
  /** The caller's Document (or the one built from its init object); absent for string inputs. */
  original?: Document;
  /** The caller's string, for string inputs. */
  source?: string;
}

const IMAGE_MIME: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.gif': 'image/gif', '.webp': 'image/webp',
  '.bmp': 'image/bmp', '.tif': 'image/tiff', '.tiff': 'image/tiff', '.avif': 'image/avif',
};

/** The image MIME type implied by a path's or URL path's extension, if it is an image extension. */
export function imageMimeType(path: string): string | undefined {
  return IMAGE_MIME[extname(path).toLowerCase()];
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** A `file://` URL or a scheme-less path as a filesystem path; undefined for other URIs. */
function localPath(uri: string): string | undefined {
  if (/^file:\/\//i.test(uri)) {
    try {
      return fileURLToPath(uri);
    } catch {
      return undefined;
    }
  }
  return SCHEME.test(uri) ? undefined : uri;
}

async function isFile(path: string): Promise<boolean> {
  // Long or multi-line strings are sentences; don't ask the filesystem about them.
  if (path.length > 4096 || path.includes('\n')) return false;
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * A string as clip_client reads it: a `data:` URI, an http(s) URL to an image
 * file, or an existing local image file is an image; anything else is text.
 * Local files are read here (sent as `blob` + `mimeType`): the server never
 * reads the client's paths.
 */
export async function documentFromString(s: string): Promise<Document> {
  if (/^data:/i.test(s)) return new Document({ uri: s });
  if (/^https?:\/\//i.test(s)) {
    let pathname = '';
    try {
      pathname = new URL(s).pathname;
    } catch {
      return new Document({ text: s });
    }
    return imageMimeType(pathname) ? new Document({ uri: s }) : new Document({ text: s });
  }
  const path = localPath(s);
  const mimeType = path === undefined ? undefined : imageMimeType(path);
  if (path !== undefined && mimeType && (await isFile(path))) {
    return new Document({ blob: new Uint8Array(await readFile(path)), mimeType });
  }
  return new Document({ text: s });
}

/**
 * The wire form of a caller's Document: unchanged, unless its only content is a
 * local-file `uri`, which is loaded into `blob` on a shallow copy (like
 * clip_client's `load_uri_to_blob`, without touching the caller's object).
 */
export async function prepareDocument(doc: Document): Promise<Document> {
  if (doc.text || (doc.blob && doc.blob.byteLength) || doc.tensor || !doc.uri) return doc;
  const path = localPath(doc.uri);
  if (path === undefined) return doc;
  let blob: Buffer;
  try {
    blob = await readFile(path);
  } catch (e) {
    throw new TypeError(`document ${doc.id}: cannot read its uri ${doc.uri}: ${(e as Error).message}`);
  }
  const copy = Object.assign(Object.create(Object.getPrototypeOf(doc) as object) as Document, doc);
  copy.blob = new Uint8Array(blob);
  copy.mimeType ??= imageMimeType(path);
  // The path means nothing on the server (which refuses bare paths); the blob is the content.
  delete copy.uri;
  return copy;
}

/** A rank query: the root and each match prepared; the caller's objects stay untouched. */
export async function prepareRankDocument(doc: Document): Promise<Document> {
  if (!doc.matches?.length) {
    throw new TypeError(`rank() needs every document to carry matches; document ${doc.id} has none`);
  }
  const root = await prepareDocument(doc);
  const matches = await Promise.all(doc.matches.map(prepareDocument));
  const copy = root === doc ? Object.assign(Object.create(Object.getPrototypeOf(doc) as object) as Document, doc) : root;
  copy.matches = new DocumentArray(matches);
  return copy;
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

/** Every input item, lazily; a lone string or Document is one item. */
export async function* iterateInputs(inputs: ClientInputs): AsyncGenerator<unknown> {
  if (typeof inputs === 'string' || inputs instanceof Document) yield inputs;
  else if (isAsyncIterable(inputs)) yield* inputs;
  else if (isIterable(inputs)) yield* inputs;
  else yield inputs;
}

/** How many inputs there are, when that is known without consuming them. */
export function countInputs(inputs: ClientInputs): number | undefined {
  if (typeof inputs === 'string' || inputs instanceof Document) return 1;
  if (Array.isArray(inputs)) return inputs.length;
  if (inputs instanceof Set || inputs instanceof Map) return inputs.size;
  return undefined;
}

/** Turns one item into a wire Document; `prepare` decides how Documents are treated (rank needs matches). */
export async function prepareInput(
  item: unknown,
  index: number,
  prepare: (d: Document) => Promise<Document> = prepareDocument,
): Promise<PreparedInput> {
  if (typeof item === 'string') return { doc: await documentFromString(item), source: item };
  if (item instanceof Document) return { doc: await prepare(item), original: item };
  if (item && typeof item === 'object' && !Array.isArray(item) && !isIterable(item)) {
    const original = new Document(item as DocumentInit);
    return { doc: await prepare(original), original };
  }
  const kind = item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item;
  throw new TypeError(`input ${index}: expected a string, a Document or a document object, got ${kind}`);
}
