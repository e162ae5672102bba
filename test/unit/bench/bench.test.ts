// Smoke test of the whole bench (`--quick`: tiny model generated into a temp
// dir, a fraction of a second per point): every section must be present and
// every number in the JSON finite. It checks the plumbing, not the speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchTokenizer, shortCaptions } from '../../../bench/inputs.js';
import { externalBenchModels } from '../../../bench/models.js';
import { writeTransformersJsModel } from '../../../bench/transformers-js-files.js';
import { generateClipModel } from '../../../tools/clip-model/generate.js';
import { getPreset } from '../../../tools/clip-model/presets.js';
import { resolveBenchOptions } from '../../../bench/options.js';
import type { BenchReport } from '../../../bench/report.js';
import { runBench } from '../../../bench/suite.js';
import { planPackedRows } from '../../../runtimes/packed-texts.js';
import { EXECUTION_PROVIDERS, inferenceRuntime } from '../../../runtimes/index.js';

/** Paths of numbers that are NaN or infinite, anywhere in the document. */
function nonFinite(value: unknown, path = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinite(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => nonFinite(v, `${path}.${k}`));
  return [];
}

test('bench --quick runs every section on the tiny model and writes finite numbers', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-bench-'));
  try {
    const out = join(dir, 'latest.json');
    const run = await runBench(resolveBenchOptions({ quick: true, rounds: 2, cacheDir: join(dir, 'models'), out }));
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;

    assert.equal(report.model.preset, 'tiny');
    for (const key of ['machine', 'options', 'model', 'raw', 'rawRecheck', 'served', 'transformersJs', 'headlines'] as const) {
      assert.ok(report[key], `section ${key} is missing`);
    }
    assert.deepEqual(nonFinite(report), []);
    assert.ok(report.raw.texts.fixed77, 'the generated model has the clip-server layout, so the fixed-77 graph is measured');
    const { fixed77, dynamic77, short, single, hfFixedLength } = report.raw.texts;
    for (const p of [report.raw.images.b1, report.raw.images.b8, report.raw.images.b32, fixed77, dynamic77, short, single]) {
      assert.ok(p && p.perSecond > 0 && p.calls >= 2);
    }
    assert.equal(hfFixedLength, null, 'the generated hf text graph has a dynamic sequence axis');
    // The vision graph as served (pooled-token cut) is timed in rounds beside the full graph.
    const cut = report.raw.imagesCutB32!;
    assert.equal(cut.rounds.length, 3);
    assert.ok(cut.rounds.every((r) => r.full > 0 && r.cut > 0));
    assert.equal(cut.vsFull, [...cut.rounds.map((r) => r.cut / r.full)].sort((a, b) => a - b)[1]);
    assert.equal(report.headlines.find((h) => h.name.startsWith('raw images b32, graph as served'))?.measured, cut.vsFull);
    // The captions timed in the server's run and at their own lengths: the generated text graph packs, so one packed run.
    const plans = report.raw.texts.captionPlans!;
    const captions = await shortCaptions(report.options.seed);
    const lengths = [...captions.lengths].sort((a, b) => a - b);
    const tokenizer = await benchTokenizer();
    const layout = planPackedRows(captions.texts.map((t) => [49406, ...tokenizer.encode(t), 49407]), 77);
    assert.deepEqual(plans.planned.packed, { rows: layout.rows.length, tokens: layout.tokens });
    assert.ok(layout.rows.length < lengths.length, 'several captions a row');
    assert.deepEqual(plans.planned.runs, [{ size: 32, seqLength: lengths.at(-1)! }]);
    assert.deepEqual(plans.unpadded.lengths.map((x) => [x.seqLength, x.captions]), [...new Set(lengths)].map((l) => [l, lengths.filter((x) => x === l).length]));
    // Each round: its unpadded rate is the captions' weighted harmonic mean of the lengths' rates; the ratios are the rounds' medians.
    assert.equal(plans.rounds.length, 3);
    for (const r of plans.rounds) {
      const harmonic = 32 / plans.unpadded.lengths.reduce((t, x, i) => t + x.captions / r.byLength[i]!, 0);
      assert.ok(r.padded > 0 && r.planned > 0 && Math.abs(r.unpadded - harmonic) < 1e-9 * harmonic);
    }
    const middle = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    assert.equal(plans.planned.vsPadded, middle(plans.rounds.map((r) => r.planned / r.padded)));
    assert.equal(plans.unpadded.vsPadded, middle(plans.rounds.map((r) => r.unpadded / r.padded)));
    // Full matrix on HTTP (4 inputs x 2 concurrencies), JPEG + short captions on grpc and websocket.
    assert.equal(report.served.points.filter((p) => p.protocol === 'http').length, 8);
    for (const protocol of ['grpc', 'websocket'] as const) {
      assert.deepEqual(report.served.points.filter((p) => p.protocol === protocol).map((p) => p.input).sort(), ['jpeg', 'short']);
    }
    for (const p of report.served.points) {
      assert.ok(p.perSecond > 0 && p.items > 0, `${p.key} measured nothing`);
      // A stream keeps its whole window (fill included) beside its steady state; N clients are measured over the window.
      if (p.clients === 1) assert.ok(p.window && p.window.items >= p.items && p.window.firstReplyMs > 0, `${p.key} has no window`);
      else assert.equal(p.window, undefined);
      // The server's own stage timers were read around every point (HTTP is served).
      assert.ok(p.breakdown && p.breakdown.documents > 0, `${p.key} has no stage breakdown`);
      // Paired: two rounds, each over the raw measured on either side of it; the ratio is their median.
      const rounds = p.pairedRaw?.rounds ?? [];
      assert.equal(rounds.length, 2, `${p.key} has ${rounds.length} rounds`);
      assert.equal(rounds[0]!.rawAfter, rounds[1]!.rawBefore, 'consecutive rounds share the raw point between them');
      for (const r of rounds) assert.ok(Math.abs(r.ratio - r.perSecond / ((r.rawBefore + r.rawAfter) / 2)) < 1e-9);
      assert.ok(Math.abs(p.pairedRaw!.ratio - (rounds[0]!.ratio + rounds[1]!.ratio) / 2) < 1e-9);
    }
    assert.deepEqual(Object.keys(report.served.latency).sort(), ['grpc', 'http', 'websocket']);
    for (const l of Object.values(report.served.latency)) assert.ok(l!.rawTextP50! > 0, 'the raw single-text floor is measured around each latency point');
    assert.equal(report.served.clientComparison.length, 2);
    assert.ok(report.served.server.peakRssMb > 0);

    const peer = report.transformersJs!;
    assert.ok(peer.config.ok, `config.json lacks ${peer.config.missing.join(', ')}`);
    assert.equal(peer.tokenizerMismatches, 0, 'the generated tokenizer.json must tokenize like clipflow');
    assert.ok(peer.jpegImages.perSecond > 0 && peer.shortCaptions.perSecond > 0);
    assert.equal(peer.jpegImages.paired?.rounds.length, 2);
    assert.equal(peer.shortCaptions.paired?.kind, 'texts-short');
    for (const [single, batched] of [[peer.single.jpegImages, peer.jpegImages], [peer.single.shortCaptions, peer.shortCaptions]] as const) {
      assert.equal(single.batch, 1);
      assert.ok(single.perSecond > 0 && single.latency.p50 < batched.latency.p50, 'a call of one document takes less time than a call of 32');
      assert.equal(single.paired?.rounds.length, 2);
    }
    // Both ways of decoding a batch of 32: all at once (the acceptance row's peer) and one after another.
    assert.equal(peer.jpegImages.decodesInFlight, 32);
    assert.equal(peer.jpegImagesDecodedInTurn.decodesInFlight, 1);
    assert.equal(peer.jpegImagesDecodedInTurn.batch, 32);
    assert.equal(peer.jpegImagesDecodedInTurn.paired?.rounds.length, 2);
    const inTurn = report.headlines.find((h) => /decoding JPEGs in turn/.test(h.name))!;
    assert.ok(inTurn.target === null && Number.isFinite(inTurn.measured) && inTurn.measured > 0 && /JPEGs decoded in turn/.test(inTurn.basis), inTurn.basis);
    assert.equal(typeof peer.truncation.keepsEot, 'boolean');

    // Every target row is there, with a verdict.
    assert.equal(report.headlines.filter((h) => h.target !== null).length, 7);
    for (const h of report.headlines) assert.ok(h.target === null || typeof h.pass === 'boolean');
    const perCall = report.headlines.filter((h) => /transformers\.js one (image )?a call/.test(h.name));
    assert.equal(perCall.length, 2, 'one-document clients are compared with transformers.js one document a call');
    for (const h of perCall) assert.ok(Number.isFinite(h.measured) && h.measured > 0 && /one a call/.test(h.basis), h.basis);
    // The served captions over the shorter raws: the padded-length row scaled by how much faster each raw ran.
    // The text graph packs, so the captions' target is raw padded to the longest; the server's packed run and unpadded are context.
    const padded = report.headlines.find((h) => /^http short captions\/s vs raw at \d+ tokens$/.test(h.name))!;
    assert.equal(padded.target, 0.85);
    for (const [pattern, vsPadded, target] of [[/vs raw in the server's runs \(packed, on the graph as served\)$/, plans.planned.vsPadded, null], [/vs raw at each caption's length$/, plans.unpadded.vsPadded, null]] as const) {
      const h = report.headlines.find((x) => pattern.test(x.name))!;
      assert.equal(h.target, target, h.name);
      assert.ok(Math.abs(h.measured - padded.measured / vsPadded) < 1e-9 * h.measured, h.name);
    }
    assert.match(run.table, /short captions in the server's runs \(packed \d+ rows of \d+ tokens, on the text graph as served\)/);
    for (const section of ['Raw ORT ceiling', 'Served end to end', 'Where the served time goes', 'Latency', 'Peak RSS', 'transformers.js', 'Headline ratios']) {
      assert.match(run.table, new RegExp(section));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench --model-dir measures a model folder it is given, half precision and a fixed 77-token text graph included, and writes nothing into it', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-bench-ext-'));
  try {
    // A Hugging Face layout folder alone, as a held-out export would come, in half
    // precision and with the text sequence fixed at 77, as some exports are (the
    // default run covers float32 with a dynamic axis).
    const hf = join(dir, 'held-out');
    generateClipModel({ preset: getPreset('tiny'), layout: 'hf', outDir: hf, seed: 7, precision: 'fp16', bundle: false, fixed77: true });
    const before = readdirSync(hf).sort();
    const out = join(dir, 'ext.json');
    const run = await runBench(resolveBenchOptions({ quick: true, modelDir: hf, protocols: ['http'], compareClients: false, cacheDir: join(dir, 'cache'), out }));
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;

    assert.equal(report.model.preset, 'external');
    assert.equal(report.model.hf, hf);
    assert.equal(report.raw.texts.fixed77, null, 'no clip-server layout was given');
    assert.ok(report.raw.texts.dynamic77.perSecond > 0 && report.raw.images.b32.perSecond > 0);
    // The fixed graph takes every batch at 77, so the caption and latency floors are measured there, as served.
    assert.equal(report.raw.pixelType, 'float16');
    assert.equal(report.raw.texts.hfFixedLength, 77);
    assert.equal(report.raw.texts.short.seqLength, 77);
    assert.equal(report.raw.texts.single.seqLength, 77);
    assert.equal(report.raw.texts.captionPlans, null, 'a fixed graph runs every caption at 77');
    assert.ok(!report.headlines.some((h) => /vs raw (in the server's runs|at each caption's length)/.test(h.name)));
    assert.equal(report.headlines.find((h) => h.name === 'http short captions/s vs raw at 77 tokens')?.target, 0.85, 'the target row is at the fixed length');
    assert.ok(report.served.points.every((p) => p.perSecond > 0));
    assert.equal(report.transformersJs?.tokenizerMismatches, 0);
    assert.equal(report.transformersJs?.shortCaptions.paddedLength, 77);
    assert.ok(report.transformersJs!.shortCaptions.perSecond > 0 && report.transformersJs!.jpegImages.perSecond > 0);
    assert.match(run.table, /no clip-server layout/);
    assert.deepEqual(readdirSync(hf).sort(), before, 'the model folder is left as it was');
    assert.ok(readdirSync(join(dir, 'cache')).some((d) => d.startsWith('external-')), "transformers.js' view lives in the cache");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--model-dir refuses a folder without the hf graphs or the image size, naming what is missing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-bench-bad-'));
  try {
    await assert.rejects(externalBenchModels(dir, 0, dir), /--model-dir .*holds no complete CLIP model.*onnx\/text_model\.onnx/);
    for (const f of ['textual.onnx', 'visual.onnx']) writeFileSync(join(dir, f), '');
    await assert.rejects(externalBenchModels(dir, 0, dir), /is a clip-server layout .*the bench measures the Hugging Face layout/);
    mkdirSync(join(dir, 'hf', 'onnx'), { recursive: true });
    for (const f of ['vision_model.onnx', 'text_model.onnx']) writeFileSync(join(dir, 'hf', 'onnx', f), '');
    writeFileSync(join(dir, 'hf', 'config.json'), JSON.stringify({ vision_config: {} }));
    await assert.rejects(externalBenchModels(dir, 0, dir), /--model-dir .*cannot tell the image size/);
    writeFileSync(join(dir, 'hf', 'config.json'), JSON.stringify({ vision_config: { image_size: 'big' } }));
    await assert.rejects(externalBenchModels(dir, 0, dir), /vision_config\.image_size must be a positive integer/);
    writeFileSync(join(dir, 'hf', 'config.json'), JSON.stringify({ vision_config: { image_size: 224 } }));
    const models = await externalBenchModels(dir, 0, join(dir, 'cache'));
    assert.equal(models.hf, join(dir, 'hf'));
    assert.equal(models.textGraph, join(dir, 'hf', 'onnx', 'text_model.onnx'));
    assert.equal(models.imageSize, 224);
    assert.equal(models.clipServer, undefined);
    assert.ok(!existsSync(models.peerDir) && models.peerDir.startsWith(join(dir, 'cache')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--model-dir reads a folder as model_path does: graphs beside the JSON files, size and normalisation from preprocessor_config.json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-bench-flat-'));
  try {
    const model = join(dir, 'flat');
    mkdirSync(model);
    for (const f of ['text_model.onnx', 'vision_model.onnx', 'vision_model.onnx_data']) writeFileSync(join(model, f), f);
    const mean = [0.5, 0.5, 0.5];
    writeFileSync(join(model, 'preprocessor_config.json'), JSON.stringify({ crop_size: { height: 240, width: 240 }, image_mean: mean, image_std: mean }));
    writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'clip', text_config: {}, vision_config: { image_size: 240 }, projection_dim: 512 }));
    const before = readdirSync(model).sort();

    const models = await externalBenchModels(model, 0, join(dir, 'cache'));
    assert.equal(models.visionGraph, join(model, 'vision_model.onnx'));
    assert.equal(models.imageSize, 240);
    assert.deepEqual(models.mean, mean);

    // transformers.js' view links the graphs (and the external data beside one) into onnx/ and states the folder's preprocessing.
    const view = await writeTransformersJsModel(models);
    assert.ok(view.config.ok);
    assert.deepEqual(readdirSync(join(view.dir, 'onnx')).sort(), ['text_model.onnx', 'vision_model.onnx', 'vision_model.onnx_data']);
    assert.equal(readFileSync(join(view.dir, 'onnx', 'vision_model.onnx_data'), 'utf8'), 'vision_model.onnx_data');
    const processor = JSON.parse(readFileSync(join(view.dir, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(processor.crop_size, { height: 240, width: 240 });
    assert.deepEqual(processor.image_mean, mean);
    assert.deepEqual(readdirSync(model).sort(), before, 'the model folder is left as it was');

    // Without config.json transformers.js cannot load the model: the section says so and how to go on.
    rmSync(join(model, 'config.json'));
    await assert.rejects(writeTransformersJsModel(await externalBenchModels(model, 0, join(dir, 'cache'))), /config\.json.*--skip-transformers/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--runtime: cpu by default; a GPU provider skips transformers.js, and one not installed is refused before any model work', async (t) => {
  assert.equal(resolveBenchOptions({}).runtime, 'cpu');
  assert.equal(resolveBenchOptions({}).skipTransformers, false);
  assert.equal(resolveBenchOptions({ runtime: 'webgpu' }).skipTransformers, true);
  const probe = await (await inferenceRuntime()).probe();
  const missing = EXECUTION_PROVIDERS.find((p) => !probe[p].available);
  if (!missing) return t.diagnostic('every provider is installed here');
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-bench-rt-'));
  try {
    await assert.rejects(runBench(resolveBenchOptions({ quick: true, runtime: missing, cacheDir: dir, out: join(dir, 'out.json') })), (e: Error) => {
      assert.match(e.message, new RegExp(`^--runtime ${missing} is not available here: ${escapeRegExp(probe[missing].reason!)}`));
      return true;
    });
    assert.deepEqual(readdirSync(dir), [], 'no model generated, no report written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
