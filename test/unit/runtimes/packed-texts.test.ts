import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKED_INPUTS, packedFeeds, planPackedRows } from '../../../runtimes/packed-texts.js';
import { readModelGraph } from '../../../runtimes/onnx/graph/onnx-graph.js';
import { planPackedText } from '../../../runtimes/onnx/graph/packed-text.plan.js';
import { planPooledCut } from '../../../runtimes/onnx/graph/pooled-cut.plan.js';
import { bufferSource } from '../../../runtimes/onnx/graph/proto-fields.js';
import { DataType } from '../../../runtimes/onnx/graph/schema.js';
import { openOnnxSession } from '../../../runtimes/onnx/onnx.open.js';
import type { OnnxSession } from '../../../runtimes/onnx/onnx.session.js';
import { openPooledCut } from '../../../runtimes/onnx/pooled-cut.open.js';
import type { HostTensor } from '../../../runtimes/runtime.js';
import { packageRoot } from '../../../core/config/paths.js';
import { GraphBuilder, int, ints } from '../../../tools/onnx/graph-builder.js';
import { writeModel } from '../../../tools/onnx/model-writer.js';
import { cosine } from '../../../executors/clip/rank.js';
import { ClipModel } from '../../../executors/clip/clip-model.js';
import { resolveModelDir } from '../../../executors/clip/models/model-dir.js';
import { inferenceRuntime } from '../../../runtimes/index.js';
import { EOT, SOT, generateTiny, lcg, tempDir } from '../tools/clip-fixtures.js';

const { dir, cleanup } = tempDir('clipflow-packed-');
after(cleanup);
generateTiny(join(dir, 'fp32'), { bundle: false });
generateTiny(join(dir, 'fp16'), { bundle: false, precision: 'fp16', layout: 'hf' });
const TEXT = {
  hf: join(dir, 'fp32/hf/onnx/text_model.onnx'),
  'clip-server (fixed 77)': join(dir, 'fp32/clip-server/textual.onnx'),
  'hf fp16': join(dir, 'fp16/onnx/text_model.onnx'),
};
/** OpenAI-architecture towers exported by torch.onnx: sequence-first blocks, a mask a layer, the EOT picked from the flattened states. */
const TORCH_TEXT = {
  'torch hf': join(packageRoot(), 'test/fixtures/torch-clip/hf/onnx/text_model.onnx'),
  'torch clip-server (fixed 77)': join(packageRoot(), 'test/fixtures/torch-clip/clip-server/textual.onnx'),
};
const packedOptions = { provider: 'cpu' as const, pooledOutputsOnly: true, packedTexts: true };

/** `count` texts [SOT, ..., EOT] of the given lengths, ids drawn below SOT. */
function texts(lengths: number[], seed: number): Int32Array[] {
  const rand = lcg(seed);
  return lengths.map((n) => Int32Array.from({ length: n }, (_, j) => (j === 0 ? SOT : j === n - 1 ? EOT : 1 + Math.floor(rand() * 40000))));
}

/** Each text alone through the full graph, padded with 0 to the graph's length (or its own). */
async function alone(session: OnnxSession, rows: Int32Array[], output: string): Promise<Float32Array[]> {
  const fixed = session.inputs[0]!.shape[1];
  const out: Float32Array[] = [];
  for (const row of rows) {
    const width = typeof fixed === 'number' ? fixed : row.length;
    const ids = new Int32Array(width);
    ids.set(row);
    const mask = new Int32Array(width).fill(1, 0, row.length);
    const r = await session.run({ [session.inputs[0]!.name]: { data: ids, dims: [1, width] }, attention_mask: { data: mask, dims: [1, width] } }, [output]);
    out.push(r[output]!.data);
  }
  return out;
}

function packedRun(session: OnnxSession, rows: Int32Array[], maxTokens: number, fixed?: number): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const p = packedFeeds(rows, planPackedRows(rows, maxTokens, fixed));
  const feeds: Record<string, HostTensor> = { [session.inputs.find((i) => i.name === 'input_ids')!.name]: p.ids, attention_mask: p.mask, [PACKED_INPUTS.positions]: p.positions, [PACKED_INPUTS.bias]: p.bias, [PACKED_INPUTS.pick]: p.pick };
  return session.run(feeds);
}

describe('packing texts into rows', () => {
  test('places every text once, in rows that hold their texts\' prefix trees, with little waste', () => {
    const rand = lcg(5);
    const trieSize = (rows: number[][]) => new Set(rows.flatMap((r) => r.map((_, j) => r.slice(0, j + 1).join()))).size;
    for (let trial = 0; trial < 50; trial++) {
      // SOT, then words from a small vocabulary, so texts share prefixes beyond SOT.
      const texts = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => [SOT, ...Array.from({ length: 1 + Math.floor(rand() * 10) }, () => 1 + Math.floor(rand() * 4)), EOT]);
      const layout = planPackedRows(texts, 77);
      assert.deepEqual(layout.rows.flat().sort((a, b) => a - b), texts.map((_, i) => i));
      const sizes = layout.rows.map((row) => trieSize(row.map((i) => texts[i]!)));
      assert.ok(layout.tokens <= 77 && Math.max(...sizes) === layout.tokens, `rows of ${layout.tokens}: ${sizes}`);
      const total = texts.reduce((t, x) => t + x.length, 0);
      const slots = sizes.reduce((a, b) => a + b, 0);
      assert.ok(slots <= total - (texts.length - layout.rows.length), 'each row holds one SOT');
      if (texts.length >= 16) assert.ok(layout.rows.length * layout.tokens <= 1.15 * slots, `${layout.rows.length}x${layout.tokens} for ${slots} slots`);
      // The feeds agree: each row's slots fit, and the packing fails loudly when they would not.
      assert.doesNotThrow(() => packedFeeds(texts, layout));
    }
    assert.throws(() => packedFeeds([[1, 2, 3], [4, 5]], { rows: [[0, 1]], tokens: 4 }), /row 0's texts need more than 4 slots/);
  });

  test('a fixed-length graph gets rows of its length; a text longer than a row is refused', () => {
    // The second token orders them: 70, 10, 60, 20 and 5 tokens.
    const texts = [70, 10, 60, 20, 5].map((n, i) => [SOT, i + 1, ...new Array<number>(n - 3).fill(7), EOT]);
    const layout = planPackedRows(texts, 77, 77);
    assert.equal(layout.tokens, 77);
    assert.deepEqual(layout.rows, [[0], [1, 2], [3, 4]]);
    assert.throws(() => planPackedRows([new Array<number>(78).fill(1)], 77), /78 tokens does not fit a row of 77/);
  });

  test('feeds: a row is its texts\' prefix tree; each slot sees its own prefix at its own position, the pick is each EOT', () => {
    const rows = [[1, 2, 3], [1, 2, 5], [4, 5], [1, 2, 3]];
    const p = packedFeeds(rows, { rows: [[0, 1, 3], [2]], tokens: 5 });
    assert.deepEqual([...p.ids.data], [1, 2, 3, 5, 0, 4, 5, 0, 0, 0]);
    assert.deepEqual([...p.positions.data], [0, 1, 2, 2, 0, 0, 1, 0, 0, 0]);
    // Identical texts share their EOT.
    assert.deepEqual([...p.pick.data], [2, 3, 6, 2]);
    assert.deepEqual(p.bias.dims, [2, 1, 5, 5]);
    const sees = (row: number, slot: number) => [...p.bias.data.subarray((row * 5 + slot) * 5, (row * 5 + slot + 1) * 5)].map((v) => (v === 0 ? 1 : 0)).join('');
    assert.deepEqual([0, 1, 2, 3, 4].map((t) => sees(0, t)), ['10000', '11000', '11100', '11010', '00001']);
    // Unused slots see only themselves, so they stay finite.
    assert.deepEqual([0, 1, 2, 3, 4].map((t) => sees(1, t)), ['10000', '11000', '00100', '00010', '00001']);
    // A text pools where CLIP does, at the first of its largest ids: an EOT spelled out inside it, not its last token.
    const spelled = packedFeeds([[SOT, 5, EOT, 7, EOT]], { rows: [[0]], tokens: 5 });
    assert.deepEqual([...spelled.pick.data], [2]);
  });

  test('finds the positions, the causal masks and the EOT pick on both layouts and on torch.onnx exports; not on a vision tower', () => {
    for (const [layout, path] of Object.entries(TEXT)) {
      const graph = readModelGraph(bufferSource(readFileSync(path)))!;
      const packed = planPackedText(graph, planPooledCut(graph, true)!);
      assert.ok(packed, layout);
      assert.equal(packed.table, 'positional_embedding', layout);
      assert.equal(packed.masks.size, 2, `${layout}: one mask Add per layer of the tiny preset`);
      assert.equal(new Set(packed.masks.values()).size, 1, `${layout}: one mask shared by the layers`);
      assert.equal(packed.floatType, layout.includes('fp16') ? DataType.FLOAT16 : DataType.FLOAT, layout);
    }
    const vision = readModelGraph(bufferSource(readFileSync(join(dir, 'fp32/hf/onnx/vision_model.onnx')))!)!;
    assert.equal(planPackedText(vision, planPooledCut(vision, true)!), undefined);
    for (const [layout, path] of Object.entries(TORCH_TEXT)) {
      const torch = readModelGraph(bufferSource(readFileSync(path)))!;
      const cut = planPooledCut(torch, true)!;
      const packed = planPackedText(torch, cut);
      assert.ok(packed && 'rows' in cut.select && cut.select.flattened, layout);
      assert.deepEqual([...cut.entries.values()], [0, 0], `${layout}: sequence-first entries`);
      assert.equal(packed.table, 'text.positional_embedding', layout);
      // nn.MultiheadAttention builds its mask in each layer (causal + key padding): one a layer.
      assert.equal(new Set(packed.masks.values()).size, 2, layout);
    }
  });

  test('a packed text tower gives each text the embedding it gets alone through the full graph', async () => {
    const base = texts([2, 5, 9, 3, 12, 7, 77, 4, 6, 30], 11);
    // Texts sharing a prefix with another (SOT and more), and a repeat.
    const rows = [...base, Int32Array.from([...base[4]!.slice(0, 6), 17, 18, EOT]), Int32Array.from([...base[2]!.slice(0, 8), EOT]), base[5]!];
    for (const [layout, path] of Object.entries({ ...TEXT, ...TORCH_TEXT })) {
      const full = await openOnnxSession(path, { provider: 'cpu' });
      const packed = await openPooledCut(path, packedOptions);
      try {
        assert.deepEqual(packed.packing, { applied: true }, layout);
        assert.equal(packed.pooledCut?.applied, true, layout);
        assert.ok(packed.inputs.some((i) => i.name === PACKED_INPUTS.pick), layout);
        const output = packed.outputs[0]!.name;
        const expected = await alone(full, rows, output);
        const seq = full.inputs[0]!.shape[1];
        const fixed = typeof seq === 'number' ? seq : undefined;
        // Rows of at most 40 tokens where the axis is dynamic: several rows, several texts in most.
        const got = await packedRun(packed, rows, fixed ?? 77, fixed);
        const width = got[output]!.dims[1]!;
        assert.deepEqual(got[output]!.dims, [rows.length, width], layout);
        const gotShort = await packedRun(packed, rows.filter((r) => r.length <= 40), 40, fixed);
        const short = expected.filter((_, i) => rows[i]!.length <= 40);
        const floor = layout.includes('fp16') ? 0.9999 : 0.9999999;
        rows.forEach((_, i) => assert.ok(cosine(got[output]!.data.subarray(i * width, (i + 1) * width), expected[i]!) >= floor, `${layout}: text ${i}`));
        short.forEach((e, i) => assert.ok(cosine(gotShort[output]!.data.subarray(i * width, (i + 1) * width), e) >= floor, `${layout}: short text ${i}`));
      } finally {
        await Promise.all([full.release(), packed.release()]);
      }
    }
  });

  test('a graph that packing would change, or cannot pack, serves cut but unpacked, and says why', async () => {
    // A toy causal text tower whose pooled state also adds the mean over the row's tokens:
    // padded, that mean covers one text; packed, several, so the check must refuse it.
    const g = new GraphBuilder('row-mean');
    const floats = (n: number, scale: number) => () => new Uint8Array(Float32Array.from({ length: n }, (_, i) => Math.sin(i * scale)).buffer);
    const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
    const table = g.initializer('table', DataType.FLOAT, [100, 4], floats(400, 0.7));
    const positions = g.initializer('positions', DataType.FLOAT, [16, 4], floats(64, 1.3));
    const causal = g.initializer('causal', DataType.FLOAT, [16, 16], () => new Uint8Array(Float32Array.from({ length: 256 }, (_, i) => (i % 16 > Math.floor(i / 16) ? -Infinity : 0)).buffer));
    const w = g.initializer('w', DataType.FLOAT, [4, 4], floats(16, 0.9));
    const i64 = (name: string, values: bigint[]) => g.initializer(name, DataType.INT64, [values.length], () => new Uint8Array(BigInt64Array.from(values).buffer));
    const len = g.op('Shape', [ids], { start: int(1), end: int(2) });
    const pos = g.op('Slice', [positions, i64('zero', [0n]), len, i64('axis0', [0n])]);
    const mask = g.op('Slice', [causal, i64('zeros', [0n, 0n]), g.op('Concat', [len, len], { axis: int(0) }), i64('axes01', [0n, 1n])]);
    const x = g.op('Add', [g.op('Gather', [table, ids], { axis: int(0) }), pos]);
    // One head: [N, 1, T, 4], so the scores are [N, 1, T, T] as in CLIP's attention.
    const heads = g.op('Reshape', [x, i64('heads', [0n, 1n, -1n, 4n])]);
    const scores = g.op('Add', [g.op('MatMul', [heads, g.op('Transpose', [heads], { perm: ints([0, 1, 3, 2]) })]), mask]);
    const attended = g.op('Reshape', [g.op('MatMul', [g.op('Softmax', [scores], { axis: int(-1) }), heads]), i64('merged', [0n, -1n, 4n])]);
    const h = g.op('Add', [attended, g.op('Expand', [g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(1) }), g.op('Shape', [x])])]);
    const eot = g.op('ArgMax', [ids], { axis: int(1), keepdims: int(1) });
    g.output('embeds', g.op('GatherND', [g.op('MatMul', [h, w]), eot], { batch_dims: int(1) }), DataType.FLOAT, ['batch', 4]);
    const path = join(dir, 'row-mean.onnx');
    writeModel(path, g, { opset: 17, irVersion: 8 });

    const session = await openPooledCut(path, packedOptions);
    try {
      assert.equal(session.pooledCut?.applied, true);
      assert.equal(session.packing?.applied, false);
      assert.match((session.packing as { reason: string }).reason, /the packed graph: output embeds differs/);
      assert.ok(!session.inputs.some((i) => i.name === PACKED_INPUTS.pick));
    } finally {
      await session.release();
    }
    // A vision tower asked to pack: cut, not packed, and why.
    const vision = await openPooledCut(join(dir, 'fp32/hf/onnx/vision_model.onnx'), packedOptions);
    try {
      assert.equal(vision.pooledCut?.applied, true);
      assert.deepEqual(vision.packing, { applied: false, reason: 'the graph is not a causal text tower clipflow can show how to pack' });
    } finally {
      await vision.release();
    }
  });

  test('ClipModel packs on both layouts: each text, a truncated long one included, embeds as it does alone through the full graph', async () => {
    const words = ['a photo of a dog', 'two cats on a sofa by the window', 'red', 'the quick brown fox jumps over the lazy dog '.repeat(12), 'a', 'a small boat on a lake at dusk'];
    for (const layout of ['hf', 'clip-server']) {
      const spec = await resolveModelDir(join(dir, 'fp32', layout));
      const model = await ClipModel.load(spec, await inferenceRuntime(), { provider: 'cpu' });
      const full = await openOnnxSession(spec.textualPath, { provider: 'cpu' });
      try {
        assert.deepEqual(model.textPacking, { applied: true }, layout);
        const got = await model.encodeTexts(words, 4);
        const batch = model.tokenizer.tokenize(words, 77);
        const rows = words.map((_, i) => batch.ids.slice(i * 77, i * 77 + batch.lengths[i]!));
        assert.equal(rows[3]!.length, 77, 'the long text is truncated to the context');
        const expected = await alone(full, rows, full.outputs[0]!.name);
        got.forEach((v, i) => assert.ok(cosine(v, expected[i]!) >= 0.9999999, `${layout}: text ${i}`));
      } finally {
        await Promise.all([model.release(), full.release()]);
      }
    }
  });
});
