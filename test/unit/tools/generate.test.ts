import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatorCommand } from '../../../tools/generate-clip-model.js';
import type { GenerateResult } from '../../../tools/clip-model/generate.js';
import { getPreset } from '../../../tools/clip-model/presets.js';
import { clipWeightSpecs, elementCount, WeightSource } from '../../../tools/clip-model/weights.js';
import * as ort from 'onnxruntime-node';
import { generateTiny, openSession, tempDir } from './clip-fixtures.js';

const readJson = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

test('the same seed writes byte-identical files; another seed changes the weights', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const a = generateTiny(join(dir, 'a'), { seed: 1 });
  generateTiny(join(dir, 'b'), { seed: 1 });
  generateTiny(join(dir, 'c'), { seed: 2 });
  assert.equal(a.files.length, 9);
  for (const f of a.files) {
    assert.ok(readFileSync(join(dir, 'a', f.path)).equals(readFileSync(join(dir, 'b', f.path))), f.path);
  }
  const model = 'clip-server/visual.onnx';
  assert.ok(!readFileSync(join(dir, 'a', model)).equals(readFileSync(join(dir, 'c', model))));
});

test('the tiny preset is small and quick, and its manifests and config describe it', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const r = generateTiny(dir, { bundle: false });
  assert.ok(r.millis < 1000, `took ${r.millis} ms`);
  assert.ok(r.totalBytes < 1e6, `${r.totalBytes} bytes`);
  const cs = readJson(join(dir, 'clip-server/manifest.json'));
  assert.deepEqual(
    [cs.name, cs.embedDim, cs.imageSize, cs.contextLength, cs.layout, cs.textInputDtype, cs.dynamicSeq, cs.pixelDtype],
    ['clipflow-tiny', 16, 32, 77, 'clip-server', 'int32', false, 'float32'],
  );
  assert.deepEqual(cs.files, { text: 'textual.onnx', vision: 'visual.onnx' });
  const hf = readJson(join(dir, 'hf/manifest.json'));
  assert.deepEqual([hf.layout, hf.textInputDtype, hf.dynamicSeq, hf.outputs], ['hf', 'int64', true, { text: 'text_embeds', vision: 'image_embeds' }]);
  const config = readJson(join(dir, 'hf/config.json'));
  assert.equal(config.projection_dim, 16);
  assert.deepEqual(
    [config.text_config.hidden_size, config.text_config.num_hidden_layers, config.text_config.num_attention_heads,
      config.text_config.max_position_embeddings, config.text_config.vocab_size],
    [32, 2, 2, 77, 49408],
  );
  assert.deepEqual(
    [config.vision_config.hidden_size, config.vision_config.image_size, config.vision_config.patch_size,
      config.vision_config.num_hidden_layers, config.vision_config.num_attention_heads],
    [32, 32, 8, 2, 2],
  );
});

test('weights.json indexes weights.bin with OpenAI state_dict names and shapes', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  generateTiny(dir, { layout: 'clip-server', seed: 3 });
  const index = readJson(join(dir, 'weights.json'));
  const bin = readFileSync(join(dir, 'weights.bin'));
  const names = Object.keys(index.tensors);
  assert.ok(names.includes('visual.transformer.resblocks.1.attn.in_proj_weight'));
  assert.ok(!names.some((n) => n.includes('factor')), 'graph-only tensors stay out of the state_dict');
  assert.deepEqual(index.tensors['token_embedding.weight'].shape, [49408, 32]);
  assert.deepEqual(index.tensors['visual.conv1.weight'].shape, [32, 3, 8, 8]);
  let offset = 0;
  for (const name of names) {
    assert.equal(index.tensors[name].offset, offset, name);
    offset += elementCount(index.tensors[name].shape) * 4;
  }
  assert.equal(offset, bin.length);
  // The bundle holds exactly what the generator's weight source gives.
  const src = new WeightSource(getPreset('tiny'), 3);
  const e = index.tensors['transformer.resblocks.0.mlp.c_fc.bias'];
  const stored = new Float32Array(bin.buffer.slice(bin.byteOffset + e.offset, bin.byteOffset + e.offset + 128 * 4));
  assert.deepEqual([...stored], [...src.get('transformer.resblocks.0.mlp.c_fc.bias')]);
});

test('each tensor depends only on (seed, name), not on generation order', () => {
  const p = getPreset('tiny');
  const a = new WeightSource(p, 5);
  const b = new WeightSource(p, 5);
  const names = clipWeightSpecs(p).map((s) => s.name).filter((n) => n !== 'token_embedding.weight');
  const forward = names.map((n) => a.get(n));
  const backward = [...names].reverse().map((n) => b.get(n)).reverse();
  forward.forEach((v, i) => assert.deepEqual(v, backward[i], names[i]));
  const ln = a.get('ln_final.weight');
  const mean = ln.reduce((x, y) => x + y, 0) / ln.length;
  assert.ok(Math.abs(mean - 1) < 0.1, 'layer-norm weights are centred on 1');
  assert.equal(a.get('logit_scale')[0], Math.fround(Math.log(1 / 0.07)));
});

test('the CLI parses its options and writes the requested layout', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  let result: GenerateResult | undefined;
  generatorCommand((r) => (result = r)).parse(
    ['--preset', 'tiny', '--layout', 'hf', '--out', dir, '--seed', '9', '--fixed-77', '--no-bundle'],
    { from: 'user' },
  );
  assert.deepEqual(result!.files.map((f) => f.path).sort(), ['config.json', 'manifest.json', 'onnx/text_model.onnx', 'onnx/vision_model.onnx']);
  const m = readJson(join(dir, 'manifest.json'));
  assert.deepEqual([m.seed, m.dynamicSeq, m.layout], [9, false, 'hf']);
  const bad = generatorCommand(() => undefined).exitOverride().configureOutput({ writeErr: () => undefined });
  assert.throws(() => bad.parse(['--preset', 'huge', '--out', dir], { from: 'user' }), /huge/);
  const badSeed = generatorCommand(() => undefined).exitOverride().configureOutput({ writeErr: () => undefined });
  assert.throws(() => badSeed.parse(['--out', dir, '--seed', '-1'], { from: 'user' }), /seed/);
});

test('tiny-224 is the tiny towers at a 224-pixel input: a vision graph that takes ViT-B/32-sized crops', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  generateTiny(dir, { preset: getPreset('tiny-224'), layout: 'hf', bundle: false });
  const manifest = readJson(join(dir, 'manifest.json'));
  assert.deepEqual([manifest.imageSize, manifest.embedDim], [224, 16]);
  const session = await openSession(join(dir, 'onnx/vision_model.onnx'));
  const pixels = new ort.Tensor('float32', new Float32Array(2 * 3 * 224 * 224).fill(0.3), [2, 3, 224, 224]);
  const out = await session.run({ pixel_values: pixels });
  assert.deepEqual(out.image_embeds!.dims, [2, 16]);
  await session.release();
});
