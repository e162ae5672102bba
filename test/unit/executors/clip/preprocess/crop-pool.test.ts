import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { BadRequestError } from '../../../../../core/errors.js';
import { CropPool } from '../../../../../executors/clip/preprocess/crop-pool.js';
import { cropImage, decodeImage } from '../../../../../executors/clip/preprocess/index.js';

describe('CropPool', () => {
  const pool = new CropPool(2);
  after(() => pool.close());

  it('gives the crop the event loop would cut, for bytes and data: URIs', async () => {
    const jpeg = new Uint8Array(await sharp({ create: { width: 160, height: 107, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 40 } } }).jpeg().toBuffer());
    const rgba = new Uint8Array(await sharp({ create: { width: 50, height: 70, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 0.4 } } }).png().toBuffer());
    for (const source of [jpeg, rgba, `data:image/png;base64,${Buffer.from(rgba).toString('base64')}`]) {
      const local = cropImage(await decodeImage(source), 32);
      const pooled = await pool.crop(source, 32, 1e8);
      assert.deepEqual({ ...pooled, pixels: Array.from(pooled.pixels) }, { ...local, pixels: Array.from(local.pixels) });
    }
  });

  it('copies only the image out of a larger buffer, leaving the buffer to its owner', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c83' } }).png().toBuffer();
    const body = new Uint8Array(png.length + 200);
    body.set(png, 100);
    const view = body.subarray(100, 100 + png.length);
    // A Node Buffer too, whose slice() is a view: the pool must not move its memory away.
    const nodeBuffer = Buffer.concat([Buffer.alloc(64), png, Buffer.alloc(10_000)]).subarray(64, 64 + png.length);
    for (const source of [view, nodeBuffer]) assert.equal((await pool.crop(source, 32, 1e8)).size, 32);
    assert.equal(body.byteLength, png.length + 200, 'the request buffer is not detached');
    assert.deepEqual(Array.from(view), Array.from(png));
    assert.deepEqual(Array.from(nodeBuffer), Array.from(png));
  });

  it('a bad image is a BadRequestError with the decoder reason; the pool keeps working', async () => {
    await assert.rejects(pool.crop(new Uint8Array([1, 2, 3, 4]), 32, 1e8), (e: Error) => e instanceof BadRequestError && /not a recognised image/.test(e.message));
    const big = new Uint8Array(await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000' } }).png().toBuffer());
    await assert.rejects(pool.crop(big, 32, 1000), (e: Error) => e instanceof BadRequestError && /90000 pixels|300x300/.test(e.message));
    assert.equal((await pool.crop(big, 32, 1e8)).size, 32);
  });
});
