/**
 * One pool thread's task: decode an image and cut CLIP's crop from it. The resize
 * (PIL's integer bicubic, in JS/wasm) and sharp's per-image JS work cost the event
 * loop ~2 ms a JPEG; here they run beside it, so a fast accelerator is not held to
 * what one thread can preprocess.
 */
import { ClipflowError } from '../../../core/errors.js';
import { cropImage } from './preprocess.js';
import type { CroppedPixels } from './resize-crop.js';
import { decodeImage } from './source.js';

export interface CropTask {
  /** Encoded image bytes or a `data:` URI. */
  source: Uint8Array | string;
  size: number;
  maxPixels: number;
}

/** A bad image comes back as its reason: error classes do not survive the thread boundary. */
export type CropResult = { crop: CroppedPixels } | { invalid: string };

export default async function crop(task: CropTask): Promise<CropResult> {
  try {
    return { crop: cropImage(await decodeImage(task.source, { maxPixels: task.maxPixels }), task.size) };
  } catch (e) {
    if (e instanceof ClipflowError && e.code === 'INVALID_ARGUMENT') return { invalid: e.message };
    throw e;
  }
}
