/**
 * The two 8-bit passes of resample.ts as WebAssembly SIMD kernels, with the same
 * integer arithmetic (22-bit fixed-point weights, wrapping 32-bit sums from half a
 * unit, arithmetic shift, clip to 0..255) and therefore the same bytes. Shrinking a
 * 640x427 photo to its 224x224 crop drops from ~3.6 ms to ~1 ms: the horizontal
 * pass sums the three or four samples of a pixel in one vector, the vertical pass
 * sixteen samples of a row at a time.
 *
 * Inputs are copied into the module's memory and results copied out; each call is
 * synchronous, so one memory per thread is never shared. Used where it applies
 * (3 or 4 samples per pixel horizontally, packed rows of at least 16 samples
 * vertically, regions up to {@link MAX_BYTES}); resample.ts's loops do the rest.
 */
import type { AxisTaps, PlaneView } from './resample.js';
import { FunctionBuilder, heapOf, instantiate, Simd } from './wasm-module.js';

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
/** Beyond this much memory a one-off huge image takes the JS loops rather than pin the memory. */
const MAX_BYTES = 64 << 20;
/** Vector loads may read up to 8 bytes past a region's last sample, stores 1 past its end. */
const SLACK = 16;

/** v128.const with HALF in every i32 lane. */
function halfVector(f: FunctionBuilder): void {
  const bytes: number[] = [];
  for (let lane = 0; lane < 4; lane++) bytes.push(HALF & 0xff, (HALF >> 8) & 0xff, (HALF >> 16) & 0xff, (HALF >>> 24) & 0xff);
  f.simd(Simd.const, ...bytes);
}

/**
 * h(src, rowStride, pixelStride, rows, cols, ksize, startBytes, lengths, fixed, dst, dstPixel):
 * for each of `rows` rows and `cols` outputs, sums taps over samples 0..3 of each
 * pixel (load8x8_u + widen), then stores 4 clipped bytes and advances `dstPixel`
 * (3 or 4) — the fourth byte of a 3-channel pixel is overwritten by the next one.
 */
function horizontalKernel(): FunctionBuilder {
  const f = new FunctionBuilder(11);
  const [src, rowStride, ps, rows, cols, ksize, starts, lengths, fixed, dst, dstPixel] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const y = f.i32(), x = f.i32(), row = f.i32(), p = f.i32(), t = f.i32(), n = f.i32(), w = f.i32(), out = f.i32();
  const acc = f.v128(), narrowed = f.v128();
  f.get(dst).set(out).const(0).set(y);
  f.loopWhileLess(y, () => f.get(rows), () => {
    f.get(src).get(y).get(rowStride).mul().add().set(row);
    f.const(0).set(x);
    f.loopWhileLess(x, () => f.get(cols), () => {
      f.get(row).get(starts).get(x).const(4).mul().add().load().add().set(p);
      f.get(lengths).get(x).const(4).mul().add().load().set(n);
      f.get(fixed).get(x).get(ksize).mul().const(4).mul().add().set(w);
      halfVector(f);
      f.set(acc).const(0).set(t);
      f.loopWhileLess(t, () => f.get(n), () => {
        f.get(acc);
        f.get(p).simd(Simd.load8x8U, 0, 0).simd(Simd.i32x4ExtendLowI16x8U);
        f.get(w).load().simd(Simd.i32x4Splat);
        f.simd(Simd.i32x4Mul).simd(Simd.i32x4Add).set(acc);
        f.inc(p, () => f.get(ps)).inc(w, 4).inc(t, 1);
      });
      f.get(out);
      f.get(acc).const(PRECISION_BITS).simd(Simd.i32x4ShrS);
      f.get(acc).const(PRECISION_BITS).simd(Simd.i32x4ShrS);
      f.simd(Simd.i16x8NarrowI32x4S).set(narrowed);
      // Lanes 0..3 hold the pixel's bytes after narrowing; the upper lanes are never stored.
      f.get(narrowed).get(narrowed).simd(Simd.i8x16NarrowI16x8U);
      f.simd(Simd.store32Lane, 0, 0, 0);
      f.inc(out, () => f.get(dstPixel)).inc(x, 1);
    });
    f.inc(y, 1);
  });
  return f;
}

/**
 * v(src, rowStride, width, rows, ksize, rowOffsets, lengths, fixed, dst): for each
 * output row, sums its taps over the source rows sixteen samples at a time; the
 * last group is aligned to the row's end (overlapping, recomputing the same bytes)
 * so `width` need only be >= 16.
 */
function verticalKernel(): FunctionBuilder {
  const f = new FunctionBuilder(9);
  const [src, rowStride, width, rows, ksize, offsets, lengths, fixed, dst] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const y = f.i32(), i = f.i32(), at = f.i32(), base = f.i32(), p = f.i32(), t = f.i32(), n = f.i32(), w = f.i32();
  const wv = f.v128(), v = f.v128(), lo = f.v128(), hi = f.v128();
  const acc = [f.v128(), f.v128(), f.v128(), f.v128()];
  f.const(0).set(y);
  f.loopWhileLess(y, () => f.get(rows), () => {
    f.get(src).get(offsets).get(y).const(4).mul().add().load().add().set(base);
    f.get(lengths).get(y).const(4).mul().add().load().set(n);
    f.const(0).set(i);
    f.loopWhileLess(i, () => f.get(width), () => {
      // at = i < width - 16 ? i : width - 16
      f.get(i).get(width).const(16).sub().get(i).get(width).const(16).sub().lt().select().set(at);
      f.get(base).get(at).add().set(p);
      for (const a of acc) {
        halfVector(f);
        f.set(a);
      }
      f.get(fixed).get(y).get(ksize).mul().const(4).mul().add().set(w);
      f.const(0).set(t);
      f.loopWhileLess(t, () => f.get(n), () => {
        f.get(w).load().simd(Simd.i32x4Splat).set(wv);
        f.get(p).simd(Simd.load, 0, 0).set(v);
        f.get(v).simd(Simd.i16x8ExtendLowI8x16U).set(lo);
        f.get(v).simd(Simd.i16x8ExtendHighI8x16U).set(hi);
        const parts: Array<[number, number]> = [[lo, Simd.i32x4ExtendLowI16x8U], [lo, Simd.i32x4ExtendHighI16x8U], [hi, Simd.i32x4ExtendLowI16x8U], [hi, Simd.i32x4ExtendHighI16x8U]];
        parts.forEach(([half, widen], k) => {
          f.get(acc[k]!).get(half).simd(widen).get(wv).simd(Simd.i32x4Mul).simd(Simd.i32x4Add).set(acc[k]!);
        });
        f.inc(p, () => f.get(rowStride)).inc(w, 4).inc(t, 1);
      });
      f.get(dst).get(y).get(width).mul().add().get(at).add();
      for (const pair of [[0, 1], [2, 3]]) {
        for (const k of pair) f.get(acc[k]!).const(PRECISION_BITS).simd(Simd.i32x4ShrS);
        f.simd(Simd.i16x8NarrowI32x4S);
      }
      f.simd(Simd.i8x16NarrowI16x8U);
      f.simd(Simd.store, 0, 0);
      f.inc(i, 16);
    });
    f.inc(y, 1);
  });
  return f;
}

interface Kernels {
  h: (...args: number[]) => void;
  v: (...args: number[]) => void;
}

/** Compiled once per thread; undefined where the engine lacks SIMD (the JS loops then run). */
const kernels = instantiate<Kernels>([{ name: 'h', fn: horizontalKernel() }, { name: 'v', fn: verticalKernel() }]);

/** Whether the SIMD kernels run on this engine. */
export const simdAvailable = kernels !== undefined;

/** Lays out regions in the module's memory (16-byte aligned), growing it as needed. */
class Arena {
  private used = 0;
  private readonly parts: Array<{ at: number; data: Uint8Array | Int32Array }> = [];

  /** Reserves `bytes` (+ slack); returns the offset. */
  reserve(bytes: number): number {
    const at = this.used;
    this.used = (at + bytes + SLACK + 15) & ~15;
    return at;
  }

  /** Reserves room for `data` and copies it in once the arena is committed. */
  put(data: Uint8Array | Int32Array): number {
    const at = this.reserve(data.byteLength);
    this.parts.push({ at, data });
    return at;
  }

  /** Grows the memory if needed and copies the inputs; false when over the size limit. */
  commit(k: NonNullable<typeof kernels>): boolean {
    if (this.used > MAX_BYTES) return false;
    const heap = heapOf(k.memory, this.used);
    for (const { at, data } of this.parts) heap.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    return true;
  }
}

/**
 * SIMD version of resample.ts's horizontal8 for 3 or 4 channels; returns false
 * (having written nothing) when it does not apply, so the caller runs the JS loop.
 */
export function horizontal8Simd(src: PlaneView<Uint8Array>, channels: number, rowFrom: number, rowTo: number, taps: AxisTaps, dst: Uint8Array): boolean {
  const k = kernels;
  const { pixelStride: ps, rowStride } = src;
  if (!k || (channels !== 3 && channels !== 4) || ps < channels) return false;
  const rows = rowTo - rowFrom;
  const cols = taps.start.length;
  // The rows read, from the first one's first sample to the last one's end.
  const first = (rowFrom - src.firstRow) * rowStride - src.firstCol * ps;
  const region = src.data.subarray(first, Math.min(src.data.length, first + rows * rowStride));
  const startBytes = Int32Array.from(taps.start, (s) => s * ps);
  const arena = new Arena();
  const srcAt = arena.put(region);
  const startsAt = arena.put(startBytes);
  const lengthsAt = arena.put(taps.length);
  const fixedAt = arena.put(taps.fixed);
  const dstAt = arena.reserve(rows * cols * channels);
  if (!arena.commit(k)) return false;
  k.h(srcAt, rowStride, ps, rows, cols, taps.ksize, startsAt, lengthsAt, fixedAt, dstAt, channels);
  dst.set(new Uint8Array(k.memory.buffer, dstAt, rows * cols * channels));
  return true;
}

/**
 * SIMD version of resample.ts's vertical8 for packed pixels (`pixelStride ===
 * channels`) and rows of at least 16 samples; false when it does not apply.
 */
export function vertical8Simd(src: PlaneView<Uint8Array>, channels: number, colFrom: number, cols: number, taps: AxisTaps, dst: Uint8Array): boolean {
  const k = kernels;
  const { rowStride, pixelStride: ps } = src;
  const width = cols * channels;
  if (!k || ps !== channels || width < 16) return false;
  const rows = taps.start.length;
  const firstRow = taps.start[0]!;
  const lastRow = taps.start[rows - 1]! + taps.length[rows - 1]!;
  // Source rows firstRow..lastRow, from column colFrom to the end of the last row read.
  const first = (firstRow - src.firstRow) * rowStride + (colFrom - src.firstCol) * ps;
  const region = src.data.subarray(first, first + (lastRow - firstRow - 1) * rowStride + width);
  const offsets = Int32Array.from(taps.start, (s) => (s - firstRow) * rowStride);
  const arena = new Arena();
  const srcAt = arena.put(region);
  const offsetsAt = arena.put(offsets);
  const lengthsAt = arena.put(taps.length);
  const fixedAt = arena.put(taps.fixed);
  const dstAt = arena.reserve(rows * width);
  if (!arena.commit(k)) return false;
  k.v(srcAt, rowStride, width, rows, taps.ksize, offsetsAt, lengthsAt, fixedAt, dstAt);
  dst.set(new Uint8Array(k.memory.buffer, dstAt, rows * width));
  return true;
}
