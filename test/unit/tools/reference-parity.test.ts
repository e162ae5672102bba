// Checks the generated graphs against tools/reference/clip_reference.py, an
// independent numpy implementation of CLIP reading the weights bundle. Skipped
// where python3 with numpy is not installed.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { packagePath } from '../../../core/config/paths.js';
import { float32ToFloat16 } from '../../../tools/onnx/float16.js';
import { cosine, generateTiny, lcg, maxAbsDiff, openSession, pixels, rows, tempDir, textFeeds, tokenRow } from './clip-fixtures.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const skip = hasNumpy ? false : 'python3 with numpy is not installed';
const tmp = tempDir();
const N = 3;
const S = 32;
const r = lcg(2024);
const ids = [tokenRow(77, 3, r), tokenRow(77, 40, r), tokenRow(77, 76, r)];
const px = pixels(N, S, r);
let ref: Record<string, number[][]> = {};
let refHidden: Record<string, number[][][]> = {};

before(() => {
  if (!hasNumpy) return;
  generateTiny(tmp.dir, { seed: 11 });
  generateTiny(join(tmp.dir, 'fp16'), { seed: 11, precision: 'fp16', layout: 'hf', bundle: false });
  const input = join(tmp.dir, 'in.json');
  const output = join(tmp.dir, 'out.json');
  writeFileSync(input, JSON.stringify({ input_ids: ids, pixel_values: { shape: [N, 3, S, S], data: Array.from(px) } }));
  const py = spawnSync('python3', [packagePath('tools', 'reference', 'clip_reference.py'),
    '--weights', tmp.dir, '--input', input, '--output', output, '--hidden'], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const out = JSON.parse(readFileSync(output, 'utf8'));
  ref = { text: out.text_embeds, image: out.image_embeds };
  refHidden = { text: out.text_last_hidden_state, vision: out.vision_last_hidden_state };
});
after(() => tmp.cleanup());

async function run(file: string, feeds: Record<string, ort.Tensor>): Promise<ort.InferenceSession.OnnxValueMapType> {
  return (await openSession(join(tmp.dir, file))).run(feeds);
}

const pixelTensor = (): ort.Tensor => new ort.Tensor('float32', px, [N, 3, S, S]);

for (const [layout, text, vision, textOut, visionOut, dtype] of [
  ['clip-server', 'clip-server/textual.onnx', 'clip-server/visual.onnx', 'output', 'output', 'int32'],
  ['hf', 'hf/onnx/text_model.onnx', 'hf/onnx/vision_model.onnx', 'text_embeds', 'image_embeds', 'int64'],
] as const) {
  test(`${layout}: embeddings match the numpy reference`, { skip }, async () => {
    const t = rows((await run(text, textFeeds(ids, dtype)))[textOut]!);
    const v = rows((await run(vision, { pixel_values: pixelTensor() }))[visionOut]!);
    for (let i = 0; i < N; i++) {
      assert.ok(cosine(t[i]!, ref.text![i]!) >= 0.99999, `text row ${i}: ${cosine(t[i]!, ref.text![i]!)}`);
      assert.ok(cosine(v[i]!, ref.image![i]!) >= 0.9999, `image row ${i}: ${cosine(v[i]!, ref.image![i]!)}`);
      assert.ok(maxAbsDiff(t[i]!, ref.text![i]!) < 1e-4 && maxAbsDiff(v[i]!, ref.image![i]!) < 1e-4);
    }
  });
}

test('hf: last_hidden_state outputs match the reference (text after ln_final, vision before ln_post)', { skip }, async () => {
  const t = rows((await run('hf/onnx/text_model.onnx', textFeeds(ids, 'int64'))).last_hidden_state!);
  const v = rows((await run('hf/onnx/vision_model.onnx', { pixel_values: pixelTensor() })).last_hidden_state!);
  const refT = refHidden.text!.flat();
  const refV = refHidden.vision!.flat();
  assert.equal(t.length, refT.length);
  assert.equal(v.length, refV.length);
  t.forEach((row, i) => assert.ok(maxAbsDiff(row, refT[i]!) < 1e-4, `text position ${i}`));
  v.forEach((row, i) => assert.ok(maxAbsDiff(row, refV[i]!) < 1e-4, `vision token ${i}`));
});

test('fp16: float16 graphs take float16 pixels and stay close to the reference', { skip }, async () => {
  const vision = await openSession(join(tmp.dir, 'fp16/onnx/vision_model.onnx'));
  assert.equal((vision.inputMetadata[0] as any).type, 'float16');
  const pixels16 = new ort.Tensor('float16', float32ToFloat16(px), [N, 3, S, S]);
  const v = rows((await vision.run({ pixel_values: pixels16 })).image_embeds!);
  const t = rows((await run('fp16/onnx/text_model.onnx', textFeeds(ids, 'int64'))).text_embeds!);
  for (let i = 0; i < N; i++) {
    assert.ok(cosine(t[i]!, ref.text![i]!) > 0.999, `fp16 text row ${i}: ${cosine(t[i]!, ref.text![i]!)}`);
    assert.ok(cosine(v[i]!, ref.image![i]!) > 0.999, `fp16 image row ${i}: ${cosine(v[i]!, ref.image![i]!)}`);
  }
  const manifest = JSON.parse(readFileSync(join(tmp.dir, 'fp16/manifest.json'), 'utf8'));
  assert.equal(manifest.pixelDtype, 'float16');
});
