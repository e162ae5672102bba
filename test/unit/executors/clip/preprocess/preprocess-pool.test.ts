import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { BadRequestError } from '../../../../../core/errors.js';
import { PreprocessPool, TASKS_PER_THREAD } from '../../../../../executors/clip/preprocess/preprocess-pool.js';
import { CLIP_NORMALIZATION, decodeImage, preprocessInto } from '../../../../../executors/clip/preprocess/index.js';

describe('PreprocessPool', () => {
  const pool = new PreprocessPool(2);
  after(() => pool.close());
  const otherNorm = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1] } as const;

  it('gives the pixels preprocessInto writes, for bytes and data: URIs, with the normalisation asked for', async () => {
    const jpeg = new Uint8Array(await sharp({ create: { width: 160, height: 107, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 40 } } }).jpeg().toBuffer());
    const rgba = new Uint8Array(await sharp({ create: { width: 50, height: 70, channels: 4, background: { r: 10, g: 200, b: 90, alpha: 0.4 } } }).png().toBuffer());
    for (const norm of [CLIP_NORMALIZATION, otherNorm]) {
      for (const source of [jpeg, rgba, `data:image/png;base64,${Buffer.from(rgba).toString('base64')}`]) {
        const local = new Float32Array(3 * 32 * 32);
        preprocessInto(await decodeImage(source), 32, local, 0, norm);
        assert.deepEqual(await pool.pixels(source, 32, 1e8, norm), local);
      }
    }
  });

  it('copies only the image out of a larger buffer, leaving the buffer to its owner', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c83' } }).png().toBuffer();
    const body = new Uint8Array(png.length + 200);
    body.set(png, 100);
    const view = body.subarray(100, 100 + png.length);
    // A Node Buffer too, whose slice() is a view: the pool must not move its memory away.
    const nodeBuffer = Buffer.concat([Buffer.alloc(64), png, Buffer.alloc(10_000)]).subarray(64, 64 + png.length);
    for (const source of [view, nodeBuffer]) assert.equal((await pool.pixels(source, 32, 1e8, CLIP_NORMALIZATION)).length, 3 * 32 * 32);
    assert.equal(body.byteLength, png.length + 200, 'the request buffer is not detached');
    assert.deepEqual(Array.from(view), Array.from(png));
    assert.deepEqual(Array.from(nodeBuffer), Array.from(png));
  });

  it('a bad image is a BadRequestError with the decoder reason; the pool keeps working', async () => {
    await assert.rejects(pool.pixels(new Uint8Array([1, 2, 3, 4]), 32, 1e8, CLIP_NORMALIZATION), (e: Error) => e instanceof BadRequestError && /not a recognised image/.test(e.message));
    const big = new Uint8Array(await sharp({ create: { width: 300, height: 300, channels: 3, background: '#000' } }).png().toBuffer());
    await assert.rejects(pool.pixels(big, 32, 1000, CLIP_NORMALIZATION), (e: Error) => e instanceof BadRequestError && /90000 pixels|300x300/.test(e.message));
    assert.equal((await pool.pixels(big, 32, 1e8, CLIP_NORMALIZATION)).length, 3 * 32 * 32);
  });

  it('one thread holds several images at once, each getting its own pixels, while their decodes wait on the libuv pool', async () => {
    const single = new PreprocessPool(1);
    try {
      const n = TASKS_PER_THREAD + 2;
      // Different sizes and formats, so crops that shared a buffer across their awaits would differ.
      const images = await Promise.all(Array.from({ length: n }, (_, i) => {
        const picture = sharp({ create: { width: 40 + 13 * i, height: 90 - 7 * i, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 40 + 20 * i, sigma: 30 } } });
        return (i % 2 ? picture.jpeg() : picture.png()).toBuffer().then((b) => new Uint8Array(b));
      }));
      await single.pixels(images[0]!, 32, 1e8, CLIP_NORMALIZATION); // the thread is up
      const runs = images.map((image) => single.pixels(image, 32, 1e8, CLIP_NORMALIZATION));
      const queued = single.queued;
      const results = await Promise.all(runs);
      assert.equal(queued, n - TASKS_PER_THREAD, 'the thread took TASKS_PER_THREAD at once');
      for (const [i, image] of images.entries()) {
        const local = new Float32Array(3 * 32 * 32);
        preprocessInto(await decodeImage(image), 32, local, 0, CLIP_NORMALIZATION);
        assert.deepEqual(results[i], local, `image ${i}`);
      }
      assert.equal(single.queued, 0);
    } finally {
      await single.close();
    }
  });
});
