/**
 * A port of the arithmetic of Pillow's separable resampler (`ImagingResample`,
 * libImaging/Resample.c) for the bicubic filter, and of its NEAREST scaling
 * (`ImagingScaleAffine`), restricted to a window of output pixels.
 *
 * Pillow computes per output position a list of source taps and their weights in
 * double precision, then (8-bit images) turns the weights into signed fixed point
 * with 22 fractional bits, sums `pixel * weight` in 32-bit integers starting from
 * half a unit, shifts and clips to 0..255. It runs the horizontal pass first,
 * storing a clipped uint8 intermediate, then the vertical pass. Every output pixel
 * of a pass depends only on its own taps, so computing only the rows and columns
 * that survive the centre crop gives the same bytes as resizing the whole image
 * and cropping afterwards. 32-bit integer images ('I') use the double weights
 * directly and round half away from zero after each pass.
 *
 * The functions address images as `rowStride`/`pixelStride` element offsets so the
 * same loops read sharp's interleaved buffers, a premultiplied copy, or the
 * intermediate of the first pass without copying.
 */

/** Fractional bits of Pillow's 8-bit fixed-point weights: 32 - 8 - 2. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Taps of one axis for the output positions `first .. first + count - 1`. */
export interface AxisTaps {
  /** Weights per output position (Pillow's `ksize`); unused slots are 0. */
  readonly ksize: number;
  /** First source index of each output position's taps. */
  readonly start: Int32Array;
  /** Number of taps of each output position. */
  readonly length: Int32Array;
  /** Normalised double weights, `ksize` per output position. */
  readonly weights: Float64Array;
  /** The same weights in Pillow's 8-bit fixed point. */
  readonly fixed: Int32Array;
}

/** Keys's cubic convolution kernel with a = -0.5, evaluated as Pillow writes it. */
function bicubic(x: number): number {
  if (x < 0) x = -x;
  if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * -0.5;
  return 0;
}

/**
 * Pillow's `precompute_coeffs` for bicubic along one axis of `inSize` pixels
 * resized to `outSize`, for output positions `first .. first + count - 1` only.
 * The support widens with the downscale factor (antialiasing), and each
 * position's weights are divided by their sum, in Pillow's order of operations.
 */
export function bicubicTaps(inSize: number, outSize: number, first: number, count: number): AxisTaps {
  const scale = inSize / outSize;
  const filterScale = scale < 1 ? 1 : scale;
  const support = 2 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const inv = 1 / filterScale;
  const start = new Int32Array(count);
  const length = new Int32Array(count);
  const weights = new Float64Array(count * ksize);
  const fixed = new Int32Array(count * ksize);
  for (let i = 0; i < count; i++) {
    const center = (first + i + 0.5) * scale;
    // C casts to int, truncating toward zero; the clamps make the sign moot.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = hi - lo;
    const base = i * ksize;
    let sum = 0;
    for (let t = 0; t < n; t++) {
      const w = bicubic((t + lo - center + 0.5) * inv);
      weights[base + t] = w;
      sum += w;
    }
    for (let t = 0; t < n; t++) {
      if (sum !== 0) weights[base + t] /= sum;
      const w = weights[base + t]!;
      fixed[base + t] = Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5);
    }
    start[i] = lo;
    length[i] = n;
  }
  return { ksize, start, length, weights, fixed };
}

/**
 * Source index of each output position `first .. first + count - 1` under
 * Pillow's NEAREST resize (used for 'P' and '1' images whatever filter is asked
 * for). Pillow walks the positions by repeated addition of the step, so the
 * rounding of that running sum is reproduced rather than computed as a product.
 */
export function nearestTaps(inSize: number, outSize: number, first: number, count: number): Int32Array {
  const step = inSize / outSize;
  const out = new Int32Array(count);
  let pos = step * 0.5;
  for (let i = 0; i < first; i++) pos += step;
  for (let i = 0; i < count; i++) {
    // Pillow's COORD: negative -> -1 (outside), else truncate; positions past the
    // edge cannot occur for a plain resize but are clamped rather than trusted.
    out[i] = pos < 0 ? 0 : Math.min(inSize - 1, Math.trunc(pos));
    pos += step;
  }
  return out;
}

/** Where a pass reads its input: element offsets of rows and pixels, and a row origin. */
export interface PlaneView<T extends Uint8Array | Uint16Array | Int32Array> {
  readonly data: T;
  readonly rowStride: number;
  readonly pixelStride: number;
  /** Source row held at element offset 0 (a buffer may start mid-image). */
  readonly firstRow: number;
  /** Source column held at element offset 0. */
  readonly firstCol: number;
}

/** Pillow's clip8: drop the fraction bits, clamp to a byte. */
function clip8(ss: number): number {
  // Sums stay inside int32 (a byte times weights whose magnitudes add up to < 1.3
  // in 22-bit fixed point), so Math.imul and |0 below never wrap, as in Pillow's C.
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Horizontal 8-bit pass over source rows `rowFrom .. rowTo - 1`, `channels` (1-4)
 * channels per pixel. Writes `(rowTo - rowFrom) x taps.start.length x channels`
 * clipped bytes to `dst`, rows contiguous. The common channel counts get their own
 * loop that loads each weight once for all channels: this pass does most of the
 * work when a large photo is shrunk (dozens of taps per output pixel).
 */
export function horizontal8(src: PlaneView<Uint8Array>, channels: number, rowFrom: number, rowTo: number, taps: AxisTaps, dst: Uint8Array): void {
  const { data, rowStride, pixelStride: ps } = src;
  const { ksize, start, length, fixed } = taps;
  const cols = start.length;
  let o = 0;
  for (let y = rowFrom; y < rowTo; y++) {
    const row = (y - src.firstRow) * rowStride - src.firstCol * ps;
    for (let x = 0; x < cols; x++) {
      const k = x * ksize;
      const n = length[x]!;
      let p = row + start[x]! * ps;
      if (channels === 3) {
        let s0 = HALF, s1 = HALF, s2 = HALF;
        for (let t = 0; t < n; t++, p += ps) {
          const w = fixed[k + t]!;
          s0 = (s0 + Math.imul(data[p]!, w)) | 0;
          s1 = (s1 + Math.imul(data[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(data[p + 2]!, w)) | 0;
        }
        dst[o] = clip8(s0);
        dst[o + 1] = clip8(s1);
        dst[o + 2] = clip8(s2);
        o += 3;
      } else if (channels === 1) {
        let s0 = HALF;
        for (let t = 0; t < n; t++, p += ps) s0 = (s0 + Math.imul(data[p]!, fixed[k + t]!)) | 0;
        dst[o++] = clip8(s0);
      } else {
        for (let c = 0; c < channels; c++) {
          let ss = HALF;
          for (let t = 0, q = p + c; t < n; t++, q += ps) ss = (ss + Math.imul(data[q]!, fixed[k + t]!)) | 0;
          dst[o++] = clip8(ss);
        }
      }
    }
  }
}

/**
 * Vertical 8-bit pass: for each output row in `taps`, `cols` pixels starting at
 * source column `colFrom`. Writes `taps.start.length x cols x channels` bytes.
 * When pixels are packed (`pixelStride === channels`) a row is a flat run of
 * samples, taken four at a time so each weight is loaded once per four sums.
 */
export function vertical8(src: PlaneView<Uint8Array>, channels: number, colFrom: number, cols: number, taps: AxisTaps, dst: Uint8Array): void {
  const { data, rowStride, pixelStride: ps } = src;
  const { ksize, start, length, fixed } = taps;
  const rows = start.length;
  const width = cols * channels;
  const packed = ps === channels;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const k = y * ksize;
    const n = length[y]!;
    const r0 = (start[y]! - src.firstRow) * rowStride + (colFrom - src.firstCol) * ps;
    if (packed) {
      let i = 0;
      for (; i + 4 <= width; i += 4) {
        let s0 = HALF, s1 = HALF, s2 = HALF, s3 = HALF;
        for (let t = 0, p = r0 + i; t < n; t++, p += rowStride) {
          const w = fixed[k + t]!;
          s0 = (s0 + Math.imul(data[p]!, w)) | 0;
          s1 = (s1 + Math.imul(data[p + 1]!, w)) | 0;
          s2 = (s2 + Math.imul(data[p + 2]!, w)) | 0;
          s3 = (s3 + Math.imul(data[p + 3]!, w)) | 0;
        }
        dst[o] = clip8(s0);
        dst[o + 1] = clip8(s1);
        dst[o + 2] = clip8(s2);
        dst[o + 3] = clip8(s3);
        o += 4;
      }
      for (; i < width; i++) {
        let ss = HALF;
        for (let t = 0, p = r0 + i; t < n; t++, p += rowStride) ss = (ss + Math.imul(data[p]!, fixed[k + t]!)) | 0;
        dst[o++] = clip8(ss);
      }
      continue;
    }
    for (let x = 0; x < cols; x++) {
      const p0 = r0 + x * ps;
      for (let c = 0; c < channels; c++) {
        let ss = HALF;
        for (let t = 0, p = p0 + c; t < n; t++, p += rowStride) ss = (ss + Math.imul(data[p]!, fixed[k + t]!)) | 0;
        dst[o++] = clip8(ss);
      }
    }
  }
}

/** Pillow's ROUND_UP: add or subtract one half, then truncate toward zero. */
function roundUp(f: number): number {
  return Math.trunc(f >= 0 ? f + 0.5 : f - 0.5);
}

/** Horizontal pass of a one-channel 32-bit integer ('I') image; no clipping. */
export function horizontalI(src: PlaneView<Uint16Array | Int32Array>, rowFrom: number, rowTo: number, taps: AxisTaps, dst: Int32Array): void {
  const { data, rowStride, pixelStride } = src;
  const { ksize, start, length, weights } = taps;
  const cols = start.length;
  let o = 0;
  for (let y = rowFrom; y < rowTo; y++) {
    const row = (y - src.firstRow) * rowStride - src.firstCol * pixelStride;
    for (let x = 0; x < cols; x++) {
      const k = x * ksize;
      let ss = 0;
      for (let t = 0, p = row + start[x]! * pixelStride; t < length[x]!; t++, p += pixelStride) ss += data[p]! * weights[k + t]!;
      dst[o++] = roundUp(ss);
    }
  }
}

/** Vertical pass of a one-channel 'I' image. */
export function verticalI(src: PlaneView<Uint16Array | Int32Array>, colFrom: number, cols: number, taps: AxisTaps, dst: Int32Array): void {
  const { data, rowStride, pixelStride } = src;
  const { ksize, start, length, weights } = taps;
  let o = 0;
  for (let y = 0; y < start.length; y++) {
    const k = y * ksize;
    const r0 = (start[y]! - src.firstRow) * rowStride + (colFrom - src.firstCol) * pixelStride;
    for (let x = 0; x < cols; x++) {
      let ss = 0;
      for (let t = 0, p = r0 + x * pixelStride; t < length[y]!; t++, p += rowStride) ss += data[p]! * weights[k + t]!;
      dst[o++] = roundUp(ss);
    }
  }
}
