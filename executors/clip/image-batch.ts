import type { Document } from '../../core/document/document.js';
import type { NdArray } from '../../core/document/ndarray.js';
import { BadRequestError, ClipflowError, errorMessage } from '../../core/errors.js';
import { inSpan } from '../../core/telemetry/tracing.js';
import { fetchImage, type FetchPolicy } from './image-fetch.js';
import { decodeImage, preprocessInto } from './preprocess/index.js';

export interface ImageBatchOptions {
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  fetch: FetchPolicy;
  /** Largest decoded image (width x height) accepted; checked from the header before decoding. */
  maxPixels: number;
  /** Images decoded/preprocessed at once (clip-server's `num_worker_preprocess`). */
  concurrency: number;
  signal?: AbortSignal;
}

/** Runs `task` over `items` with at most `limit` running at once. */
async function forEachLimited<T>(items: T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Remote images fetched ahead of batching (see prefetchRemoteImages), by document. */
const prefetched = new WeakMap<Document, Uint8Array>();

function isRemote(doc: Document): boolean {
  return !doc.text && !(doc.blob && doc.blob.byteLength) && !doc.tensor && /^https?:\/\//i.test(doc.uri ?? '');
}

/**
 * Fetches the http(s) images of one request before it joins a batch, so a slow or
 * failing remote server only ever delays or fails its own request.
 */
export async function prefetchRemoteImages(docs: Iterable<Document>, indexOf: (d: Document) => number, policy: FetchPolicy, signal?: AbortSignal): Promise<void> {
  await Promise.all(
    [...docs].filter(isRemote).map(async (doc) => {
      try {
        prefetched.set(doc, await fetchImage(doc.uri!, policy, signal));
      } catch (e) {
        if (!(e instanceof ClipflowError) || e.code !== 'INVALID_ARGUMENT') throw e;
        throw new BadRequestError(`document ${doc.id} (index ${indexOf(doc)}): cannot use its image: ${errorMessage(e)}`, { cause: e });
      }
    }),
  );
}

/** A doc's image as bytes, a data: URI string or a tensor; remote URIs fetched under the policy. */
async function imageSource(doc: Document, options: ImageBatchOptions): Promise<Uint8Array | string | NdArray> {
  if (doc.blob && doc.blob.byteLength > 0) return doc.blob;
  if (doc.tensor) return doc.tensor;
  const early = prefetched.get(doc);
  if (early) return early;
  const uri = doc.uri ?? '';
  if (uri.startsWith('data:')) return uri;
  if (/^https?:\/\//i.test(uri)) return fetchImage(uri, options.fetch, options.signal);
  if (/^file:/i.test(uri) || !/^[a-z][a-z0-9+.-]*:/i.test(uri)) {
    throw new BadRequestError(`the server does not read local files (uri "${uri}"); send the image bytes as blob (clients read local files)`);
  }
  throw new BadRequestError(`unsupported uri scheme in "${uri.slice(0, 40)}": only http(s) and data: URIs are fetched`);
}

/**
 * Loads, decodes and preprocesses image documents straight into one batch tensor
 * `[n, 3, S, S]`. Decoding runs concurrently (sharp works off the main thread);
 * a failure names the document id and its index within the request.
 */
export async function buildImageBatch(docs: Document[], indexOf: (d: Document) => number, options: ImageBatchOptions): Promise<Float32Array> {
  const { size } = options;
  const plane = 3 * size * size;
  const out = new Float32Array(docs.length * plane);
  await forEachLimited(docs, Math.max(1, options.concurrency), async (doc, i) => {
      try {
        const source = await imageSource(doc, options);
        const image = await inSpan('clip.decode', { 'clipflow.document_id': doc.id }, () => decodeImage(source, { maxPixels: options.maxPixels }));
        preprocessInto(image, size, out, i * plane, { mean: options.mean, std: options.std });
      } catch (e) {
        // Bad input is the caller's error, named; anything else is ours and stays internal.
        if (!(e instanceof ClipflowError) || e.code !== 'INVALID_ARGUMENT') throw e;
        throw new BadRequestError(`document ${doc.id} (index ${indexOf(doc)}): cannot use its image: ${errorMessage(e)}`, { cause: e });
      }
  });
  return out;
}
