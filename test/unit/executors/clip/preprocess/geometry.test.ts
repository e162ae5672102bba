// Resize/CenterCrop arithmetic: torchvision's formulas, including Python's
// half-to-even round for the crop offset. Expected values computed with Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centerCropOffset, planCrop, resizedSize, roundHalfEven } from '../../../../../executors/clip/preprocess/index.js';

// [width, height, S, resizedWidth, resizedHeight, top, left]
const CASES: [number, number, number, number, number, number, number][] = [
  [225, 224, 224, 225, 224, 0, 0], // (225-224)/2 = 0.5 rounds to 0, not 1
  [224, 225, 224, 224, 225, 0, 0],
  [300, 200, 224, 336, 224, 0, 56],
  [224, 673, 224, 224, 673, 224, 0], // 224.5 -> 224 (even)
  [227, 224, 224, 227, 224, 0, 2], // 1.5 -> 2
  [229, 224, 224, 229, 224, 0, 2], // 2.5 -> 2
  [231, 224, 224, 231, 224, 0, 4], // 3.5 -> 4
  [640, 427, 224, 335, 224, 0, 56], // int(335.74) = 335; 55.5 -> 56
  [427, 640, 224, 224, 335, 56, 0],
  [1, 1, 224, 224, 224, 0, 0],
  [3, 5, 224, 224, 373, 74, 0], // 74.5 -> 74
  [1000, 1, 224, 224000, 224, 0, 111888],
  [1, 1000, 32, 32, 32000, 15984, 0],
  [336, 336, 224, 224, 224, 0, 0],
  [224, 224, 224, 224, 224, 0, 0],
  [500, 375, 336, 448, 336, 0, 56],
  [77, 33, 32, 74, 32, 0, 21],
  [33, 77, 32, 32, 74, 21, 0],
];

test('Resize(S) size and CenterCrop(S) offsets match torchvision', () => {
  for (const [w, h, s, rw, rh, top, left] of CASES) {
    assert.deepEqual(resizedSize(w, h, s), [rw, rh], `${w}x${h} -> S=${s}`);
    const plan = planCrop(w, h, s);
    assert.deepEqual(
      [plan.resizedWidth, plan.resizedHeight, plan.top, plan.left, plan.size],
      [rw, rh, top, left, s],
      `${w}x${h} at S=${s}`,
    );
    // The crop always fits inside the resized image.
    assert.ok(plan.top + s <= plan.resizedHeight && plan.left + s <= plan.resizedWidth);
  }
});

test('roundHalfEven is Python 3 round()', () => {
  const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [3.5, 4], [224.5, 224], [225.5, 226], [0.49, 0], [0.51, 1], [7, 7], [-1.5, -2], [-2.5, -2]];
  for (const [x, want] of cases) assert.equal(roundHalfEven(x), want, `round(${x})`);
  assert.equal(centerCropOffset(449 + 224, 224), 224);
  assert.equal(centerCropOffset(224, 224), 0);
});

test('planCrop rejects sizes that are not positive integers', () => {
  assert.throws(() => planCrop(10, 10, 0), RangeError);
  assert.throws(() => planCrop(10, 10, 22.5), RangeError);
  assert.throws(() => planCrop(0, 10, 224), RangeError);
});
