/**
 * One pool thread's task: decode an image, cut CLIP's crop and normalise it. The
 * resize (PIL's integer bicubic, in JS/wasm), sharp's per-image JS work and the
 * normalising cost the event loop ~2.5 ms a JPEG; here they run beside it, so a
 * fast accelerator is not held to what one thread can preprocess.
 */
import { move } from 'piscina';
import { ClipflowError } from '../../../core/errors.js';
import { cropImage, normaliseCropInto } from './preprocess.js';
import { decodeImage } from './source.js';

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
  let crop;
  try {
    crop = cropImage(await decodeImage(task.source, { maxPixels: task.maxPixels }), task.size);
  } catch (e) {
    if (e instanceof ClipflowError && e.code === 'INVALID_ARGUMENT') return { invalid: e.message };
    throw e;
  }
  const pixels = new Float32Array(3 * task.size * task.size);
  normaliseCropInto(crop, pixels, 0, { mean: task.mean, std: task.std });
  return move(pixels) as Float32Array;
}
