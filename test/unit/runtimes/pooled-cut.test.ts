import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelGraph } from '../../../runtimes/onnx/graph/onnx-graph.js';
import { planPooledCut } from '../../../runtimes/onnx/graph/pooled-cut.plan.js';
import { applyPooledCut } from '../../../runtimes/onnx/graph/pooled-cut.write.js';
import { bufferSource, fileSource, joinPieces, lengthDelimited, rawFields, writePieces } from '../../../runtimes/onnx/graph/proto-fields.js';
import { DataType, onnxType } from '../../../runtimes/onnx/graph/schema.js';
import { openOnnxSession } from '../../../runtimes/onnx/onnx.open.js';
import type { OnnxSession } from '../../../runtimes/onnx/onnx.session.js';
import { openPooledCut } from '../../../runtimes/onnx/pooled-cut.open.js';
import { packageRoot } from '../../../core/config/paths.js';
import { GraphBuilder, int } from '../../../tools/onnx/graph-builder.js';
import { writeModel } from '../../../tools/onnx/model-writer.js';
import type { HostTensor } from '../../../runtimes/runtime.js';
import { cosine } from '../../../executors/clip/rank.js';
import { EOT, SOT, generateTiny, tempDir } from '../tools/clip-fixtures.js';

const { dir, cleanup } = tempDir('clipflow-cut-');
after(cleanup);
generateTiny(join(dir, 'fp32'), { bundle: false });
generateTiny(join(dir, 'fp16'), { bundle: false, precision: 'fp16', layout: 'hf' });
const VISION = {
  hf: join(dir, 'fp32/hf/onnx/vision_model.onnx'),
  'clip-server': join(dir, 'fp32/clip-server/visual.onnx'),
  'hf fp16': join(dir, 'fp16/onnx/vision_model.onnx'),
};
const TEXT = {
  hf: join(dir, 'fp32/hf/onnx/text_model.onnx'),
  'clip-server': join(dir, 'fp32/clip-server/textual.onnx'),
  'hf fp16': join(dir, 'fp16/onnx/text_model.onnx'),
};
/** A block after its attention: out-proj, ln_2, the MLP's two linears with their biases and QuickGELU, both residual adds. */
const BLOCK_TAIL = ['MatMul', 'Add', 'Add', 'LayerNormalization', 'MatMul', 'Add', 'Mul', 'Sigmoid', 'Mul', 'MatMul', 'Add', 'Add'];
const TORCH = Object.fromEntries(
  ['clip-server/visual.onnx', 'clip-server/textual.onnx', 'hf/onnx/vision_model.onnx', 'hf/onnx/text_model.onnx'].map((f) => [`torch ${f}`, join(packageRoot(), 'test/fixtures/torch-clip', f)]),
);
const cpu = { provider: 'cpu' as const };

function plan(path: string, dropStates = true) {
  const graph = readModelGraph(bufferSource(readFileSync(path)))!;
  return { graph, cut: planPooledCut(graph, dropStates) };
}

/** Smallest per-row cosine similarity between two [rows, width] outputs. */
function worstRowCosine(a: { data: Float32Array; dims: number[] }, b: { data: Float32Array; dims: number[] }): number {
  assert.deepEqual(b.dims, a.dims);
  const width = a.dims.at(-1)!;
  let worst = 1;
  for (let row = 0; row < a.data.length; row += width) worst = Math.min(worst, cosine(a.data.subarray(row, row + width), b.data.subarray(row, row + width)));
  return worst;
}

describe('the pooled-token cut', () => {
  test('covers the last block after its attention, in both layouts, and drops only per-token state outputs', () => {
    for (const [layout, path] of Object.entries(VISION)) {
      const { cut } = plan(path);
      assert.ok(cut, layout);
      assert.deepEqual(cut.region.map((n) => n.op), BLOCK_TAIL, layout);
      // The token is picked from the block's input (the residual) and from the heads merged after attention.
      assert.equal(cut.entries.size, 2, layout);
      assert.deepEqual([...cut.entries.values()], [1, 1], layout);
      assert.deepEqual(cut.droppedOutputs, layout === 'clip-server' ? [] : ['last_hidden_state'], layout);
    }
  });

  test('a state output the caller may read blocks the cut', () => {
    assert.equal(plan(VISION.hf, false).cut, undefined);
    assert.ok(plan(VISION['clip-server'], false).cut);
  });

  test('covers the text tower\'s last block after attention and its final norm, below the per-row EOT pick', () => {
    for (const [layout, path] of Object.entries(TEXT)) {
      const { cut } = plan(path);
      assert.ok(cut, layout);
      assert.equal(cut.pick.op, 'GatherND', layout);
      assert.ok('rows' in cut.select, layout);
      assert.deepEqual(cut.region.map((n) => n.op), [...BLOCK_TAIL, 'LayerNormalization'], layout);
      assert.deepEqual([...cut.entries.values()], [1, 1], layout);
      assert.deepEqual(cut.droppedOutputs, layout === 'clip-server' ? [] : ['last_hidden_state'], layout);
    }
  });

  test('on graphs torch.onnx exported (test/fixtures/torch-clip): cuts both towers through their sequence-first transpose', () => {
    for (const [tower, path] of Object.entries(TORCH)) {
      const { cut } = plan(path);
      assert.ok(cut, tower);
      // nn.MultiheadAttention projects out on a flattened 2-D view, so the cut starts after it, at the residual add.
      const tail = ['Add', 'LayerNormalization', 'MatMul', 'Add', 'Mul', 'Sigmoid', 'Mul', 'MatMul', 'Add', 'Add', 'Transpose'];
      assert.deepEqual(cut.region.map((n) => n.op), tower.includes('text') ? [...tail, 'LayerNormalization'] : tail, tower);
      assert.deepEqual([...cut.entries.values()], [0, 0], 'tokens lead the sequence-first (LND) layout');
      // The text tower's EOT: x[arange(N), argmax(ids)] exported as a Gather of the flattened states at argmax + row offsets.
      if (tower.includes('text')) assert.deepEqual(cut.select, { rows: '/ArgMax_output_0', pickIndices: '/Add_2_output_0', flattened: true });
    }
  });

  test('copies every field it does not change, including ones clipflow does not know', () => {
    const bytes = readFileSync(VISION.hf);
    // ModelProto field 25 is outside our subset: it must survive byte for byte.
    const unknown = lengthDelimited(25, Buffer.from('kept as it was'));
    const source = bufferSource(Buffer.concat([bytes, unknown]));
    const graph = readModelGraph(source)!;
    const written = joinPieces(applyPooledCut(graph, planPooledCut(graph, true)!), source);
    const kept = rawFields(bufferSource(written)).find((f) => f.field === 25)!;
    assert.deepEqual(written.subarray(kept.start, kept.end), Buffer.from(unknown));
    const Model = onnxType('ModelProto');
    const before = Model.toObject(Model.decode(bytes), { longs: Number }) as any;
    const after = Model.toObject(Model.decode(written), { longs: Number }) as any;
    assert.deepEqual(after.metadataProps, before.metadataProps);
    assert.deepEqual(after.opsetImport, before.opsetImport);
    assert.deepEqual(after.graph.output.map((o: any) => o.name), ['image_embeds']);
    // Two Gathers in, the Identity naming last_hidden_state out.
    assert.equal(after.graph.node.length, before.graph.node.length + 1);
    assert.equal(after.graph.initializer.length, before.graph.initializer.length + 1);
  });

  test('writes its nodes in topological order, as ONNX requires', () => {
    for (const path of [...Object.values(VISION), ...Object.values(TEXT), ...Object.values(TORCH)]) {
      const source = bufferSource(readFileSync(path));
      const graph = readModelGraph(source)!;
      const model = onnxType('ModelProto').decode(joinPieces(applyPooledCut(graph, planPooledCut(graph, true)!), source)) as any;
      const known = new Set<string>([...model.graph.input, ...model.graph.initializer].map((x: any) => x.name));
      for (const n of model.graph.node) {
        for (const i of n.input) assert.ok(!i || known.has(i), `${path}: ${n.opType} reads ${i} before it is produced`);
        for (const o of n.output) known.add(o);
      }
    }
  });

  test('writes the same model from the file, read piece by piece, as from its bytes in memory', () => {
    const fromMemory = bufferSource(readFileSync(VISION.hf));
    const inMemory = readModelGraph(fromMemory)!;
    const expected = joinPieces(applyPooledCut(inMemory, planPooledCut(inMemory, true)!), fromMemory);
    const file = fileSource(VISION.hf);
    try {
      const graph = readModelGraph(file)!;
      const path = join(dir, 'written.onnx');
      writePieces(applyPooledCut(graph, planPooledCut(graph, true)!), file, path);
      assert.ok(readFileSync(path).equals(expected));
    } finally {
      file.close();
    }
  });

  /** Inputs other than the load-time check's: 5 images, or 5 texts of 3 to 11 tokens with their EOT at different places. */
  function feedsFor(session: OnnxSession): Record<string, HostTensor> {
    const pixels = session.inputs.find((i) => i.name === 'pixel_values');
    if (pixels) {
      const dims = [5, ...(pixels.shape.slice(1) as number[])];
      return { pixel_values: { data: Float32Array.from({ length: dims.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.61) * 2), dims } };
    }
    const fixed = session.inputs[0]!.shape[1];
    const length = typeof fixed === 'number' ? fixed : 12;
    const ids = new Int32Array(5 * length);
    const mask = new Int32Array(5 * length);
    for (let r = 0; r < 5; r++) {
      const tokens = [SOT, ...Array.from({ length: 1 + 2 * r }, (_, j) => 1000 + ((r * 7919 + j * 104729) % 40000)), EOT];
      tokens.forEach((t, j) => {
        ids[r * length + j] = t;
        mask[r * length + j] = 1;
      });
    }
    const feeds: Record<string, HostTensor> = { input_ids: { data: ids, dims: [5, length] } };
    if (session.inputs.some((i) => i.name === 'attention_mask')) feeds.attention_mask = { data: mask, dims: [5, length] };
    return feeds;
  }

  const TORCH_BY_TOWER = (text: boolean) => Object.fromEntries(Object.entries(TORCH).filter(([k]) => k.includes('text') === text));
  for (const [tower, paths] of Object.entries({ image: { ...VISION, ...TORCH_BY_TOWER(false) }, text: { ...TEXT, ...TORCH_BY_TOWER(true) } })) {
    for (const [layout, path] of Object.entries(paths)) {
      test(`serves the cut ${tower} graph, whose embeddings are the full graph's (${layout})`, async () => {
        const cut = await openPooledCut(path, cpu);
        const full = await openOnnxSession(path, cpu);
        try {
          assert.equal(cut.pooledCut?.applied, true, JSON.stringify(cut.pooledCut));
          assert.deepEqual(cut.outputs.map((o) => o.name), [layout.includes('clip-server') ? 'output' : `${tower}_embeds`]);
          const name = cut.outputs[0]!.name;
          const feeds = feedsFor(full);
          const similarity = worstRowCosine((await full.run(feeds, [name]))[name]!, (await cut.run(feeds, [name]))[name]!);
          assert.ok(similarity >= (layout === 'hf fp16' ? 0.9999 : 0.9999999), `worst row cosine ${similarity}`);
        } finally {
          await Promise.all([cut.release(), full.release()]);
        }
      });
    }
  }

  test('a cut that fails its check serves the full graph and says why', async () => {
    // y = (x @ W)[:, 0] on a 2-D x: the walk takes MatMul as token-wise at axis 1, which is
    // x's contracted axis here, so the cut graph cannot hold and the load-time check must catch it.
    const g = new GraphBuilder('misleading');
    const x = g.input('x', DataType.FLOAT, ['batch', 4]);
    const w = g.initializer('w', DataType.FLOAT, [4, 4], () => new Uint8Array(Float32Array.from({ length: 16 }, (_, i) => i / 8).buffer));
    const index = g.initializer('index', DataType.INT64, [], () => new Uint8Array(BigInt64Array.of(0n).buffer));
    g.output('y', g.op('Gather', [g.op('MatMul', [x, w]), index], { axis: int(1) }), DataType.FLOAT, ['batch']);
    const path = join(dir, 'misleading.onnx');
    writeModel(path, g, { opset: 17, irVersion: 8 });
    assert.ok(plan(path).cut, 'the walk plans a cut here');

    let session: OnnxSession | undefined;
    try {
      session = await openPooledCut(path, cpu);
      assert.equal(session.pooledCut?.applied, false);
      assert.match((session.pooledCut as { reason: string }).reason, /cut graph/);
      const out = await session.run({ x: { data: Float32Array.of(1, 0, 0, 0, 0, 1, 0, 0), dims: [2, 4] } });
      // Row 0 of W is 0..3/8, row 1 is 4..7/8: column 0 picks 0 and 0.5.
      assert.deepEqual([...out.y!.data], [0, 0.5]);
    } finally {
      await session?.release();
    }
  });

  test('without a writable $TMPDIR the full graph serves, and the report says why', async () => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = join(dir, 'no', 'such', 'folder');
    let session: OnnxSession | undefined;
    try {
      session = await openPooledCut(VISION.hf, cpu);
      assert.equal(session.pooledCut?.applied, false);
      assert.match((session.pooledCut as { reason: string }).reason, /cut graph did not load: .*ENOENT/);
      assert.deepEqual(session.outputs.map((o) => o.name), ['image_embeds', 'last_hidden_state'], 'the full graph, outputs and all');
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      await session?.release();
    }
  });

  test('a file that is not a model fails as ORT reports it, not in the cut', async () => {
    const path = join(dir, 'garbage.onnx');
    writeFileSync(path, Buffer.from('not a protobuf at all \u0000\u0001'));
    await assert.rejects(openPooledCut(path, cpu), /cannot load model .*garbage\.onnx/);
  });
});
