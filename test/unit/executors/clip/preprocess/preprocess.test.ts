// The batch-facing API: writing into a shared tensor at offsets, custom Normalize
// values, guards against misuse, and how sharp is set up for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  cropImage, decodeBytes, decodeImage, normaliseCropInto, preprocessImage, preprocessInto, preprocessToUint8, type DecodedImage,
} from '../../../../../executors/clip/preprocess/index.js';
import { imageBytes } from './fixtures.js';

const NAMES = ['photo_640x427.jpg', 'rgba_130x70.png', 'palette_97x61.png', 'grey16_64x48.png', 'cmyk_90x70.jpg'];

test('a batch filled at offsets equals the images preprocessed one by one', async () => {
  const size = 32;
  const plane = 3 * size * size;
  const images = await Promise.all(NAMES.map((n) => decodeImage(imageBytes(n))));
  const batch = new Float32Array(NAMES.length * plane);
  images.forEach((image, i) => preprocessInto(image, size, batch, i * plane));
  for (let i = 0; i < NAMES.length; i++) {
    assert.deepEqual(batch.subarray(i * plane, (i + 1) * plane), await preprocessImage(imageBytes(NAMES[i]!), { size }), NAMES[i]);
  }
});

test('crops made ahead (own buffers) and normalised later equal preprocessInto, bit for bit', async () => {
  const size = 32;
  const plane = 3 * size * size;
  const images = await Promise.all(NAMES.map((n) => decodeImage(imageBytes(n))));
  // All crops first, then all normalisations: a shared scratch buffer would leave every crop equal to the last.
  const crops = images.map((image) => cropImage(image, size));
  const staged = new Float32Array(NAMES.length * plane);
  crops.forEach((crop, i) => normaliseCropInto(crop, staged, i * plane));
  const direct = new Float32Array(NAMES.length * plane);
  images.forEach((image, i) => preprocessInto(image, size, direct, i * plane));
  assert.deepEqual(staged, direct);
});

test('concurrent calls do not disturb each other (scratch buffers are per call)', async () => {
  const sequential: Float32Array[] = [];
  for (const n of NAMES) sequential.push(await preprocessImage(imageBytes(n)));
  const concurrent = await Promise.all([...NAMES, ...NAMES].map((n) => preprocessImage(imageBytes(n))));
  concurrent.forEach((t, i) => assert.deepEqual(t, sequential[i % NAMES.length]));
});

test('custom Normalize values: mean 0, std 1 gives ToTensor output (byte / 255)', async () => {
  const image = await decodeImage(imageBytes('tall_150x400.png'));
  const bytes = preprocessToUint8(image, 32);
  const out = new Float32Array(bytes.length);
  preprocessInto(image, 32, out, 0, { mean: [0, 0, 0], std: [1, 1, 1] });
  bytes.forEach((b, i) => assert.equal(out[i], Math.fround(b / 255)));
});

test('misuse is refused: output too small, bad offset, malformed decoded image', () => {
  const image: DecodedImage = { data: new Uint8Array(12), width: 2, height: 2, channels: 3, mode: 'RGB', format: 'raw' };
  assert.throws(() => preprocessInto(image, 32, new Float32Array(3 * 32 * 32 - 1)), RangeError);
  assert.throws(() => preprocessInto(image, 32, new Float32Array(3 * 32 * 32), 1), RangeError);
  assert.throws(() => preprocessInto(image, 32, new Float32Array(3 * 32 * 32), -1), RangeError);
  preprocessInto(image, 32, new Float32Array(3 * 32 * 32));
  assert.throws(() => preprocessToUint8({ ...image, data: new Uint8Array(11) }, 32), TypeError);
  assert.throws(() => preprocessToUint8({ ...image, mode: 'RGBA' }, 32), /at least 4 channels/);
});

test('sharp decodes on one libvips thread per image and keeps no operation cache', async () => {
  await decodeBytes(imageBytes('tall_150x400.png'));
  assert.equal(sharp.concurrency(), 1, 'images decode side by side on the libuv pool, not each on every core');
  const cache = sharp.cache();
  assert.deepEqual([cache.memory.max, cache.files.max, cache.items.max], [0, 0, 0]);
  await decodeBytes(imageBytes('photo_640x427.jpg'));
  assert.equal(sharp.cache().memory.current, 0, 'no decoded pixels kept after a decode');
});
