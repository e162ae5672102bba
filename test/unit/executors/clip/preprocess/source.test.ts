// The three image sources: bytes, data: URIs (base64 or percent-encoded) and tensors
// (Image.fromarray's modes), all reduced to the same decoded image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NdArray } from '../../../../../core/document/ndarray.js';
import { decodeImage, imageFromTensor, parseDataUri, preprocessImage } from '../../../../../executors/clip/preprocess/index.js';
import { imageBytes } from './fixtures.js';

test('base64 data URIs decode like the blob (padding, whitespace, URL-safe alphabet)', async () => {
  const png = imageBytes('palette_97x61.png');
  const b64 = Buffer.from(png).toString('base64');
  const blob = await preprocessImage(png, { size: 32 });
  const variants = [
    `data:image/png;base64,${b64}`,
    `DATA:Image/PNG;BASE64,${b64.replace(/(.{76})/g, '$1\r\n')}`,
    `data:;base64,${b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`,
    `data:image/png;base64,${encodeURIComponent(b64)}`,
  ];
  for (const uri of variants) assert.deepEqual(await preprocessImage(uri, { size: 32 }), blob, uri.slice(0, 30));
  assert.equal(parseDataUri(variants[0]!).mediaType, 'image/png');
  assert.equal(parseDataUri(variants[2]!).mediaType, '');
});

test('percent-encoded (non-base64) data URIs carry raw bytes', async () => {
  const png = imageBytes('tiny_3x5.png');
  const encoded = Array.from(png, (b) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`).join('');
  const uri = `data:image/png,${encoded}`;
  assert.deepEqual(parseDataUri(uri).bytes, png);
  assert.deepEqual(await preprocessImage(uri, { size: 32 }), await preprocessImage(png, { size: 32 }));
});

test('tensor modes follow Image.fromarray: [H,W] and [H,W,1] L, 2 LA, 3 RGB, 4 RGBA', () => {
  const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 251);
  assert.equal(imageFromTensor(NdArray.from(bytes(6), [2, 3])).mode, 'L');
  assert.equal(imageFromTensor(NdArray.from(bytes(6), [2, 3, 1])).mode, 'L');
  assert.equal(imageFromTensor(NdArray.from(bytes(12), [2, 3, 2])).mode, 'LA');
  assert.equal(imageFromTensor(NdArray.from(bytes(18), [2, 3, 3])).mode, 'RGB');
  const rgba = imageFromTensor(NdArray.from(bytes(24), [2, 3, 4]));
  assert.deepEqual([rgba.mode, rgba.width, rgba.height, rgba.channels, rgba.format], ['RGBA', 3, 2, 4, 'tensor']);
  // dtype aliases numpy writes are accepted.
  assert.equal(imageFromTensor(new NdArray(bytes(6), [2, 3], 'uint8')).mode, 'L');
});

test('a grey tensor equals the same grey values as RGB, and [H,W,1] equals [H,W]', async () => {
  const h = 37;
  const w = 53;
  const grey = Uint8Array.from({ length: h * w }, (_, i) => (i * 37 + (i % w) * 11) % 256);
  const rgb = new Uint8Array(h * w * 3);
  grey.forEach((v, i) => rgb.fill(v, i * 3, i * 3 + 3));
  const a = await preprocessImage(NdArray.from(grey, [h, w]), { size: 32 });
  const b = await preprocessImage(NdArray.from(grey, [h, w, 1]), { size: 32 });
  const c = await preprocessImage(NdArray.from(rgb, [h, w, 3]), { size: 32 });
  assert.deepEqual(a, b);
  assert.deepEqual(a, c);
});

test('decodeImage reports format, size and the first frame only', async () => {
  const gif = await decodeImage(imageBytes('anim_72x48.gif'));
  assert.deepEqual([gif.format, gif.width, gif.height, gif.mode], ['gif', 72, 48, 'P']);
  const jpeg = await decodeImage(imageBytes('exif_rot6_96x64.jpg'));
  // EXIF orientation 6 would make it 64x96; PIL does not rotate, neither do we.
  assert.deepEqual([jpeg.width, jpeg.height], [96, 64]);
  const grey16 = await decodeImage(imageBytes('grey16_64x48.png'));
  assert.ok(grey16.data instanceof Uint16Array, '16-bit grey keeps 16 bits');
  assert.ok(Math.max(...grey16.data) > 255);
});
