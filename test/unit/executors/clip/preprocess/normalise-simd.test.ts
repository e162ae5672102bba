// The SIMD normaliser must give torch's float32 bits, exactly as the table loop does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NdArray } from '../../../../../core/document/ndarray.js';
import { CLIP_NORMALIZATION, preprocessImage, type Normalization } from '../../../../../executors/clip/preprocess/index.js';
import { normaliseRgbSimd } from '../../../../../executors/clip/preprocess/normalise-simd.js';

/** torch's ToTensor + Normalize on one byte, rounding to float32 at each step. */
function torchValue(v: number, c: number, norm: Normalization): number {
  return Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(norm.mean[c]!)) / Math.fround(norm.std[c]!));
}

/** An S x S x C uint8 image where every byte value occurs in every channel, scattered. */
function everyByte(size: number, channels: number, seed: number): Uint8Array {
  const out = new Uint8Array(size * size * channels);
  for (let i = 0; i < out.length; i++) out[i] = (i * 167 + seed * 31 + (i >> 8)) & 0xff;
  return out;
}

const NORMS: Normalization[] = [CLIP_NORMALIZATION, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, { mean: [0.1234, 0.9, 0], std: [0.0071, 3.3, 1] }];

test('the kernel runs on this engine and writes whole groups of sixteen pixels, up to a megapixel', () => {
  const out = new Float32Array(3 * 40);
  assert.equal(normaliseRgbSimd(everyByte(1, 120, 1), 40, out, 0, CLIP_NORMALIZATION.mean, CLIP_NORMALIZATION.std), 32);
  assert.equal(normaliseRgbSimd(new Uint8Array(45), 15, new Float32Array(45), 0, CLIP_NORMALIZATION.mean, CLIP_NORMALIZATION.std), 0, 'fewer than 16 pixels: all left to the tables');
  const huge = (1 << 20) + 16;
  assert.equal(normaliseRgbSimd(new Uint8Array(3 * huge), huge, new Float32Array(3 * huge), 0, CLIP_NORMALIZATION.mean, CLIP_NORMALIZATION.std), 0, 'over a megapixel: left to the tables, no memory pinned');
});

test('RGB crops normalise to the bits torch computes, for sizes with and without a tail of pixels and any normalisation', async () => {
  for (const size of [224, 37, 4]) {
    for (const [n, normalization] of NORMS.entries()) {
      const rgb = everyByte(size, 3, size + n);
      const got = await preprocessImage(NdArray.from(rgb, [size, size, 3]), { size, normalization });
      const plane = size * size;
      const want = new Float32Array(3 * plane);
      for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) want[c * plane + p] = torchValue(rgb[3 * p + c]!, c, normalization);
      assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(want.buffer), `size ${size}, normalisation ${n}`);
    }
  }
});

test('into a batch at an offset, leaving the neighbours alone', () => {
  const rgb = everyByte(8, 3, 5);
  const out = new Float32Array(3 * 64 + 20).fill(-7);
  assert.equal(normaliseRgbSimd(rgb, 64, out, 10, CLIP_NORMALIZATION.mean, CLIP_NORMALIZATION.std), 64);
  assert.deepEqual([...out.subarray(0, 10), ...out.subarray(10 + 192)], new Array(20).fill(-7));
  for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) assert.equal(out[10 + c * 64 + p], torchValue(rgb[3 * p + c]!, c, CLIP_NORMALIZATION));
});
