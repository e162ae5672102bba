/**
 * CLIP image preprocessing with PyTorch parity: OpenAI CLIP's `_transform(S)` as
 * clip-server applies it to `Image.open(blob)` —
 * `Resize(S, BICUBIC)` -> `CenterCrop(S)` -> `convert('RGB')` -> `ToTensor()` ->
 * `Normalize(mean, std)` — producing float32 CHW tensors equal to PyTorch's on
 * (almost) every element. The steps:
 *
 * 1. decode with sharp (decode.ts): first frame, no EXIF rotation, no ICC transform
 *    (PIL applies neither), plus the PIL mode, read from the PNG/GIF/TIFF header
 *    where libvips hides it (pil-mode.ts);
 * 2. resize + crop in PIL's own integer arithmetic, only for the crop window
 *    (resize-crop.ts, resample.ts);
 * 3. ToTensor + Normalize through a per-channel 256-entry table holding exactly
 *    the float32 values torch computes (`x / 255`, `- mean`, `/ std`, each rounded
 *    to float32), written straight into the caller's batch tensor.
 *
 * PIL behaviours reproduced: modes as `Image.open` gives them (palette and 1-bit
 * images resize with NEAREST, RGBA/LA premultiplied, tRNS ignored, 16-bit RGB
 * keeps the high byte, CMYK resized as inks then PIL's naive conversion, GIF
 * transparent pixels take their palette colour), no EXIF rotation, no ICC.
 * Knowingly different: 16-bit grey follows the 'I' path of the Pillow the fixtures
 * came from (9.4: integer passes, clipped to 255 at the end, so most such images
 * come out near-white); recent Pillow opens it as 'I;16' and clamps negatives
 * between the passes, which can change dark pixels next to edges. Other 16-bit
 * grey formats (TIFF) are treated the same way. AVIF decodes here although older
 * Pillow cannot open it at all. The opt-in `fast` mode trades exactness for speed.
 */
import { DEFAULT_MAX_PIXELS, type DecodedImage } from './decode.js';
import { normaliseRgbSimd } from './normalise-simd.js';
import { resizeCrop, type CroppedPixels } from './resize-crop.js';
import { decodeImage, type ImageInput } from './source.js';

/** OpenAI CLIP's normalisation mean (R, G, B). */
export const CLIP_MEAN: readonly [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** OpenAI CLIP's normalisation standard deviation (R, G, B). */
export const CLIP_STD: readonly [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

/** Per-channel mean and std of `Normalize`; models other than OpenAI's may differ. */
export interface Normalization {
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** OpenAI CLIP's `Normalize`. */
export const CLIP_NORMALIZATION: Normalization = { mean: CLIP_MEAN, std: CLIP_STD };

/**
 * Normalised value of every byte per channel, computed as torch does in float32:
 * `ToTensor` divides the byte by 255, `Normalize` subtracts the float32 mean and
 * divides by the float32 std, each result rounded to float32. (A float32 operation
 * done in double then rounded once gives the same bits for + - * /.) Tables are
 * built once per distinct normalisation; there are one or two per process.
 */
const tables = new Map<string, readonly Float32Array[]>();

function lookupTables(norm: Normalization): readonly Float32Array[] {
  const key = `${norm.mean.join(',')}/${norm.std.join(',')}`;
  let luts = tables.get(key);
  if (!luts) {
    luts = [0, 1, 2].map((c) => {
      const mean = Math.fround(norm.mean[c]!);
      const std = Math.fround(norm.std[c]!);
      const table = new Float32Array(256);
      for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
      return table;
    });
    tables.set(key, luts);
  }
  return luts;
}

/** Options of {@link preprocessImage}. */
export interface PreprocessOptions {
  /** Model input size S (224 for ViT-B-32, 336 for ViT-L-14-336, ...). Default 224. */
  readonly size?: number;
  /** Pixel budget checked before decoding; default 100 megapixels. */
  readonly maxPixels?: number;
  /**
   * Opt-in speed over parity: libvips resizes while decoding (JPEG shrink-on-load
   * at 1/2, 1/4 or 1/8 when the image is at least twice the target) with its own
   * bicubic, so results differ from PIL by a few levels. Off by default: the point
   * of this module is clip-server's embeddings.
   */
  readonly fast?: boolean;
  /** Mean and std of `Normalize`; default OpenAI CLIP's. */
  readonly normalization?: Normalization;
}

/** Writes a crop into `out` at `offset`, CHW, normalised: packed RGB mostly by the SIMD kernel, the rest by the tables. */
function writeNormalised(crop: CroppedPixels, out: Float32Array, offset: number, norm: Normalization): void {
  const { pixels, stride, grey, size } = crop;
  const plane = size * size;
  const luts = lookupTables(norm);
  const done = !grey && stride === 3 ? normaliseRgbSimd(pixels, plane, out, offset, norm.mean, norm.std) : 0;
  for (let c = 0; c < 3; c++) {
    const lut = luts[c]!;
    let o = offset + c * plane + done;
    for (let p = (grey ? 0 : c) + done * stride, end = plane * stride; p < end; p += stride) out[o++] = lut[pixels[p]!]!;
  }
}

/**
 * Preprocesses one decoded image into `out[offset .. offset + 3*S*S)` as float32
 * CHW, so a batch tensor `[N, 3, S, S]` is filled image by image with no
 * intermediate float copies. Synchronous and allocation-light: meant to run on the
 * event loop right after the (threaded) decode.
 */
export function preprocessInto(image: DecodedImage, size: number, out: Float32Array, offset = 0, norm: Normalization = CLIP_NORMALIZATION): void {
  normaliseCropInto(resizeCrop(image, size), out, offset, norm);
}

/**
 * The resized, centre-cropped image in a buffer of its own: the expensive half of
 * {@link preprocessInto}, done ahead of time (e.g. before a request joins a batch).
 */
export function cropImage(image: DecodedImage, size: number): CroppedPixels {
  return resizeCrop(image, size, true);
}

/** The cheap half: normalises a crop into `out[offset .. offset + 3*S*S)` as float32 CHW. */
export function normaliseCropInto(crop: CroppedPixels, out: Float32Array, offset = 0, norm: Normalization = CLIP_NORMALIZATION): void {
  const need = 3 * crop.size * crop.size;
  if (!Number.isInteger(offset) || offset < 0 || offset + need > out.length) {
    throw new RangeError(`output needs ${need} floats at offset ${offset}, the array holds ${out.length}`);
  }
  writeNormalised(crop, out, offset, norm);
}

/**
 * The crop before `ToTensor`, as uint8 CHW (3 x S x S): what PIL's
 * `np.asarray(crop.convert('RGB'))` holds, transposed. For parity tests and for
 * runtimes that normalise on the device.
 */
export function preprocessToUint8(image: DecodedImage, size: number): Uint8Array {
  const { pixels, stride, grey } = resizeCrop(image, size);
  const plane = size * size;
  const out = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = grey ? 0 : c;
    for (let i = 0, p = src; i < plane; i++, p += stride) out[c * plane + i] = pixels[p]!;
  }
  return out;
}

/**
 * Decodes and preprocesses one image (bytes, `data:` URI or uint8 tensor) into a
 * new float32 CHW tensor of 3 x S x S. Invalid input raises `BadRequestError`.
 */
export async function preprocessImage(input: ImageInput, opts: PreprocessOptions = {}): Promise<Float32Array> {
  const size = opts.size ?? 224;
  const image = await decodeImage(input, {
    maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS,
    ...(opts.fast ? { shrinkTo: size } : {}),
  });
  const out = new Float32Array(3 * size * size);
  preprocessInto(image, size, out, 0, opts.normalization);
  return out;
}
