/**
 * One pool thread's task: decode an image, cut CLIP's crop and normalise it. The
 * resize (PIL's integer bicubic, in JS/wasm), sharp's per-image JS work and the
 * normalising cost the event loop ~2.5 ms a JPEG; here they run beside it, so a
 * fast accelerator is not held to what one thread can preprocess.
 */
import { move } from 'piscina';
import { ClipflowError } from '../../../core/errors.js';
import { preprocessImage } from './preprocess.js';

export interface PreprocessTask {
  /** Encoded image bytes or a `data:` URI. */
  source: Uint8Array | string;
  size: number;
  maxPixels: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * The image as float32 CHW, 3 x size x size, moved (not copied) back; a bad image
 * comes back as its reason, since error classes do not survive the thread boundary.
 */
export type PreprocessResult = Float32Array | { invalid: string };

export default async function preprocess(task: PreprocessTask): Promise<PreprocessResult> {
  try {
    const { source, size, maxPixels, mean, std } = task;
    return move(await preprocessImage(source, { size, maxPixels, normalization: { mean, std } })) as Float32Array;
  } catch (e) {
    if (e instanceof ClipflowError && e.code === 'INVALID_ARGUMENT') return { invalid: e.message };
    throw e;
  }
}
