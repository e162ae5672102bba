/**
 * `ToTensor` + `Normalize` of an RGB crop as a WebAssembly SIMD kernel: sixteen
 * pixels at a time are split into their three planes with byte swizzles, widened
 * to float32 and taken through `(v / 255 - mean) / std`. Each float32 operation is
 * correctly rounded, as the lookup tables of preprocess.ts are built, so the
 * floats are the same bits. It runs on the event loop for every image of a batch,
 * where the table loop cost ~0.3 ms per 224x224 crop (the kernel: ~0.1).
 *
 * Only packed RGB crops (3 bytes per pixel) take it; the caller's tables do the
 * rest, and the last `pixels % 16` pixels.
 */
import { FunctionBuilder, heapOf, instantiate, Simd } from './wasm-module.js';

/** Floats kept at the start of memory: 255, then mean and std of each channel. */
const CONSTS = 7 * 4;

/** The shuffle that gathers channel `ch` of pixels 0..15 from the 16-byte part `part` of a 48-byte block (0x80 = zero). */
function gatherMask(ch: number, part: number): number[] {
  return Array.from({ length: 16 }, (_, k) => {
    const at = 3 * k + ch - 16 * part;
    return at >= 0 && at < 16 ? at : 0x80;
  });
}

/**
 * n(src, groups, dst, plane): for each group of 16 pixels at `src + 48 g`, writes
 * channel c's 16 floats at `dst + c * plane + 64 g`.
 */
function normaliseKernel(): FunctionBuilder {
  const f = new FunctionBuilder(4);
  const [src, groups, dst, plane] = [0, 1, 2, 3];
  const g = f.i32(), p = f.i32(), out = f.i32();
  const parts = [f.v128(), f.v128(), f.v128()];
  const bytes = f.v128(), half = f.v128();
  const scale = f.v128(), mean = [f.v128(), f.v128(), f.v128()], std = [f.v128(), f.v128(), f.v128()];
  // f32.load (0x2a) of the constant at `at`, in all four lanes.
  const splat = (local: number, at: number) => f.const(at).op(0x2a, 2, 0).simd(Simd.f32x4Splat).set(local);
  splat(scale, 0);
  for (let c = 0; c < 3; c++) {
    splat(mean[c]!, 4 + 4 * c);
    splat(std[c]!, 16 + 4 * c);
  }
  f.const(0).set(g);
  f.loopWhileLess(g, () => f.get(groups), () => {
    f.get(src).get(g).const(48).mul().add().set(p);
    parts.forEach((v, k) => f.get(p).simd(Simd.load, 0, 16 * k).set(v));
    for (let c = 0; c < 3; c++) {
      // The channel's 16 bytes: one swizzle per 16-byte part, or-ed together.
      parts.forEach((v, k) => {
        f.get(v).simd(Simd.const, ...gatherMask(c, k)).simd(Simd.i8x16Swizzle);
        if (k > 0) f.simd(Simd.v128Or);
      });
      f.set(bytes);
      f.get(dst).get(plane).const(c).mul().add().get(g).const(64).mul().add().set(out);
      for (const [widen8, widen16s] of [[Simd.i16x8ExtendLowI8x16U, [Simd.i32x4ExtendLowI16x8U, Simd.i32x4ExtendHighI16x8U]], [Simd.i16x8ExtendHighI8x16U, [Simd.i32x4ExtendLowI16x8U, Simd.i32x4ExtendHighI16x8U]]] as const) {
        f.get(bytes).simd(widen8).set(half);
        for (const widen16 of widen16s) {
          f.get(out);
          f.get(half).simd(widen16).simd(Simd.f32x4ConvertI32x4U);
          f.get(scale).simd(Simd.f32x4Div).get(mean[c]!).simd(Simd.f32x4Sub).get(std[c]!).simd(Simd.f32x4Div);
          f.simd(Simd.store, 0, 0);
          f.inc(out, 16);
        }
      }
    }
    f.inc(g, 1);
  });
  return f;
}

/** Compiled once per thread; undefined where the engine lacks SIMD (the tables then run). */
const kernel = instantiate<{ n: (src: number, groups: number, dst: number, plane: number) => void }>([{ name: 'n', fn: normaliseKernel() }]);

/** Above this (CLIP crops are 224-448) a one-off huge crop takes the table loop rather than pin ~16 MB or more. */
const MAX_PIXELS = 1024 * 1024;

/**
 * Writes the first `16 * floor(pixels / 16)` pixels of each plane of a packed RGB
 * crop into `out` (planes of `pixels` floats from `offset`); returns how many
 * pixels it wrote (0 when it does not apply), the caller writes the rest.
 */
export function normaliseRgbSimd(rgb: Uint8Array, pixels: number, out: Float32Array, offset: number, mean: readonly number[], std: readonly number[]): number {
  const k = kernel;
  const groups = Math.floor(pixels / 16);
  if (!k || groups === 0 || pixels > MAX_PIXELS || rgb.length < pixels * 3) return 0;
  const srcAt = CONSTS + 4; // 32: 16-byte aligned
  const dstAt = (srcAt + pixels * 3 + 15) & ~15;
  const memory = heapOf(k.memory, dstAt + 3 * pixels * 4).buffer;
  new Float32Array(memory, 0, 7).set([255, ...mean, ...std]);
  new Uint8Array(memory, srcAt, groups * 48).set(rgb.subarray(0, groups * 48));
  k.n(srcAt, groups, dstAt, pixels * 4);
  const done = groups * 16;
  for (let c = 0; c < 3; c++) out.set(new Float32Array(memory, dstAt + c * pixels * 4, done), offset + c * pixels);
  return done;
}
