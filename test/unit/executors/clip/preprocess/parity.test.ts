// Parity with PIL + torchvision: every fixture image, at S=224 and S=32, against the
// crops PIL made (tools/reference/pil_preprocess_reference.py). The bar is 1/255 per
// sample; each test also reports the max difference and the share that differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { NdArray } from '../../../../../core/document/ndarray.js';
import {
  CLIP_MEAN, CLIP_STD, decodeImage, planCrop, preprocessImage, preprocessInto, preprocessToUint8,
} from '../../../../../executors/clip/preprocess/index.js';
import { compare, imageBytes, manifest, referenceCrop, REFERENCES, type ReferenceCase } from './fixtures.js';

const refs = manifest();

/** torch's ToTensor + Normalize on one byte, in float32, written out independently. */
function normalise(v: number, c: number): number {
  return Math.fround(Math.fround(Math.fround(v / 255) - Math.fround(CLIP_MEAN[c]!)) / Math.fround(CLIP_STD[c]!));
}

function caseOf(image: string, size: number): ReferenceCase {
  const c = refs.cases.find((x) => x.image === image && x.size === size);
  if (!c) throw new Error(`no reference for ${image} at ${size}`);
  return c;
}

for (const c of refs.cases) {
  test(`${c.image} (${c.pilMode}, ${c.note}) at S=${c.size} matches PIL`, async (t) => {
    const image = await decodeImage(imageBytes(c.image));
    assert.equal(image.mode, c.pilMode, 'PIL mode');
    assert.deepEqual([image.width, image.height], [c.width, c.height], 'first frame size');
    const plan = planCrop(image.width, image.height, c.size);
    assert.deepEqual([plan.resizedWidth, plan.resizedHeight], c.resized, 'Resize(S) size');
    assert.deepEqual({ top: plan.top, left: plan.left }, c.crop, 'CenterCrop offsets');

    const want = referenceCrop(c);
    const got = preprocessToUint8(image, c.size);
    const { max, differing } = compare(got, want);
    t.diagnostic(`max abs diff ${max}/255, ${(differing * 100).toFixed(3)}% of samples differ`);
    assert.ok(max <= 1, `max diff ${max}/255 exceeds 1/255`);

    // The float path writes through tables; it must equal torch's maths on PIL's bytes.
    const plane = c.size * c.size;
    const out = new Float32Array(3 * plane + 5).fill(Number.NaN);
    preprocessInto(image, c.size, out, 5);
    let worst = 0;
    for (let i = 0; i < 3 * plane; i++) worst = Math.max(worst, Math.abs(out[5 + i]! - normalise(want[i]!, Math.floor(i / plane))));
    assert.ok(worst <= 1 / 255 / 0.26130258 + 1e-6, `float max diff ${worst}`);
    assert.ok(Number.isNaN(out[4]!), 'nothing written before the offset');
  });
}

test('ToTensor + Normalize are bit-exact float32 (stored PyTorch-order tensor)', async () => {
  const f = refs.float32;
  const raw = readFileSync(`${REFERENCES}/${f.file}`);
  const want = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const got = await preprocessImage(imageBytes(f.image), { size: f.size });
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]), `element ${i}: ${got[i]} != ${want[i]}`);
});

test('AVIF (lossless, made by sharp from a PNG fixture) gives the PNG reference', async (t) => {
  // This Pillow cannot write AVIF, so the reference is the same pixels as PNG.
  const c = caseOf('tall_150x400.png', 224);
  const avif = await sharp(imageBytes(c.image)).avif({ lossless: true }).toBuffer();
  const image = await decodeImage(new Uint8Array(avif));
  assert.equal(image.format, 'heif');
  const { max, differing } = compare(preprocessToUint8(image, 224), referenceCrop(c));
  t.diagnostic(`avif: max abs diff ${max}/255, ${(differing * 100).toFixed(3)}% differ`);
  assert.ok(max <= 1);
});

test('a uint8 tensor equals the same pixels sent as a PNG blob (RGB, RGBA, grey)', async () => {
  for (const [name, channels] of [['tall_150x400.png', 3], ['rgba_130x70.png', 4], ['grey_120x90.png', 1]] as const) {
    const bytes = imageBytes(name);
    const { data, info } = await sharp(bytes).toColourspace(channels === 1 ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, channels, name);
    const shape = channels === 1 ? [info.height, info.width] : [info.height, info.width, channels];
    const tensor = NdArray.from(new Uint8Array(data), shape);
    for (const size of [224, 32]) {
      const fromTensor = await preprocessImage(tensor, { size });
      const fromBlob = await preprocessImage(bytes, { size });
      assert.deepEqual(fromTensor, fromBlob, `${name} at ${size}`);
    }
  }
});

test('fast mode (libvips shrink-on-load + its bicubic) stays close to PIL', async (t) => {
  const photo = imageBytes('photo_640x427.jpg');
  // Under 2x shrink fast mode takes the exact path.
  assert.deepEqual(await preprocessImage(photo, { fast: true }), await preprocessImage(photo));
  // A 2560x1708 JPEG shrinks 7.6x: libvips decodes at 1/4 scale, then resamples.
  const big = new Uint8Array(await sharp(photo).resize(2560, 1708, { kernel: 'lanczos3' }).jpeg({ quality: 92 }).toBuffer());
  const fast = await preprocessImage(big, { fast: true });
  const exact = await preprocessImage(big);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < fast.length; i++) {
    // Back to the byte scale: a normalised unit is std * 255 levels.
    const d = Math.abs(fast[i]! - exact[i]!) * CLIP_STD[Math.floor(i / (224 * 224))]! * 255;
    sum += d;
    max = Math.max(max, d);
  }
  t.diagnostic(`2560x1708 jpeg: fast vs PIL-exact max ${max.toFixed(1)}/255, mean ${(sum / fast.length).toFixed(3)}/255`);
  assert.ok(sum / fast.length < 3, 'mean deviation under 3/255');
});
