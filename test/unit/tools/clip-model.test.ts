import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  EOT, cosine, generateTiny, lcg, maxAbsDiff, openSession, pixels, rows, tempDir, textFeeds, tokenRow,
} from './clip-fixtures.js';

// One tiny model in both layouts (plus a fixed-77 HF variant) shared by every case.
const tmp = tempDir();
let dir = '';
const S = 32; // tiny image size
const D = 16; // tiny embed dim

type Layout = { name: string; text: string; vision: string; textOut: string; visionOut: string; ids: 'int32' | 'int64' };
const LAYOUTS: Layout[] = [
  { name: 'clip-server', text: 'clip-server/textual.onnx', vision: 'clip-server/visual.onnx', textOut: 'output', visionOut: 'output', ids: 'int32' },
  { name: 'hf', text: 'hf/onnx/text_model.onnx', vision: 'hf/onnx/vision_model.onnx', textOut: 'text_embeds', visionOut: 'image_embeds', ids: 'int64' },
];

before(() => {
  dir = tmp.dir;
  generateTiny(dir, { bundle: false });
  generateTiny(join(dir, 'fixed'), { layout: 'hf', fixed77: true, bundle: false });
});
after(() => tmp.cleanup());

async function embedText(file: string, out: string, dtype: 'int32' | 'int64', ids: number[][]): Promise<Float32Array[]> {
  const s = await openSession(join(dir, file));
  return rows((await s.run(textFeeds(ids, dtype)))[out]!);
}

for (const L of LAYOUTS) {
  describe(`${L.name} layout`, () => {
    test('declares the contracted inputs and outputs', async () => {
      const text = await openSession(join(dir, L.text));
      const seq = L.name === 'hf' ? 'sequence_length' : 77;
      assert.deepEqual(text.inputMetadata.map((m: any) => [m.name, m.type, m.shape]), [
        ['input_ids', L.ids, ['batch_size', seq]],
        ['attention_mask', L.ids, ['batch_size', seq]],
      ]);
      assert.equal(text.outputNames[0], L.textOut);
      assert.deepEqual((text.outputMetadata[0] as any).shape, ['batch_size', D]);
      const vision = await openSession(join(dir, L.vision));
      assert.deepEqual(vision.inputMetadata.map((m: any) => [m.name, m.type, m.shape]), [
        ['pixel_values', 'float32', ['batch_size', 3, S, S]],
      ]);
      assert.equal(vision.outputNames[0], L.visionOut);
      if (L.name === 'hf') {
        assert.deepEqual(text.outputNames, ['text_embeds', 'last_hidden_state']);
        assert.deepEqual(vision.outputNames, ['image_embeds', 'last_hidden_state']);
      } else {
        assert.deepEqual([text.outputNames, vision.outputNames], [['output'], ['output']]);
      }
    });

    test('a batch of 3 gives 3 rows, each what it gives alone', async () => {
      const r = lcg(11);
      const ids = [tokenRow(77, 4, r), tokenRow(77, 30, r), tokenRow(77, 76, r)];
      const batch = await embedText(L.text, L.textOut, L.ids, ids);
      assert.equal(batch.length, 3);
      for (let i = 0; i < 3; i++) {
        const [alone] = await embedText(L.text, L.textOut, L.ids, [ids[i]!]);
        assert.equal(batch[i]!.length, D);
        assert.ok(maxAbsDiff(batch[i]!, alone!) < 1e-5);
      }
      const px = pixels(3, S, r);
      const vision = await openSession(join(dir, L.vision));
      const out = (await vision.run({ pixel_values: new ort.Tensor('float32', px, [3, 3, S, S]) }))[L.visionOut]!;
      assert.deepEqual(out.dims, [3, D]);
      const [first] = rows((await vision.run({ pixel_values: new ort.Tensor('float32', px.slice(0, 3 * S * S), [1, 3, S, S]) }))[L.visionOut]!);
      assert.ok(maxAbsDiff(rows(out)[0]!, first!) < 1e-5);
      assert.ok(cosine(rows(out)[0]!, rows(out)[1]!) < 0.999, 'different images give different embeddings');
    });

    test('pools at the EOT token: tokens after it do not matter, tokens before it do', async () => {
      const base = tokenRow(77, 6, lcg(5));
      const after = [...base];
      after[12] = 1234; // past EOT: padding made into a real token
      const before = [...base];
      before[3] = (before[3]! % 40000) + 17;
      const [e0, eAfter, eBefore] = await embedText(L.text, L.textOut, L.ids, [base, after, before]);
      assert.ok(maxAbsDiff(e0!, eAfter!) < 1e-6, 'a token after EOT changed the embedding');
      assert.ok(maxAbsDiff(e0!, eBefore!) > 1e-3, 'a token before EOT did not change the embedding');
    });

    test('the attention is causal: later tokens never reach an earlier EOT', async () => {
      // Every position filled with real tokens, EOT early at k = 4.
      const r = lcg(9);
      const base = tokenRow(77, 4, r).map((t, i) => (i > 4 ? 1 + Math.floor(r() * 49000) : t));
      const changed = base.map((t, i) => (i > 4 ? 1 + Math.floor(r() * 49000) : t));
      const [a, b] = await embedText(L.text, L.textOut, L.ids, [base, changed]);
      assert.ok(maxAbsDiff(a!, b!) < 1e-6);
    });
  });
}

test('hf: last_hidden_state at k ignores every token after k', async () => {
  const r = lcg(21);
  const base = tokenRow(77, 40, r);
  const changed = [...base];
  const k = 10;
  changed[k + 1] = (changed[k + 1]! % 30000) + 99;
  const s = await openSession(join(dir, 'hf/onnx/text_model.onnx'));
  const out = (await s.run(textFeeds([base, changed], 'int64'))).last_hidden_state!;
  assert.deepEqual(out.dims, [2, 77, 32]);
  const h = rows(out); // 154 rows of width 32
  for (let i = 0; i <= k; i++) assert.ok(maxAbsDiff(h[i]!, h[77 + i]!) < 1e-6, `position ${i} saw a later token`);
  assert.ok(maxAbsDiff(h[k + 1]!, h[77 + k + 1]!) > 1e-3);
});

test('hf: the dynamic sequence axis gives the same embedding at any padded length', async () => {
  const r = lcg(3);
  const full = tokenRow(77, 9, r);
  const [e77] = await embedText('hf/onnx/text_model.onnx', 'text_embeds', 'int64', [full]);
  for (const len of [10, 23]) {
    const [e] = await embedText('hf/onnx/text_model.onnx', 'text_embeds', 'int64', [full.slice(0, len)]);
    assert.ok(cosine(e!, e77!) > 0.99999, `length ${len}`);
  }
  assert.equal(full[9], EOT);
});

test('fixed-77 variants declare 77 and refuse other lengths', async () => {
  const s = await openSession(join(dir, 'fixed/onnx/text_model.onnx'));
  assert.deepEqual((s.inputMetadata[0] as any).shape, ['batch_size', 77]);
  const ids = tokenRow(77, 5, lcg(1));
  const [fixed] = rows((await s.run(textFeeds([ids], 'int64'))).text_embeds!);
  const [dynamic] = await embedText('hf/onnx/text_model.onnx', 'text_embeds', 'int64', [ids]);
  assert.ok(maxAbsDiff(fixed!, dynamic!) < 1e-6, 'same weights, same result');
  await assert.rejects(s.run(textFeeds([ids.slice(0, 20)], 'int64')));
  const cs = await openSession(join(dir, 'clip-server/textual.onnx'));
  await assert.rejects(cs.run(textFeeds([ids.slice(0, 20)], 'int32')));
});
