/**
 * `Resize(S, BICUBIC)` + `CenterCrop(S)` on decoded pixels, computing only the
 * S x S window that survives the crop, with PIL's per-mode behaviour:
 *
 * - 'RGB', 'L': bicubic on the colour (or grey) samples; a tRNS alpha that libvips
 *   added is ignored, as PIL keeps tRNS out of the pixels.
 * - 'RGBA', 'LA': PIL converts to premultiplied RGBa/La, resizes, and divides back
 *   before `convert('RGB')` drops alpha; done the same way, with its integer maths.
 * - 'P', '1': PIL forces NEAREST for palette and bilevel images.
 * - 'CMYK': bicubic on the four inks, then PIL's naive CMYK -> RGB formula.
 * - 'I' (16-bit grey PNG): resized as integers, then clipped to 0..255 by
 *   `convert('RGB')` — so most 16-bit images come out nearly white, as in PIL.
 * - An image already at the resized size is only cropped (PIL returns a copy).
 */
import type { DecodedImage } from './decode.js';
import { planCrop, type CropPlan } from './geometry.js';
import { bicubicTaps, horizontal8, horizontalI, nearestTaps, vertical8, verticalI, type PlaneView } from './resample.js';
import { horizontal8Simd, vertical8Simd } from './resample-simd.js';

/** An S x S crop: interleaved bytes, `stride` per pixel, colour at 0..2 or grey at 0. */
export interface CroppedPixels {
  readonly pixels: Uint8Array;
  readonly stride: number;
  readonly grey: boolean;
  readonly size: number;
  readonly plan: CropPlan;
}

/** Samples per pixel each mode reads; palette and bilevel images may come as grey. */
const MIN_CHANNELS: Record<DecodedImage['mode'], number> = { '1': 1, L: 1, P: 1, I: 1, LA: 2, RGB: 3, RGBA: 4, CMYK: 4 };

/** Scratch buffers reused across calls: the passes are synchronous, so never shared. */
const pools: Record<'premul' | 'temp' | 'crop', ArrayBuffer> = {
  premul: new ArrayBuffer(0), temp: new ArrayBuffer(0), crop: new ArrayBuffer(0),
};
/** Beyond this a one-off huge image gets its own buffer instead of pinning memory. */
const POOL_LIMIT = 32 << 20;

function scratch(pool: keyof typeof pools, bytes: number): ArrayBuffer {
  if (bytes > POOL_LIMIT) return new ArrayBuffer(bytes);
  if (pools[pool].byteLength < bytes) pools[pool] = new ArrayBuffer(Math.max(bytes, pools[pool].byteLength * 2));
  return pools[pool];
}

/** PIL's MULDIV255: (a * b + 127) / 255 via shifts, exact for bytes. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * Premultiplied copy of source rows `from .. to - 1` (PIL's RGBA -> RGBa / LA -> La),
 * compacted to `channels` samples: grey + alpha for LA, RGBA for RGBA.
 */
function premultiply(image: DecodedImage, channels: number, from: number, to: number): PlaneView<Uint8Array> {
  const { width, channels: sc } = image;
  const data = image.data as Uint8Array;
  const out = new Uint8Array(scratch('premul', (to - from) * width * channels), 0, (to - from) * width * channels);
  const alphaAt = sc - 1;
  let o = 0;
  for (let p = from * width * sc, end = to * width * sc; p < end; p += sc) {
    const a = data[p + alphaAt]!;
    for (let c = 0; c < channels - 1; c++) out[o++] = mulDiv255(data[p + c]!, a);
    out[o++] = a;
  }
  return { data: out, rowStride: width * channels, pixelStride: channels, firstRow: from, firstCol: 0 };
}

/** PIL's RGBa -> RGBA: divide by alpha (integer, floored, clipped) unless alpha is 0 or 255. */
function unpremultiply(pixels: Uint8Array, channels: number): void {
  for (let p = 0; p < pixels.length; p += channels) {
    const a = pixels[p + channels - 1]!;
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < channels - 1; c++) {
      const v = Math.floor((255 * pixels[p + c]!) / a);
      pixels[p + c] = v > 255 ? 255 : v;
    }
  }
}

/**
 * PIL's CMYK -> RGB (no colour management): each colour is (255 - K) scaled down by
 * its ink, `nk - MULDIV255(ink, nk)`. In place: RGB lands in the first three samples.
 */
function cmykToRgb(pixels: Uint8Array): void {
  for (let p = 0; p < pixels.length; p += 4) {
    const nk = 255 - pixels[p + 3]!;
    for (let c = 0; c < 3; c++) {
      const v = nk - mulDiv255(pixels[p + c]!, nk);
      pixels[p + c] = v < 0 ? 0 : v;
    }
  }
}

/** Copies an S-wide window of `rows` rows out of a view (no resampling on either axis). */
function copyWindow(src: PlaneView<Uint8Array>, channels: number, rowFrom: number, colFrom: number, size: number, dst: Uint8Array): void {
  let o = 0;
  for (let y = rowFrom; y < rowFrom + size; y++) {
    const r = (y - src.firstRow) * src.rowStride + (colFrom - src.firstCol) * src.pixelStride;
    if (src.pixelStride === channels) {
      // Packed pixels: the window's row is one run of bytes.
      dst.set(src.data.subarray(r, r + size * channels), o);
      o += size * channels;
      continue;
    }
    for (let x = 0; x < size; x++) {
      const p = r + x * src.pixelStride;
      for (let c = 0; c < channels; c++) dst[o++] = src.data[p + c]!;
    }
  }
}

function cropNearest(image: DecodedImage, plan: CropPlan, dst: Uint8Array, channels: number): void {
  const xs = nearestTaps(image.width, plan.resizedWidth, plan.left, plan.size);
  const ys = nearestTaps(image.height, plan.resizedHeight, plan.top, plan.size);
  const data = image.data as Uint8Array;
  const sc = image.channels;
  let o = 0;
  for (let y = 0; y < plan.size; y++) {
    const row = ys[y]! * image.width * sc;
    for (let x = 0; x < plan.size; x++) {
      const p = row + xs[x]! * sc;
      for (let c = 0; c < channels; c++) dst[o++] = data[p + c]!;
    }
  }
}

/** 'I' images: integer passes, then convert('RGB')'s clip to 0..255. */
function cropInteger(image: DecodedImage, plan: CropPlan, dst: Uint8Array): void {
  const { size } = plan;
  const src: PlaneView<Uint16Array | Int32Array> = {
    data: image.data instanceof Uint16Array ? image.data : Int32Array.from(image.data),
    rowStride: image.width * image.channels, pixelStride: image.channels, firstRow: 0, firstCol: 0,
  };
  const xt = plan.resizedWidth !== image.width ? bicubicTaps(image.width, plan.resizedWidth, plan.left, size) : undefined;
  const yt = plan.resizedHeight !== image.height ? bicubicTaps(image.height, plan.resizedHeight, plan.top, size) : undefined;
  const y0 = yt ? yt.start[0]! : plan.top;
  const y1 = yt ? yt.start[size - 1]! + yt.length[size - 1]! : plan.top + size;
  let view = src;
  let colFrom = plan.left;
  if (xt) {
    const temp = new Int32Array((y1 - y0) * size);
    horizontalI(src, y0, y1, xt, temp);
    view = { data: temp, rowStride: size, pixelStride: 1, firstRow: y0, firstCol: 0 };
    colFrom = 0;
  }
  const out = new Int32Array(size * size);
  if (yt) verticalI(view, colFrom, size, yt, out);
  else for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = view.data[(plan.top + y - view.firstRow) * view.rowStride + (colFrom + x - view.firstCol) * view.pixelStride]!;
  for (let i = 0; i < out.length; i++) dst[i] = out[i]! < 0 ? 0 : out[i]! > 255 ? 255 : out[i]!;
}

/**
 * The S x S crop of `image` after CLIP's resize, in PIL's integers. The returned
 * pixels live in a reused scratch buffer (read them before the next call) unless
 * `owned` asks for a buffer of their own, for crops kept until later.
 */
export function resizeCrop(image: DecodedImage, size: number, owned = false): CroppedPixels {
  const plan = planCrop(image.width, image.height, size);
  const { mode } = image;
  // DecodedImage is public: a hand-made one must not send the loops out of bounds.
  if (image.channels < MIN_CHANNELS[mode] || image.data.length < image.width * image.height * image.channels) {
    throw new TypeError(`a '${mode}' image of ${image.width}x${image.height} needs at least ${MIN_CHANNELS[mode]} channels and width*height*channels samples`);
  }
  const grey = mode === 'L' || mode === 'LA' || mode === 'I' || (image.channels < 3 && (mode === 'P' || mode === '1'));
  const premultiplied = mode === 'RGBA' || mode === 'LA';
  const channels = mode === 'I' ? 1 : mode === 'CMYK' ? 4 : (grey ? 1 : 3) + (premultiplied ? 1 : 0);
  const pixels = owned ? new Uint8Array(size * size * channels) : new Uint8Array(scratch('crop', size * size * channels), 0, size * size * channels);
  const resized = plan.resizedWidth !== image.width || plan.resizedHeight !== image.height;
  const result = { pixels, stride: channels, grey, size, plan };
  if (mode === 'I') {
    cropInteger(image, plan, pixels);
    return result;
  }
  if (image.data instanceof Uint16Array) throw new TypeError(`16-bit samples need mode 'I', got '${mode}'`);
  if (resized && (mode === 'P' || mode === '1')) {
    cropNearest(image, plan, pixels, channels);
    return result;
  }
  const xt = plan.resizedWidth !== image.width ? bicubicTaps(image.width, plan.resizedWidth, plan.left, size) : undefined;
  const yt = plan.resizedHeight !== image.height ? bicubicTaps(image.height, plan.resizedHeight, plan.top, size) : undefined;
  const y0 = yt ? yt.start[0]! : plan.top;
  const y1 = yt ? yt.start[size - 1]! + yt.length[size - 1]! : plan.top + size;
  // PIL premultiplies only when it really resizes (an equal-size resize is a copy).
  let view: PlaneView<Uint8Array> = resized && premultiplied
    ? premultiply(image, channels, y0, y1)
    : { data: image.data, rowStride: image.width * image.channels, pixelStride: image.channels, firstRow: 0, firstCol: 0 };
  // Unresized LA/RGBA pixels are read as they lie (grey or colour first); the
  // extra sample read with them is never used, as no division by alpha follows.
  let colFrom = plan.left;
  if (xt) {
    const bytes = (y1 - y0) * size * channels;
    const temp = new Uint8Array(scratch('temp', bytes), 0, bytes);
    if (!horizontal8Simd(view, channels, y0, y1, xt, temp)) horizontal8(view, channels, y0, y1, xt, temp);
    view = { data: temp, rowStride: size * channels, pixelStride: channels, firstRow: y0, firstCol: 0 };
    colFrom = 0;
  }
  if (yt) {
    if (!vertical8Simd(view, channels, colFrom, size, yt, pixels)) vertical8(view, channels, colFrom, size, yt, pixels);
  }
  else copyWindow(view, channels, plan.top, colFrom, size, pixels);
  if (resized && premultiplied) unpremultiply(pixels, channels);
  if (mode === 'CMYK') cmykToRgb(pixels);
  return result;
}
