// Properties of the PIL resampler port that the fixture tests cannot isolate:
// window restriction, weight normalisation, fixed point, mode sniffing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bicubicTaps, nearestTaps } from '../../../../../executors/clip/preprocess/resample.js';
import { gifMode, pngMode } from '../../../../../executors/clip/preprocess/index.js';

test('taps for a window equal the same positions of the full axis', () => {
  for (const [inSize, outSize] of [[640, 335], [427, 224], [3, 224], [224, 224], [10000, 7], [1, 32]] as const) {
    const full = bicubicTaps(inSize, outSize, 0, outSize);
    const first = Math.floor(outSize / 3);
    const count = Math.min(outSize - first, 5);
    const part = bicubicTaps(inSize, outSize, first, count);
    assert.equal(part.ksize, full.ksize);
    for (let i = 0; i < count; i++) {
      assert.equal(part.start[i], full.start[first + i]);
      assert.equal(part.length[i], full.length[first + i]);
      for (let k = 0; k < full.ksize; k++) {
        assert.equal(part.fixed[i * full.ksize + k], full.fixed[(first + i) * full.ksize + k]);
      }
    }
    const nearFull = nearestTaps(inSize, outSize, 0, outSize);
    assert.deepEqual(nearestTaps(inSize, outSize, first, count), nearFull.subarray(first, first + count));
  }
});

test('weights sum to one; fixed-point weights to about 2^22; taps stay in the image', () => {
  for (const [inSize, outSize] of [[640, 335], [3, 224], [1000, 224], [225, 224]] as const) {
    const t = bicubicTaps(inSize, outSize, 0, outSize);
    for (let i = 0; i < outSize; i++) {
      let sum = 0;
      let fixed = 0;
      for (let k = 0; k < t.length[i]!; k++) {
        sum += t.weights[i * t.ksize + k]!;
        fixed += t.fixed[i * t.ksize + k]!;
      }
      assert.ok(Math.abs(sum - 1) < 1e-12, `sum ${sum}`);
      assert.ok(Math.abs(fixed - (1 << 22)) <= t.length[i]!, `fixed sum ${fixed}`);
      assert.ok(t.start[i]! >= 0 && t.start[i]! + t.length[i]! <= inSize);
    }
  }
  // Upscaling keeps Keys's 4-tap kernel; shrinking by f widens it to about 4f taps.
  assert.equal(bicubicTaps(100, 400, 0, 400).ksize, 5);
  assert.equal(bicubicTaps(1000, 100, 0, 100).ksize, 41);
});

test('PNG and GIF headers give the mode PIL opens them in', () => {
  const png = (depth: number, colour: number) => {
    const b = new Uint8Array(33);
    b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    b[24] = depth;
    b[25] = colour;
    return b;
  };
  const cases: [number, number, string][] = [[1, 0, '1'], [2, 0, 'L'], [8, 0, 'L'], [16, 0, 'I'], [8, 2, 'RGB'], [16, 2, 'RGB'],
    [4, 3, 'P'], [8, 3, 'P'], [8, 4, 'LA'], [16, 4, 'RGBA'], [8, 6, 'RGBA'], [16, 6, 'RGBA']];
  for (const [depth, colour, mode] of cases) assert.equal(pngMode(png(depth, colour)), mode, `depth ${depth} colour ${colour}`);
  assert.equal(pngMode(new Uint8Array(40)), undefined);

  const gif = (table: number[]) => {
    const head = [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 2, 0, 2, 0, 0x80, 0, 0]; // 2-entry global table
    const descriptor = [0x2c, 0, 0, 0, 0, 2, 0, 2, 0, 0];
    return Uint8Array.from([...head, ...table, 0x21, 0xf9, 4, 0, 0, 0, 0, 0, ...descriptor]);
  };
  assert.equal(gifMode(gif([0, 0, 0, 1, 1, 1])), 'L', 'identity grey ramp is dropped');
  assert.equal(gifMode(gif([0, 0, 0, 255, 255, 255])), 'P');
});
