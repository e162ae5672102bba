/**
 * PNG's row filters undone as a WebAssembly SIMD kernel, one pixel per step with
 * its channels in the lanes of a vector (as libspng does): the left neighbour
 * stays in a register, so Sub, Average and Paeth run at a few cycles per pixel
 * rather than per byte. In JS the Paeth rows of a photo cost ~5 ns a byte, more
 * than sharp's whole decode; here under 2, copies in and out included.
 *
 * Each step loads 4 bytes and stores 4: for 1 or 3 bytes per pixel the extra
 * lanes land on the next pixel, which its own step overwrites, so rows are laid
 * out with slack after the last. The caller has checked every filter byte.
 */
import { FunctionBuilder, heapOf, instantiate, Simd } from './wasm-module.js';

/**
 * row(filter, raw, out, above, pixels, bpp): undoes filter 1-4 over one row of
 * `pixels` pixels from `raw` into `out`, `above` being the row above (unfiltered).
 */
function rowKernel(): FunctionBuilder {
  const f = new FunctionBuilder(6);
  const [filter, raw, out, above, pixels, bpp] = [0, 1, 2, 3, 4, 5];
  const x = f.i32();
  const a = f.v128(), b = f.v128(), c = f.v128(), r = f.v128(), pred = f.v128(), low = f.v128();
  const pa = f.v128(), pb = f.v128(), pc = f.v128(), da = f.v128(), db = f.v128();
  const widen = (ptr: number) => f.get(ptr).simd(Simd.load32Zero, 0, 0).simd(Simd.i16x8ExtendLowI8x16U);
  const abs = (into: number) => f.simd(Simd.i16x8Abs).set(into);
  f.simd(Simd.const, ...new Array<number>(16).fill(0)).set(a);
  f.get(a).set(c);
  f.simd(Simd.const, ...Array.from({ length: 8 }, () => [0xff, 0]).flat()).set(low);
  f.const(0).set(x);
  f.loopWhileLess(x, () => f.get(pixels), () => {
    widen(raw).set(r);
    widen(above).set(b);
    // The predictor for this filter, into `pred`.
    f.get(filter).const(1).eq().if(() => f.get(a).set(pred));
    f.get(filter).const(2).eq().if(() => f.get(b).set(pred));
    f.get(filter).const(3).eq().if(() => f.get(a).get(b).simd(Simd.i16x8Add).const(1).simd(Simd.i16x8ShrU).set(pred));
    f.get(filter).const(4).eq().if(() => {
      f.get(b).get(c).simd(Simd.i16x8Sub).set(db);
      f.get(a).get(c).simd(Simd.i16x8Sub).set(da);
      f.get(db);
      abs(pa);
      f.get(da);
      abs(pb);
      f.get(da).get(db).simd(Simd.i16x8Add);
      abs(pc);
      // a where pa <= pb and pa <= pc, else b where pb <= pc, else c.
      f.get(a);
      f.get(b).get(c).get(pb).get(pc).simd(Simd.i16x8LeS).simd(Simd.v128Bitselect);
      f.get(pa).get(pb).simd(Simd.i16x8LeS).get(pa).get(pc).simd(Simd.i16x8LeS).simd(Simd.v128And);
      f.simd(Simd.v128Bitselect).set(pred);
    });
    f.get(r).get(pred).simd(Simd.i16x8Add).get(low).simd(Simd.v128And).set(a);
    f.get(out).get(a).get(a).simd(Simd.i8x16NarrowI16x8U).simd(Simd.store32Lane, 0, 0, 0);
    f.get(b).set(c);
    f.inc(raw, () => f.get(bpp)).inc(above, () => f.get(bpp)).inc(out, () => f.get(bpp)).inc(x, 1);
  });
  return f;
}

/** Compiled once per thread; undefined where the engine lacks SIMD (sharp then decodes). */
const kernel = instantiate<{ row: (filter: number, raw: number, out: number, above: number, pixels: number, bpp: number) => void }>([{ name: 'row', fn: rowKernel() }]);

/**
 * Unfilters `height` scanlines (each a filter byte 0-4, then `width` pixels of
 * `bpp` bytes, 1-4) into a new array; undefined where the engine has no SIMD.
 */
export function unfilterSimd(scanlines: Uint8Array, width: number, height: number, bpp: number): Uint8Array | undefined {
  const k = kernel;
  if (!k) return undefined;
  const stride = width * bpp;
  // Memory: a zero row (the row above the first), the scanlines, the output; 4 bytes of slack after each.
  const rawAt = stride + 4;
  const outAt = rawAt + scanlines.length + 4;
  const heap = heapOf(k.memory, outAt + height * stride + 4);
  heap.fill(0, 0, rawAt);
  heap.set(scanlines, rawAt);
  for (let y = 0; y < height; y++) {
    const filter = heap[rawAt + y * (stride + 1)]!;
    const src = rawAt + y * (stride + 1) + 1;
    const dst = outAt + y * stride;
    if (filter === 0) heap.copyWithin(dst, src, src + stride);
    else k.row(filter, src, dst, y === 0 ? 0 : dst - stride, width, bpp);
  }
  return heap.slice(outAt, outAt + height * stride);
}
