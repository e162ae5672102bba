// A plain JPEG's header, read by hand, must say exactly what sharp's metadata() says
// for every field decoding uses; anything else is left to metadata().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { jpegHeader } from '../../../../../executors/clip/preprocess/jpeg-header.js';
import { decodeBytes } from '../../../../../executors/clip/preprocess/index.js';
import { imageBytes } from './fixtures.js';

const FIELDS = ['format', 'compression', 'width', 'height', 'channels', 'space', 'depth', 'hasAlpha', 'isPalette'] as const;

async function metadataOf(bytes: Uint8Array): Promise<Record<string, unknown>> {
  const meta = await sharp(bytes).metadata();
  return Object.fromEntries(FIELDS.map((f) => [f, meta[f]]));
}

async function variants(): Promise<Record<string, Uint8Array>> {
  const photo = imageBytes('photo_640x427.jpg');
  const source = sharp(photo).resize(203, 117);
  return {
    'photo_640x427.jpg': photo,
    'exif_rot6_96x64.jpg (EXIF before the frame)': imageBytes('exif_rot6_96x64.jpg'),
    'baseline 4:2:0': await source.clone().jpeg({ quality: 80 }).toBuffer(),
    'baseline 4:4:4': await source.clone().jpeg({ chromaSubsampling: '4:4:4' }).toBuffer(),
    progressive: await source.clone().jpeg({ progressive: true }).toBuffer(),
    'mozjpeg (optimised progressive)': await source.clone().jpeg({ mozjpeg: true }).toBuffer(),
    'grey, one component': await source.clone().toColourspace('b-w').jpeg().toBuffer(),
  };
}

test('plain JPEGs: the header gives the fields sharp\'s metadata() gives', async () => {
  for (const [name, bytes] of Object.entries(await variants())) {
    const header = jpegHeader(bytes);
    assert.ok(header, `${name}: read from the header`);
    assert.deepEqual(Object.fromEntries(FIELDS.map((f) => [f, header[f]])), await metadataOf(bytes), name);
  }
});

test('CMYK, non-JPEG and malformed headers are left to metadata(), whose errors stay as they were', async () => {
  const photo = imageBytes('photo_640x427.jpg');
  const sof = photo.findIndex((b, i) => b === 0xff && photo[i + 1] === 0xc0);
  assert.ok(sof > 2);
  const overrun = new Uint8Array(photo.subarray(0, 64));
  overrun[4] = 0x7f; // the first segment claims more bytes than the file holds
  const cases: Record<string, Uint8Array> = {
    'CMYK (four components)': imageBytes('cmyk_90x70.jpg'),
    'a PNG': imageBytes('square_224.png'),
    'cut inside the frame header': photo.subarray(0, sof + 6),
    'cut before the frame header': photo.subarray(0, sof),
    'a segment longer than the file': overrun,
    'no marker where one should be': Uint8Array.from([0xff, 0xd8, 0x00, 0x10, ...photo.subarray(4, 200)]),
  };
  for (const [name, bytes] of Object.entries(cases)) assert.equal(jpegHeader(bytes), undefined, name);
  await assert.rejects(decodeBytes(photo.subarray(0, sof)), /corrupt or truncated image/);
  const cmyk = await decodeBytes(imageBytes('cmyk_90x70.jpg'));
  assert.equal(cmyk.mode, 'CMYK');
});

test('the pixel budget is checked from the header a JPEG gives, before decoding', async () => {
  const photo = imageBytes('photo_640x427.jpg');
  await assert.rejects(decodeBytes(photo, { maxPixels: 640 * 427 - 1 }), /image is 640x427 \(0\.3 megapixels\), over the limit/);
  assert.equal((await decodeBytes(photo, { maxPixels: 640 * 427 })).width, 640);
});
