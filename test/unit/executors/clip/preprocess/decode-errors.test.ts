// Unusable input is the caller's mistake: BadRequestError (INVALID_ARGUMENT) with a
// reason, never a crash or a generic error; oversized images are refused from the
// header, before any pixel is decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { BadRequestError } from '../../../../../core/errors.js';
import { NdArray } from '../../../../../core/document/ndarray.js';
import { decodeBytes, decodeImage, preprocessImage } from '../../../../../executors/clip/preprocess/index.js';
import { imageBytes, pngChunk as chunk } from './fixtures.js';

/** A PNG whose header claims width x height but whose data is a few bytes: a pixel bomb. */
function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', new Uint8Array(0))]));
}

async function rejects(input: Parameters<typeof decodeImage>[0], pattern: RegExp, opts?: Parameters<typeof decodeImage>[1]): Promise<void> {
  await assert.rejects(decodeImage(input, opts), (e: unknown) => {
    assert.ok(e instanceof BadRequestError, `expected BadRequestError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_ARGUMENT');
    assert.equal(e.httpStatus, 400);
    assert.match(e.message, pattern);
    return true;
  });
}

test('empty, non-image and unsupported data are refused with a reason', async () => {
  await rejects(new Uint8Array(0), /empty \(0 bytes\)/);
  await rejects(Uint8Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 256), /not a recognised image/);
  await rejects(new TextEncoder().encode('just some text, not an image\n'.repeat(20)), /not a recognised image/);
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>';
  await rejects(new TextEncoder().encode(svg), /unsupported image format 'svg'/);
});

test('truncated and corrupt images are refused, not half-decoded', async () => {
  const jpeg = imageBytes('photo_640x427.jpg');
  await rejects(jpeg.subarray(0, jpeg.length >> 1), /corrupt or truncated jpeg image: .*premature end/i);
  await rejects(jpeg.subarray(0, 300), /corrupt or truncated/);
  const png = imageBytes('square_224.png');
  await rejects(png.subarray(0, png.length >> 1), /corrupt or truncated png image/);
  const broken = new Uint8Array(png);
  broken.fill(0x55, 200, 260); // garbage inside the compressed stream
  await rejects(broken, /corrupt or truncated/);
});

test('a pixel bomb is refused from its header (50000x50000 claimed, 150 bytes sent)', async () => {
  const bomb = pngHeader(50000, 50000);
  assert.ok(bomb.length < 200);
  const before = process.memoryUsage().rss;
  await rejects(bomb, /50000x50000 \(2500\.0 megapixels\), over the limit of 100\.0 megapixels/);
  assert.ok(process.memoryUsage().rss - before < 256 << 20, 'nothing close to 7.5 GB was allocated');
  // The limit is configurable, and a 1x1 image is valid input.
  await rejects(pngHeader(2, 2), /over the limit/, { maxPixels: 3 });
  const one = await decodeBytes(imageBytes('one_1x1.png'), { maxPixels: 1 });
  assert.deepEqual([one.width, one.height], [1, 1]);
  assert.equal((await preprocessImage(imageBytes('one_1x1.png'), { maxPixels: 1 })).length, 3 * 224 * 224);
});

test('data: URIs: invalid base64 and malformed URIs are refused', async () => {
  await rejects('data:image/png;base64,iVBOR*w0KGgo!!', /invalid data URI: the payload is not valid base64/);
  await rejects('data:image/png;base64,iVBORw0KGgoAA', /not valid base64/); // 4k+1 characters
  await rejects('data:image/png;base64,iVBORw0KGgo%zz', /bad percent escape/);
  await rejects('data:image/png;base64', /no comma/);
  await rejects('data:image/png;base64,', /empty/);
  await rejects('data:,hello%20world', /not a recognised image/);
  await rejects('data:,%zz', /bad percent escape/);
  await rejects('https://example.com/cat.jpg', /only data: URIs/);
  await rejects('/etc/passwd', /only data: URIs/);
});

test('tensors: wrong dtype, shape, byte count or size are refused', async () => {
  await rejects(NdArray.from(new Float32Array(12), [2, 2, 3]), /must be uint8/);
  await rejects(NdArray.from(new Uint8Array(10), [10]), /shape \[H, W\] or \[H, W, C\]/);
  await rejects(NdArray.from(new Uint8Array(40), [2, 4, 5]), /C in 1\.\.4/);
  await rejects(NdArray.from(new Uint8Array(11), [2, 2, 3]), /needs 12 bytes, got 11/);
  await rejects(NdArray.from(new Uint8Array(0), [0, 5, 3]), /empty/);
  // A tensor shape is a header too: refused before its (missing) bytes matter.
  await rejects(NdArray.from(new Uint8Array(3), [50000, 50000, 3]), /over the limit/);
});
