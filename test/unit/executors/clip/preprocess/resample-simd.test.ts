// The SIMD kernels must give exactly the bytes of the JS loops (which match Pillow):
// random images, shrinking and enlarging, RGB / RGBA / padded pixels, odd widths.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bicubicTaps, horizontal8, vertical8, type PlaneView } from '../../../../../executors/clip/preprocess/resample.js';
import { horizontal8Simd, simdAvailable, vertical8Simd } from '../../../../../executors/clip/preprocess/resample-simd.js';
import { prng } from '../../../../../bench/prng.js';

function randomPlane(width: number, height: number, stride: number, seed: number): PlaneView<Uint8Array> {
  const rand = prng(seed);
  // Smooth gradients plus noise and hard edges: overshoot drives sums below 0 and above 255.
  const data = Uint8Array.from({ length: width * height * stride }, (_, i) => {
    const x = Math.floor(i / stride) % width;
    return (x % 7 < 2 ? 255 : 0) ^ Math.floor(rand() * 64);
  });
  return { data, rowStride: width * stride, pixelStride: stride, firstRow: 0, firstCol: 0 };
}

describe('resample SIMD kernels', () => {
  it('are available on this Node', () => {
    assert.equal(simdAvailable, true);
  });

  const cases = [
    // [source width, height, output size, pixel stride, channels]
    [640, 427, 224, 3, 3],
    [427, 640, 224, 4, 3],
    [300, 301, 224, 4, 4],
    [97, 55, 40, 3, 3],
    [50, 80, 224, 3, 3], // enlarging
    [2000, 1500, 224, 3, 3],
    [23, 19, 6, 4, 4], // 24-sample rows: one full vector and one overlapping
  ] as const;
  for (const [w, h, size, stride, channels] of cases) {
    it(`horizontal and vertical passes equal the JS loops: ${w}x${h} -> ${size}, ${channels} of ${stride} samples`, () => {
      const src = randomPlane(w, h, stride, w * 31 + h);
      const outW = Math.max(size, Math.round((w / Math.min(w, h)) * size));
      const outH = Math.max(size, Math.round((h / Math.min(w, h)) * size));
      const left = Math.floor((outW - size) / 2);
      const top = Math.floor((outH - size) / 2);
      const xt = bicubicTaps(w, outW, left, size);
      const yt = bicubicTaps(h, outH, top, size);
      const y0 = yt.start[0]!;
      const y1 = yt.start[size - 1]! + yt.length[size - 1]!;
      const js = new Uint8Array((y1 - y0) * size * channels);
      const simd = new Uint8Array(js.length);
      horizontal8(src, channels, y0, y1, xt, js);
      assert.equal(horizontal8Simd(src, channels, y0, y1, xt, simd), true);
      assert.deepEqual(simd, js);

      const temp: PlaneView<Uint8Array> = { data: js, rowStride: size * channels, pixelStride: channels, firstRow: y0, firstCol: 0 };
      const jsOut = new Uint8Array(size * size * channels);
      const simdOut = new Uint8Array(jsOut.length);
      vertical8(temp, channels, 0, size, yt, jsOut);
      assert.equal(vertical8Simd(temp, channels, 0, size, yt, simdOut), true);
      assert.deepEqual(simdOut, jsOut);
      // Enlarging hard edges overshoots: there the clip to 0..255 is exercised at both ends.
      if (w < size) assert.ok(jsOut.some((v) => v === 0) && jsOut.some((v) => v === 255), 'the case exercises clipping at both ends');
    });
  }

  it('a vertical pass straight over a padded source equals the JS loop (column window, first row offset)', () => {
    const src = { ...randomPlane(120, 90, 3, 5), firstRow: 0 };
    const yt = bicubicTaps(90, 60, 2, 40);
    const js = new Uint8Array(40 * 50 * 3);
    const simd = new Uint8Array(js.length);
    vertical8(src, 3, 30, 50, yt, js);
    assert.equal(vertical8Simd(src, 3, 30, 50, yt, simd), true);
    assert.deepEqual(simd, js);
  });

  it('declines what it does not handle, leaving it to the JS loops', () => {
    const grey = randomPlane(64, 64, 1, 1);
    const taps = bicubicTaps(64, 32, 0, 32);
    assert.equal(horizontal8Simd(grey, 1, 0, 64, taps, new Uint8Array(64 * 32)), false);
    const narrow = randomPlane(5, 64, 3, 2); // 15 samples per row: under one vector
    assert.equal(vertical8Simd(narrow, 3, 0, 5, taps, new Uint8Array(32 * 15)), false);
    const padded = randomPlane(64, 64, 4, 3); // 3 channels read out of 4-sample pixels
    assert.equal(vertical8Simd(padded, 3, 0, 64, taps, new Uint8Array(32 * 64 * 3)), false);
  });
});
