// The direct PNG path must give exactly sharp's pixels where it decodes, and hand
// everything else (and everything irregular) to sharp, which keeps deciding errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeBytes, decodeWithSharp, type DecodedImage } from '../../../../../executors/clip/preprocess/decode.js';
import { plainPng } from '../../../../../executors/clip/preprocess/png-plain.js';
import { IMAGES, imageBytes, pngChunk as chunk } from './fixtures.js';

const COLOUR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

interface PngPlan {
  width: number;
  height: number;
  channels: number;
  /** The filter of each row (0-4; others are invalid). */
  filter: (y: number) => number;
  /** IDAT chunks the stream is cut into. */
  idats?: number;
  /** Chunks between IHDR and the first IDAT. */
  extra?: Buffer[];
  /** Changes the filtered scanlines before compression (to make irregular streams). */
  scanlines?: (raw: Buffer) => Buffer;
  /** Changes the compressed stream (CRCs are computed after). */
  stream?: (z: Buffer) => Buffer;
  interlace?: number;
}

/** A PNG written by hand, so that every row filter and chunk layout can be chosen. */
function encodePng(pixels: Uint8Array, p: PngPlan): Uint8Array {
  const stride = p.width * p.channels;
  const raw = Buffer.alloc(p.height * (stride + 1));
  for (let y = 0; y < p.height; y++) {
    const f = p.filter(y);
    raw[y * (stride + 1)] = f;
    for (let x = 0; x < stride; x++) {
      const at = y * stride + x;
      const a = x >= p.channels ? pixels[at - p.channels]! : 0;
      const b = y > 0 ? pixels[at - stride]! : 0;
      const c = x >= p.channels && y > 0 ? pixels[at - stride - p.channels]! : 0;
      const paeth = () => {
        const base = a + b - c;
        const [da, db, dc] = [Math.abs(base - a), Math.abs(base - b), Math.abs(base - c)];
        return da <= db && da <= dc ? a : db <= dc ? b : c;
      };
      const predicted = [0, a, b, (a + b) >> 1, paeth()][f] ?? 0;
      raw[y * (stride + 1) + 1 + x] = (pixels[at]! - predicted) & 0xff;
    }
  }
  const deflated = deflateSync(p.scanlines ? p.scanlines(raw) : raw);
  const stream = p.stream ? p.stream(deflated) : deflated;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(p.width, 0);
  ihdr.writeUInt32BE(p.height, 4);
  ihdr.set([8, COLOUR_TYPE[p.channels]!, 0, 0, p.interlace ?? 0], 8);
  const pieces = p.idats ?? 1;
  const step = Math.ceil(stream.length / pieces);
  const idats = Array.from({ length: pieces }, (_, i) => chunk('IDAT', stream.subarray(i * step, (i + 1) * step)));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), ...(p.extra ?? []), ...idats, chunk('IEND', Buffer.alloc(0))]));
}

/** Rows of full-range noise between smooth rows, so every predictor sees carries, borrows and ties. */
function picture(width: number, height: number, channels: number, seed: number): Uint8Array {
  let s = seed;
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < out.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const y = Math.floor(i / (width * channels));
    out[i] = y % 2 === 0 ? s >>> 24 : ((i % (width * channels)) * 3 + y * 5) & 0xff;
  }
  return out;
}

type Outcome = { image: DecodedImage } | { error: string };

async function outcome(decoding: Promise<DecodedImage>): Promise<Outcome> {
  try {
    return { image: await decoding };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

test('every row filter and colour type, over several IDAT chunks, decodes to what sharp decodes', async () => {
  // Mixed filters take the SIMD kernel; None and Up alone the JS rows.
  const plans = { 'every filter': (y: number) => y % 5, 'None and Up': (y: number) => (y % 3 ? 2 : 0) };
  for (const channels of [1, 3, 4]) {
    for (const [name, filter] of Object.entries(plans)) {
      const what = `${channels} channels, ${name}`;
      const pixels = picture(61, 40, channels, channels);
      const bytes = encodePng(pixels, {
        width: 61, height: 40, channels, filter, idats: 3,
        // Ancillary chunks and a suggested palette do not change the pixels.
        extra: [chunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f])), chunk('tEXt', Buffer.from('Comment\0made by hand')), ...(channels >= 3 ? [chunk('PLTE', Buffer.alloc(12, 9))] : [])],
      });
      const png = plainPng(bytes);
      assert.ok(png, `${what}: taken by the direct path`);
      const direct = await png.decode();
      assert.ok(direct);
      assert.deepEqual(Buffer.from(direct.data), Buffer.from(pixels), `${what}: the pixels encoded`);
      const viaSharp = await decodeWithSharp(bytes);
      assert.deepEqual({ ...direct, data: Buffer.from(direct.data) }, { ...viaSharp, data: Buffer.from(viaSharp.data) }, `${what}: sharp's image`);
    }
  }
});

test('PNGs over a megapixel are left to sharp, which decodes them off the event loop', async () => {
  const bytes = encodePng(picture(1025, 1024, 1, 3), { width: 1025, height: 1024, channels: 1, filter: (y) => y % 5 });
  assert.equal(plainPng(bytes), undefined);
  assert.ok(plainPng(encodePng(picture(1024, 1024, 1, 3), { width: 1024, height: 1024, channels: 1, filter: () => 1 })), 'a megapixel itself is taken');
  const image = await decodeBytes(bytes);
  assert.deepEqual([image.width, image.height, image.mode], [1025, 1024, 'L']);
});

test('fixtures: 8-bit grey, RGB and RGBA go direct; grey+alpha, 1- and 16-bit, palettes and tRNS go to sharp; both give the same image', async () => {
  const names = readdirSync(IMAGES).filter((n) => n.endsWith('.png'));
  const direct = new Set(['grey_120x90.png', 'one_1x1.png', 'rgba_130x70.png', 'square_224.png', 'tall_150x400.png', 'tiny_3x5.png', 'wide_401x97.png']);
  const viaSharp = new Set(['bilevel_50x33.png', 'grey_alpha_80x100.png', 'grey16_64x48.png', 'grey_trns_45x50.png', 'palette_97x61.png', 'palette_trns_61x97.png', 'rgb16_40x30.png']);
  assert.deepEqual(new Set(names), new Set([...direct, ...viaSharp]), 'every fixture PNG is classified here');
  for (const name of names) {
    const bytes = imageBytes(name);
    assert.equal(plainPng(bytes) !== undefined, direct.has(name), name);
    assert.deepEqual(await outcome(decodeBytes(bytes)), await outcome(decodeWithSharp(bytes)), name);
  }
});

test('sharp-written PNGs (adaptive filters, interlaced) give the same image either way', async () => {
  for (const channels of [3, 4] as const) {
    const raw = picture(64, 48, channels, 7 + channels);
    for (const options of [{ adaptiveFiltering: true }, { adaptiveFiltering: false, compressionLevel: 0 }, { progressive: true }]) {
      const bytes = new Uint8Array(await sharp(raw, { raw: { width: 64, height: 48, channels } }).png(options).toBuffer());
      assert.equal(plainPng(bytes) !== undefined, !('progressive' in options), `${channels} channels, ${JSON.stringify(options)}: interlaced goes to sharp`);
      const [a, b] = [await decodeBytes(bytes), await decodeWithSharp(bytes)];
      assert.deepEqual({ ...a, data: Buffer.from(a.data) }, { ...b, data: Buffer.from(b.data) }, `${channels} channels, ${JSON.stringify(options)}`);
    }
  }
});

test('irregular PNGs are left to sharp, which decodes them or names the fault as before', async () => {
  const base = { width: 20, height: 10, channels: 3, filter: () => 1 };
  const pixels = picture(20, 10, 3, 1);
  const good = encodePng(pixels, base);
  const badCrc = new Uint8Array(good);
  badCrc[badCrc.length - 20] ^= 0xff; // inside the IDAT: its CRC no longer matches
  const cases: Record<string, { bytes: Uint8Array; declinedAt: 'header' | 'decode' }> = {
    'a bad CRC': { bytes: badCrc, declinedAt: 'header' },
    'an unknown critical chunk': { bytes: encodePng(pixels, { ...base, extra: [chunk('QXYZ', Buffer.alloc(4))] }), declinedAt: 'header' },
    'an animation control chunk': { bytes: encodePng(pixels, { ...base, extra: [chunk('acTL', Buffer.alloc(8))] }), declinedAt: 'header' },
    'too few scanlines': { bytes: encodePng(pixels, { ...base, scanlines: (raw) => raw.subarray(0, raw.length - 30) }), declinedAt: 'decode' },
    'too many scanlines': { bytes: encodePng(pixels, { ...base, scanlines: (raw) => Buffer.concat([raw, raw.subarray(0, 61)]) }), declinedAt: 'decode' },
    'a filter type 5': { bytes: encodePng(pixels, { ...base, scanlines: (raw) => Object.assign(Buffer.from(raw), { [61 * 4]: 5 }) }), declinedAt: 'decode' },
    'a corrupt zlib stream': { bytes: encodePng(pixels, { ...base, stream: (z) => Buffer.from(z).fill(0x55, 8, 40) }), declinedAt: 'decode' },
  };
  for (const [what, { bytes, declinedAt }] of Object.entries(cases)) {
    const png = plainPng(bytes);
    if (declinedAt === 'header') assert.equal(png, undefined, `${what}: declined from the chunks`);
    else assert.equal(await png!.decode(), undefined, `${what}: declined after inflating`);
    assert.deepEqual(await outcome(decodeBytes(bytes)), await outcome(decodeWithSharp(bytes)), `${what}: sharp's outcome`);
  }
  assert.deepEqual(Buffer.from((await decodeBytes(good)).data), Buffer.from(pixels));
});

test('the pixel budget is checked from the header, before inflating', async () => {
  const bytes = encodePng(picture(20, 10, 3, 2), { width: 20, height: 10, channels: 3, filter: () => 0 });
  await assert.rejects(decodeBytes(bytes, { maxPixels: 199 }), /image is 20x10 \(200 pixels\), over the limit of 199 pixels/);
  assert.equal((await decodeBytes(bytes, { maxPixels: 200 })).width, 20);
});
