/**
 * One bench run, start to finish: generate (or reuse) the model, then the raw
 * ORT ceiling, clipflow served, and transformers.js — one after another, each
 * in its own process so none competes with another for the cores — then the
 * headline ratios, the table and the JSON.
 */
import { loadavg } from 'node:os';
import { inferenceRuntime } from '../runtimes/index.js';
import { headlines } from './headline.js';
import { inChild, SectionProcess } from './ipc.js';
import type { InputPools } from './load.js';
import { machineInfo } from './machine.js';
import { ensureBenchModels, externalBenchModels, type BenchModels } from './models.js';
import { effectiveThreads, type BenchOptions } from './options.js';
import type { RawOptions, RawPoint, RawResults } from './raw-ort.bench.js';
import { pairedRounds, type PairedKind, type RawRecheck } from './raw-paired.js';
import { formatTable, writeReport, type BenchReport } from './report.js';
import { runServedSection, type ServedResults } from './served.bench.js';
import type { Budget } from './stats.js';
import { writeTransformersJsModel } from './transformers-js-files.js';
import type { PeerOptions, PeerPoint, PeerPointKind, TransformersJsPeer, TransformersJsResults } from './transformers-js.bench.js';

/** What a run hands back: the report, its table, and where the JSON went. */
export interface BenchRun {
  report: BenchReport;
  table: string;
  out: string;
}

/** Runs the whole bench; `log` gets progress lines (the CLI sends them to stderr). */
export async function runBench(o: BenchOptions, log: (line: string) => void = () => undefined): Promise<BenchRun> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = machineInfo();
  const threads = effectiveThreads(o);
  const timings: Record<string, number> = {};
  const load: Record<string, number> = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = (now - mark) / 1000;
    load[name] = loadavg()[0] ?? 0;
    mark = now;
  };

  if (o.runtime !== 'cpu') {
    // The product's own probe: an uninstalled provider is refused with how to get it, before any model work.
    const status = (await (await inferenceRuntime()).probe())[o.runtime];
    if (!status.available) throw new Error(`--runtime ${o.runtime} is not available here: ${status.reason}`);
    log(`runtime: ${o.runtime} for the raw ceiling and the served flow; transformers.js skipped (compared on cpu only)`);
  }

  let models: BenchModels;
  if (o.modelDir) {
    models = await externalBenchModels(o.modelDir, o.seed, o.cacheDir);
    log(`model: ${models.hf} (image size ${models.imageSize})`);
  } else {
    log(`model: ${o.preset} (seed ${o.seed}) in ${o.cacheDir}`);
    models = ensureBenchModels(o.preset, o.seed, o.cacheDir);
    log(models.reused ? `model: reusing ${models.root}` : `model: generated ${models.root} in ${(models.generatedMs / 1000).toFixed(1)} s`);
  }
  lap('model');

  // Warm-up of 1 call and at least 2 timed calls: one ViT-B/32 batch of 32 can take seconds on a small machine.
  const budget: Budget = { warmupCalls: 1, minCalls: 2, budgetMs: o.rawSeconds * 1000 };
  log('raw ORT ceiling...');
  const rawOptions: RawOptions = { models, budget, intraOpThreads: threads, seed: o.seed, provider: o.runtime };
  const raw = await inChild<RawResults>('raw-ort', 'raw', rawOptions);
  lap('raw');
  log(`raw: images b32 ${raw.images.b32.perSecond.toFixed(1)}/s, short texts b32 ${raw.texts.short.perSecond.toFixed(1)}/s`);

  // --quick checks the plumbing, so it uses few, small JPEGs; real runs use 64 distinct 640x427 ones.
  const pools: InputPools = { seed: o.seed, images: o.quick ? 4 : 64, jpegSize: o.quick ? [160, 107] : [640, 427], pngSize: o.quick ? 64 : 224 };
  // A raw process kept warm through the served section: paired points and the final recheck.
  const pairedProc = SectionProcess.start('raw-paired');
  let served: ServedResults;
  let recheck: RawRecheck;
  let peer: TransformersJsResults | null = null;
  try {
    await pairedProc.call('paired-open', rawOptions);
    const pairedBudget: Budget = { warmupCalls: 0, minCalls: 2, budgetMs: (o.rawSeconds * 1000) / 2 };
    const paired = (kind: PairedKind, b = pairedBudget) => pairedProc.call<RawPoint>('paired', { kind, budget: b });
    served = await runServedSection({
      server: { modelDir: models.hf, protocols: o.protocols, runtime: o.runtime, ...(o.threads ? { intraOpThreads: o.threads } : {}) },
      clientMode: o.clientMode,
      compareClients: o.compareClients,
      fullMatrix: o.fullMatrix,
      concurrency: o.concurrency,
      prefetch: o.prefetch,
      budgetMs: o.servedSeconds * 1000,
      latencyBudgetMs: o.servedSeconds * 1000,
      latencyMinSamples: o.quick ? 3 : 20,
      pools,
      ...(o.paired ? { pairedRaw: (kind: PairedKind) => paired(kind) } : {}),
      rounds: o.rounds,
      log,
    });
    lap('served');
    log('raw ORT recheck...');
    const [imagesB32, textsShort] = [await paired('images-b32', budget), await paired('texts-short', budget)];
    recheck = {
      imagesB32,
      textsShort,
      imagesDrift: imagesB32.perSecond / raw.images.b32.perSecond,
      textsDrift: textsShort.perSecond / raw.texts.short.perSecond,
    };
    lap('recheck');
    if (!o.skipTransformers) {
      log('transformers.js...');
      const files = await writeTransformersJsModel(models);
      const peerOptions: PeerOptions = { modelDir: files.dir, config: files.config, intraOpThreads: threads, seed: o.seed, imageCount: pools.images, jpegSize: pools.jpegSize, ...(raw.texts.hfFixedLength ? { fixedTextLength: raw.texts.hfFixedLength } : {}), ...(raw.pixelType === 'float16' ? { halfPixels: true } : {}) };
      peer = await measurePeer(peerOptions, budget, o.paired ? o.rounds : 0, paired).catch((e: unknown) => {
        // It is a devDependency: an installed clipflow may not have it.
        const hint = /Cannot find (package|module) '@huggingface\/transformers'/.test(String(e)) ? ' (install @huggingface/transformers or pass --skip-transformers)' : '';
        throw new Error(`transformers.js section failed${hint}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      });
      lap('transformers');
    }
  } finally {
    await pairedProc.close();
  }

  const report: BenchReport = {
    schema: 'clipflow-bench/1',
    startedAt,
    durationS: (performance.now() - started) / 1000,
    sectionS: timings,
    sectionLoad: load,
    machine: { ...machine, loadAverageAtEnd: loadavg()[0] ?? 0 },
    options: { ...o, effectiveThreads: threads },
    model: models,
    raw,
    rawRecheck: recheck,
    served,
    transformersJs: peer,
    headlines: headlines(raw, served, peer),
  };
  writeReport(report, o.out);
  return { report, table: formatTable(report), out: o.out };
}

/**
 * transformers.js in a section process of its own, kept loaded: with `rounds`,
 * each of its points runs that many times between raw measurements of the same
 * shape (as the served points do); 0 measures each point once, unpaired.
 */
async function measurePeer(options: PeerOptions, budget: Budget, rounds: number, raw: (kind: PairedKind) => Promise<RawPoint>): Promise<TransformersJsResults> {
  const proc = SectionProcess.start('transformers.js');
  try {
    await proc.call('peer-open', options);
    const point = async (kind: PeerPointKind, rawKind: PairedKind): Promise<PeerPoint> => {
      const run = () => proc.call<PeerPoint>('peer-point', { kind, budget });
      if (rounds === 0) return run();
      const { results, paired } = await pairedRounds(rawKind, rounds, () => raw(rawKind), run);
      const items = results.reduce((a, r) => a + r.items, 0);
      const ms = results.reduce((a, r) => a + r.ms, 0);
      // Totals over the rounds; the per-batch latency of the median round.
      const middle = [...results].sort((x, y) => x.perSecond - y.perSecond)[results.length >> 1]!;
      return { ...middle, perSecond: (items * 1000) / ms, items, ms, paired };
    };
    const jpegImages = await point('jpeg', 'images-b32');
    const jpegImagesDecodedInTurn = await point('jpeg-in-turn', 'images-b32');
    const shortCaptions = await point('short', 'texts-short');
    const single = { jpegImages: await point('jpeg-single', 'images-b32'), shortCaptions: await point('short-single', 'texts-short') };
    const { paddedLength, ...checks } = await proc.call<Awaited<ReturnType<TransformersJsPeer['checks']>>>('peer-checks');
    return { ...checks, jpegImages, jpegImagesDecodedInTurn, shortCaptions: { ...shortCaptions, paddedLength }, single, peakRssMb: await proc.call<number>('rss') };
  } finally {
    await proc.close();
  }
}
