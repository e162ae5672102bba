import type { Document } from '../../core/document/document.js';
import { NdArray } from '../../core/document/ndarray.js';
import { BadRequestError, ClipflowError, errorMessage } from '../../core/errors.js';
import { inSpan } from '../../core/telemetry/tracing.js';
import { fetchImage, type FetchPolicy } from './image-fetch.js';
import type { PreprocessPool } from './preprocess/preprocess-pool.js';
import { cropImage, decodeImage, normaliseCropInto, type CroppedPixels } from './preprocess/index.js';

export interface ImageBatchOptions {
  size: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  fetch: FetchPolicy;
  /** Largest decoded image (width x height) accepted; checked from the header before decoding. */
  maxPixels: number;
  /** Images decoded/preprocessed at once (clip-server's `num_worker_preprocess`). */
  concurrency: number;
  /** Threads that decode, crop and normalise; without it that happens here (sharp still decodes off-thread). */
  pool?: PreprocessPool;
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

/**
 * Work done for a document before it joins a batch: its remote image's bytes, its
 * finished crop, or (from the pool's threads) its normalised pixels, 4 bytes a value
 * where a crop holds 1. Kept on the document under a symbol, which the batch queue's
 * copies (Object.assign) carry along and no codec serialises.
 */
const STAGED = Symbol('clipflow.stagedImage');
type Ready = { crop: CroppedPixels } | { pixels: Float32Array; size: number };
type Staged = { bytes: Uint8Array } | Ready;
type StagedDoc = Document & { [STAGED]?: Staged };

function isImage(doc: Document): boolean {
  return !doc.text && ((doc.blob !== undefined && doc.blob.byteLength > 0) || !!doc.tensor || !!doc.uri);
}

function isRemote(doc: Document): boolean {
  return !doc.text && !(doc.blob && doc.blob.byteLength) && !doc.tensor && /^https?:\/\//i.test(doc.uri ?? '');
}

/** Runs `task`, naming the document in a caller's error; anything else is ours and stays internal. */
async function namingDoc<T>(doc: Document, indexOf: (d: Document) => number, task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (e) {
    if (!(e instanceof ClipflowError) || e.code !== 'INVALID_ARGUMENT') throw e;
    throw new BadRequestError(`document ${doc.id} (index ${indexOf(doc)}): cannot use its image: ${errorMessage(e)}`, { cause: e });
  }
}

/**
 * Per request, before it joins a batch: fetches its http(s) images (so a slow or
 * failing remote server only delays or fails its own request) and, for requests of
 * up to `stageLimit` images, decodes and crops them too (the pool's threads also
 * normalise them), so this work overlaps the
 * batch the model is running rather than waiting for it. A bad image fails only
 * its own request.
 */
export async function stageImages(docs: Iterable<Document>, indexOf: (d: Document) => number, options: ImageBatchOptions, stageLimit: number): Promise<void> {
  const images = [...docs].filter(isImage) as StagedDoc[];
  const crop = images.length <= stageLimit;
  await forEachLimited(images, Math.max(1, options.concurrency), (doc) =>
    namingDoc(doc, indexOf, async () => {
      if (!crop && !isRemote(doc)) return;
      const source = await imageSource(doc, options);
      if (!crop) {
        doc[STAGED] = { bytes: source as Uint8Array };
        return;
      }
      doc[STAGED] = await prepare(doc, source, options);
    }),
  );
}

/** Decodes a doc's image: normalised on the pool's threads when there is one, else cropped here (tensors always here). */
function prepare(doc: Document, source: Uint8Array | string | NdArray, options: ImageBatchOptions): Promise<Ready> {
  const { size, maxPixels, pool } = options;
  return inSpan('clip.decode', { 'clipflow.document_id': doc.id }, async () => {
    if (pool && !(source instanceof NdArray)) return { pixels: await pool.pixels(source, size, maxPixels, options), size };
    return { crop: cropImage(await decodeImage(source, { maxPixels }), size) };
  });
}

/** Writes prepared pixels into the batch tensor at `offset`. */
function writeReady(ready: Ready, out: Float32Array, offset: number, options: ImageBatchOptions): void {
  if ('pixels' in ready) out.set(ready.pixels, offset);
  else normaliseCropInto(ready.crop, out, offset, { mean: options.mean, std: options.std });
}

function readyFor(staged: Staged | undefined, size: number): Ready | undefined {
  if (!staged || 'bytes' in staged) return undefined;
  return ('pixels' in staged ? staged.size : staged.crop.size) === size ? staged : undefined;
}

/** A doc's image as bytes, a data: URI string or a tensor; remote URIs fetched under the policy. */
async function imageSource(doc: Document, options: ImageBatchOptions): Promise<Uint8Array | string | NdArray> {
  if (doc.blob && doc.blob.byteLength > 0) return doc.blob;
  if (doc.tensor) return doc.tensor;
  const staged = (doc as StagedDoc)[STAGED];
  if (staged && 'bytes' in staged) return staged.bytes;
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
  await forEachLimited(docs as StagedDoc[], Math.max(1, options.concurrency), async (doc, i) => {
    const staged = readyFor(doc[STAGED], size);
    if (staged) writeReady(staged, out, i * plane, options);
    else await namingDoc(doc, indexOf, async () => writeReady(await prepare(doc, await imageSource(doc, options), options), out, i * plane, options));
    delete doc[STAGED];
  });
  return out;
}
