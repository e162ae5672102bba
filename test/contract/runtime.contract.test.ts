// Every execution provider passes one contract. Providers this machine cannot run
// are skipped with the probe's own reason; cpu always runs.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXECUTION_PROVIDERS, inferenceRuntime, ModelLoadError, PACKED_INPUTS, packedFeeds, planPackedRows, ProviderUnavailableError, type InferenceSession } from '../../runtimes/index.js';
import { generateClipModel } from '../../tools/clip-model/generate.js';
import { getPreset } from '../../tools/clip-model/presets.js';
import { expectedRuntimes } from '../helpers/runtimes.js';
import { tinyModelDir } from '../helpers/tiny-model.js';
import { cosine } from '../../executors/clip/rank.js';

const runtime = await inferenceRuntime();
const probe = await runtime.probe();

function ids(n: number, length: number): Int32Array {
  const out = new Int32Array(n * length);
  for (let r = 0; r < n; r++) {
    out.set([49406, 320 + r, 1125, 49407], r * length);
  }
  return out;
}

async function runText(session: InferenceSession, n: number, length: number) {
  const feeds = { input_ids: { data: ids(n, length), dims: [n, length] }, attention_mask: { data: new Int32Array(n * length).fill(1), dims: [n, length] } };
  return session.run(feeds);
}

const expected = expectedRuntimes();

for (const provider of EXECUTION_PROVIDERS) {
  const status = probe[provider];
  // GPU providers that this installation lacks are skipped with the probe's reason.
  const skip = provider !== 'cpu' && !status.available && !expected.has(provider) ? `${provider}: ${status.reason}` : false;
  describe(`runtime contract: onnx/${provider}`, { skip }, () => {
    const options = { provider, intraOpThreads: 1 };

    it('loads both layouts, reports specs and the provider that really runs, or refuses clearly', async () => {
      for (const [dir, file, idsType] of [
        [tinyModelDir('clip-server'), 'textual.onnx', 'int32'],
        [tinyModelDir('hf'), 'onnx/text_model.onnx', 'int64'],
      ] as const) {
        let session: InferenceSession;
        try {
          session = await runtime.load(join(dir, file), options);
        } catch (e) {
          // A provider that is installed but cannot start here (e.g. WebGPU without an adapter)
          // must say so at load time: never a silent fallback to the CPU.
          assert.ok(!expected.has(provider), `CLIPFLOW_EXPECT_RUNTIMES names ${provider}, but it refused: ${String(e)}`);
          assert.ok(e instanceof ProviderUnavailableError, `expected ProviderUnavailableError, got ${String(e)}`);
          assert.match((e as Error).message, new RegExp(`runtime "${provider}" is not available`));
          return;
        }
        try {
          assert.equal(session.provider, provider);
          assert.equal(session.inputs.find((i) => i.name === 'input_ids')?.type, idsType);
          const out = await runText(session, 3, 77);
          const [first] = Object.values(out);
          assert.equal(first!.dims[0], 3);
          assert.ok(first!.data instanceof Float32Array && first!.data.every(Number.isFinite));
        } finally {
          await session.release();
        }
      }
    });

    it('feeds int64 graphs from int32 ids and float16 graphs from float32 pixels', async () => {
      if (provider !== 'cpu') return; // fp16 CPU kernels are what the tiny fp16 model exercises
      const dir = mkdtempSync(join(tmpdir(), 'clipflow-fp16-'));
      generateClipModel({ preset: getPreset('tiny'), layout: 'clip-server', outDir: dir, seed: 7, precision: 'fp16', bundle: false });
      const fp16 = await runtime.load(join(dir, 'visual.onnx'), options);
      const fp32 = await runtime.load(join(tinyModelDir('clip-server'), 'visual.onnx'), options);
      try {
        assert.equal(fp16.inputs[0]!.type, 'float16');
        const pixels = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i) * 0.5);
        const a = Object.values(await fp16.run({ pixel_values: { data: pixels, dims: [2, 3, 32, 32] } }))[0]!;
        const b = Object.values(await fp32.run({ pixel_values: { data: pixels, dims: [2, 3, 32, 32] } }))[0]!;
        assert.ok(a.data instanceof Float32Array, 'float16 outputs come back as float32');
        assert.ok(cosine(a.data as Float32Array, b.data as Float32Array) > 0.999, 'fp16 and fp32 graphs of the same seed agree');
      } finally {
        await Promise.all([fp16.release(), fp32.release()]);
      }
    });

    it('a corrupt model file is a load error naming it, from the inference thread', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'clipflow-corrupt-'));
      const path = join(dir, 'visual.onnx');
      writeFileSync(path, 'this is not an onnx graph');
      await assert.rejects(runtime.load(path, options), (e: Error) => {
        assert.ok(e instanceof ModelLoadError || e instanceof ProviderUnavailableError, String(e));
        if (e instanceof ModelLoadError) assert.ok(e.message.includes(path));
        return true;
      });
    });

    it('consumeFeeds gives the same outputs as copied feeds, and views into larger buffers stay usable', async () => {
      if (provider !== 'cpu') return;
      const session = await runtime.load(join(tinyModelDir('clip-server'), 'visual.onnx'), options);
      try {
        const make = () => Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.cos(i) * 0.4);
        const copied = make();
        const a = Object.values(await session.run({ pixel_values: { data: copied, dims: [2, 3, 32, 32] } }))[0]!;
        assert.equal(copied.length, 2 * 3 * 32 * 32, 'without consumeFeeds the caller keeps its array');
        const moved = make();
        const b = Object.values(await session.run({ pixel_values: { data: moved, dims: [2, 3, 32, 32] } }, undefined, { consumeFeeds: true }))[0]!;
        assert.deepEqual(Array.from(b.data), Array.from(a.data));
        assert.equal(moved.length, 0, 'the buffer moved to the inference thread instead of being copied');
        // A view into a bigger buffer cannot be moved without taking the rest with it: it is copied.
        const big = new Float32Array(3 * 3 * 32 * 32);
        big.set(make(), 3 * 32 * 32);
        const view = big.subarray(3 * 32 * 32);
        const c = Object.values(await session.run({ pixel_values: { data: view, dims: [2, 3, 32, 32] } }, undefined, { consumeFeeds: true }))[0]!;
        assert.equal(big.length, 3 * 3 * 32 * 32, 'the larger buffer is still attached');
        assert.deepEqual(Array.from(c.data), Array.from(a.data));
      } finally {
        await session.release();
      }
    });

    it('keeps the calling thread free while a batch runs', async () => {
      if (provider !== 'cpu') return;
      const session = await runtime.load(join(tinyModelDir('clip-server'), 'visual.onnx'), options);
      try {
        // Grow the batch until one run takes long enough to see timers fire (or not) during it.
        for (let n = 64; ; n *= 2) {
          const pixels = { data: new Float32Array(n * 3 * 32 * 32).fill(0.1), dims: [n, 3, 32, 32] };
          let ticks = 0;
          const timer = setInterval(() => ticks++, 1);
          const started = performance.now();
          await session.run({ pixel_values: pixels });
          const ms = performance.now() - started;
          clearInterval(timer);
          if (ms < 100 && n < 65_536) continue;
          assert.ok(ticks >= 10, `only ${ticks} timer ticks during a ${ms.toFixed(0)} ms run: inference blocked the event loop`);
          break;
        }
      } finally {
        await session.release();
      }
    });

    it('release() lets the runs already sent finish, then refuses new ones', async () => {
      let session: InferenceSession;
      try {
        session = await runtime.load(join(tinyModelDir('clip-server'), 'visual.onnx'), options);
      } catch (e) {
        // Installed but unusable here (WebGPU without an adapter): the first test checks that refusal.
        assert.ok(e instanceof ProviderUnavailableError, String(e));
        return;
      }
      const pixels = { data: new Float32Array(8 * 3 * 32 * 32).fill(0.2), dims: [8, 3, 32, 32] };
      const runs = Array.from({ length: 4 }, () => session.run({ pixel_values: pixels }));
      const released = session.release();
      for (const out of await Promise.all(runs)) assert.equal(Object.values(out)[0]!.dims[0], 8);
      await released;
      await assert.rejects(session.run({ pixel_values: pixels }));
    });

    it("gives the CPU provider's outputs for the same feeds (both towers, cosine >= 0.999 per row)", async () => {
      const dir = tinyModelDir('hf');
      const pixels = { data: Float32Array.from({ length: 4 * 3 * 32 * 32 }, (_, i) => Math.sin(i * 0.37)), dims: [4, 3, 32, 32] };
      for (const [file, run] of [
        ['onnx/text_model.onnx', (s: InferenceSession) => runText(s, 4, 9)],
        ['onnx/vision_model.onnx', (s: InferenceSession) => s.run({ pixel_values: pixels })],
      ] as const) {
        let session: InferenceSession;
        try {
          session = await runtime.load(join(dir, file), options);
        } catch (e) {
          assert.ok(e instanceof ProviderUnavailableError, String(e)); // the first test checks the refusal
          return;
        }
        const reference = await runtime.load(join(dir, file), { provider: 'cpu', intraOpThreads: 1 });
        try {
          const embeds = (out: Awaited<ReturnType<InferenceSession['run']>>) => Object.entries(out).find(([name]) => name.endsWith('_embeds'))![1];
          const [got, want] = [embeds(await run(session)), embeds(await run(reference))];
          assert.deepEqual(got.dims, want.dims);
          const width = want.dims[1]!;
          for (let r = 0; r < want.dims[0]!; r++) {
            const similarity = cosine(got.data.subarray(r * width, (r + 1) * width) as Float32Array, want.data.subarray(r * width, (r + 1) * width) as Float32Array);
            assert.ok(similarity >= 0.999, `${file} row ${r}: cosine ${similarity} to the CPU's output`);
          }
        } finally {
          await Promise.all([session.release(), reference.release()]);
        }
      }
    });

    it('with pooledOutputsOnly, serves both towers cut to the pooled token, with the full graphs\' embeddings', async () => {
      const dir = tinyModelDir('hf');
      const pixels = { data: Float32Array.from({ length: 3 * 3 * 32 * 32 }, (_, i) => Math.cos(i * 0.29)), dims: [3, 3, 32, 32] };
      for (const [file, output, run] of [
        ['onnx/text_model.onnx', 'text_embeds', (s: InferenceSession) => runText(s, 3, 6)],
        ['onnx/vision_model.onnx', 'image_embeds', (s: InferenceSession) => s.run({ pixel_values: pixels })],
      ] as const) {
        let cut: InferenceSession;
        try {
          cut = await runtime.load(join(dir, file), { ...options, pooledOutputsOnly: true });
        } catch (e) {
          assert.ok(e instanceof ProviderUnavailableError, String(e)); // the first test checks the refusal
          return;
        }
        const full = await runtime.load(join(dir, file), options);
        try {
          assert.deepEqual(cut.pooledCut && { applied: cut.pooledCut.applied }, { applied: true }, JSON.stringify(cut.pooledCut));
          assert.deepEqual(cut.outputs.map((o) => o.name), [output], 'the per-token state output is dropped');
          const [got, want] = [(await run(cut))[output]!, (await run(full))[output]!];
          assert.deepEqual(got.dims, want.dims);
          const width = want.dims[1]!;
          for (let r = 0; r < want.dims[0]!; r++) {
            const similarity = cosine(got.data.subarray(r * width, (r + 1) * width) as Float32Array, want.data.subarray(r * width, (r + 1) * width) as Float32Array);
            assert.ok(similarity >= 0.99999, `${file} row ${r}: cosine ${similarity} to the full graph`);
          }
        } finally {
          await Promise.all([cut.release(), full.release()]);
        }
      }
    });

    it('with packedTexts, the text tower takes several texts a row and gives each the embedding it gets alone', async () => {
      const path = join(tinyModelDir('hf'), 'onnx/text_model.onnx');
      let packed: InferenceSession;
      try {
        packed = await runtime.load(path, { ...options, pooledOutputsOnly: true, packedTexts: true });
      } catch (e) {
        assert.ok(e instanceof ProviderUnavailableError, String(e)); // the first test checks the refusal
        return;
      }
      const full = await runtime.load(path, options);
      try {
        // TensorRT would build an engine per rewrite tried, so it serves the graph as it is.
        if (provider === 'tensorrt') return assert.equal(packed.packing, undefined);
        assert.deepEqual(packed.packing, { applied: true });
        const texts = [[49406, 320, 1125, 49407], [49406, 500, 49407], [49406, 1, 2, 3, 4, 5, 6, 49407], [49406, 49407], [49406, 7, 8, 49407]];
        const layout = planPackedRows(texts, 8);
        assert.ok(layout.rows.some((r) => r.length > 1) && layout.rows.length > 1, 'several rows, several texts in one');
        const p = packedFeeds(texts, layout);
        const out = Object.values(await packed.run({ input_ids: p.ids, attention_mask: p.mask, [PACKED_INPUTS.positions]: p.positions, [PACKED_INPUTS.bias]: p.bias, [PACKED_INPUTS.pick]: p.pick }))[0]!;
        const width = out.dims[1]!;
        assert.deepEqual(out.dims, [texts.length, width]);
        for (const [i, t] of texts.entries()) {
          const alone = Object.values(await full.run({ input_ids: { data: Int32Array.from(t), dims: [1, t.length] }, attention_mask: { data: new Int32Array(t.length).fill(1), dims: [1, t.length] } }))[0]!;
          const similarity = cosine(out.data.subarray(i * width, (i + 1) * width) as Float32Array, alone.data);
          assert.ok(similarity >= 0.99999, `text ${i}: cosine ${similarity} to the full graph alone`);
        }
      } finally {
        await Promise.all([packed.release(), full.release()]);
      }
    });

    it('two sessions loaded and run at the same time give what each gives alone', async () => {
      const dir = tinyModelDir('hf');
      let sessions: InferenceSession[];
      try {
        // Loaded together, as ClipModel loads its two towers.
        sessions = await Promise.all([runtime.load(join(dir, 'onnx/text_model.onnx'), options), runtime.load(join(dir, 'onnx/vision_model.onnx'), options)]);
      } catch (e) {
        assert.ok(e instanceof ProviderUnavailableError, String(e)); // the first test checks the refusal
        return;
      }
      const [text, vision] = sessions as [InferenceSession, InferenceSession];
      const pixels = { data: Float32Array.from({ length: 8 * 3 * 32 * 32 }, (_, i) => Math.cos(i * 0.11)), dims: [8, 3, 32, 32] };
      try {
        const alone = [Object.values(await runText(text, 8, 12))[0]!, Object.values(await vision.run({ pixel_values: pixels }))[0]!];
        const together = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? vision.run({ pixel_values: pixels }) : runText(text, 8, 12))));
        together.forEach((out, i) => {
          const [got, want] = [Object.values(out)[0]!.data, alone[i % 2]!.data];
          assert.equal(got.length, want.length);
          // Equal on the CPU; a GPU may reorder float sums between runs, never by more than this.
          for (let k = 0; k < want.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-4, `run ${i}, value ${k}: ${got[k]} vs ${want[k]}`);
        });
      } finally {
        await Promise.all(sessions.map((s) => s.release()));
      }
    });

    it('a missing model file is a clear load error', async () => {
      await assert.rejects(runtime.load('/nonexistent/model.onnx', options), (e: Error) => {
        assert.ok(e instanceof ModelLoadError || e instanceof ProviderUnavailableError);
        return true;
      });
    });
  });
}

describe('runtime probe', () => {
  it('reports cpu available and a reason for every unavailable provider', () => {
    assert.equal(probe.cpu.available, true);
    for (const p of EXECUTION_PROVIDERS) if (!probe[p].available) assert.ok(probe[p].reason && probe[p].reason!.length > 10, p);
  });

  it('refuses an unavailable provider at load with how to get it', async (t) => {
    const missing = EXECUTION_PROVIDERS.find((p) => !probe[p].available);
    if (!missing) return t.diagnostic('every provider is installed here');
    await assert.rejects(runtime.load(join(tinyModelDir('clip-server'), 'textual.onnx'), { provider: missing }), (e: Error) => {
      assert.ok(e instanceof ProviderUnavailableError);
      assert.match(e.message, /not available/);
      return true;
    });
  });
});
