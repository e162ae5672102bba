/**
 * The raw onnxruntime-node ceiling: the same graphs clipflow serves, fed
 * pre-made tensors straight from JS with the session options clipflow uses,
 * and nothing else (no decoding, tokenising, batching or transport). This is
 * the number the served path is compared against.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { toFloat16Bits } from '../core/util/float16.js';
import { planTextRuns, runOverheadTokens } from '../executors/clip/text-batches.js';
import { PACKED_INPUTS, packedFeeds, planPackedRows } from '../runtimes/packed-texts.js';
import { readModelGraph } from '../runtimes/onnx/graph/onnx-graph.js';
import { planPackedText } from '../runtimes/onnx/graph/packed-text.plan.js';
import { planPooledCut } from '../runtimes/onnx/graph/pooled-cut.plan.js';
import { applyPooledCut } from '../runtimes/onnx/graph/pooled-cut.write.js';
import { bufferSource, joinPieces } from '../runtimes/onnx/graph/proto-fields.js';
import { ortSessionOptions } from '../runtimes/onnx/onnx.open.js';
import { specsOf, toOrtTensor } from '../runtimes/onnx/onnx.session.js';
import type { ExecutionProvider, HostTensor } from '../runtimes/runtime.js';
import { benchTokenizer, LATENCY_CAPTION, longTexts, randomPixels, shortCaptions } from './inputs.js';
import type { BenchModels } from './models.js';
import { median, peakRssMb, timeLoop, type Budget, type Latency, type Throughput } from './stats.js';

/** One raw point: throughput plus the per-call latency that produced it. */
export type RawPoint = Throughput & { batch: number; seqLength?: number; latency: Latency };

/** Everything the raw section measures. */
export interface RawResults {
  threads: { intraOp: number; interOp: number };
  images: { b1: RawPoint; b8: RawPoint; b32: RawPoint };
  /**
   * Batch 32 on the vision graph as clipflow serves it, its last layers cut to
   * the pooled token (runtimes/onnx/graph/pooled-cut.plan.ts), in rounds beside the
   * full graph: `vsFull` is the median of the rounds' ratios. Null when the
   * graph has no such cut. The ceiling everything is compared with stays the full graph.
   */
  imagesCutB32: { perSecond: number; vsFull: number; rounds: Array<{ full: number; cut: number }> } | null;
  /** What the vision graph takes: float32, or float16 for a half-precision export. */
  pixelType: 'float32' | 'float16';
  texts: {
    /** clip-server graph, fixed 77, int32, batch 32; null for a --model-dir without a clip-server layout. */
    fixed77: RawPoint | null;
    /** hf graph (the one served) at 77 tokens, batch 32. */
    dynamic77: RawPoint;
    /** hf graph at the short captions' padded length (its fixed length, if it has one), batch 32. */
    short: RawPoint;
    /** hf graph, batch 1, at the latency caption's length (or the fixed one): the floor of single-text latency. */
    single: RawPoint;
    /** The hf text graph's fixed sequence length; null when the axis is dynamic (the usual export). */
    hfFixedLength: number | null;
    /** The short captions at less than their padded length; null on a fixed-length graph. */
    captionPlans: CaptionPlans | null;
  };
  peakRssMb: number;
}

/**
 * The 32 short captions run shorter than their padded length, on a graph whose
 * sequence axis is dynamic. These say what "raw at the same padded length"
 * would be under the other ways of reading it: at the server's own padding, or
 * at none. They are measured in rounds, each beside the padded point, and read
 * as the median of the rounds' ratios to it, so that the machine's drift
 * between two measurements does not become a ratio.
 */
export interface CaptionPlans {
  /**
   * As the server runs them. Where the text graph packs (runtimes/packed-texts.ts), one run on the
   * graph as served (packed and cut), the captions laid `packed.rows` to a row of `packed.tokens`;
   * otherwise sorted by length, cut where planTextRuns cuts them on this provider, each run padded to its longest.
   */
  planned: { perSecond: number; vsPadded: number; runs: Array<{ size: number; seqLength: number }>; packed: { rows: number; tokens: number } | null };
  /**
   * Each caption at its own length: batch 32 at every length the captions
   * have, weighted by how many have it. The ceiling with no padding and no
   * price for extra runs, which no server reaches.
   */
  unpadded: { perSecond: number; vsPadded: number; lengths: Array<{ seqLength: number; captions: number }> };
  /** txt/s of each round; `byLength` follows `unpadded.lengths`. */
  rounds: Array<{ padded: number; planned: number; unpadded: number; byLength: number[] }>;
}

/** Options of the raw section. */
export interface RawOptions {
  models: BenchModels;
  budget: Budget;
  intraOpThreads: number;
  seed: number;
  provider: ExecutionProvider;
}

/** The options clipflow's onnx runtime gives a session on this provider with this many intra-op threads. */
export function clipflowSessionOptions(intraOpThreads: number, provider: ExecutionProvider = 'cpu'): ort.InferenceSession.SessionOptions {
  return ortSessionOptions({ provider, intraOpThreads });
}

/**
 * The sequence length a text graph fixes in its `input_ids` shape, or undefined
 * when that axis is dynamic. A fixed graph takes every batch at that length, as
 * the server feeds it, so the raw points are measured there too.
 */
function fixedTextLength(session: ort.InferenceSession): number | undefined {
  const ids = session.inputMetadata.find((m) => m.name === 'input_ids') ?? session.inputMetadata[0];
  const length = ids?.isTensor ? ids.shape[1] : undefined;
  return typeof length === 'number' && length > 0 ? length : undefined;
}

/** What a vision graph takes: float16 for a half-precision export, else float32. */
export function pixelType(session: ort.InferenceSession): RawResults['pixelType'] {
  const input = session.inputMetadata[0];
  return input?.isTensor && input.type === 'float16' ? 'float16' : 'float32';
}

/** Pixels as the feed the vision graph declares (float16 bits made once, outside the timing, like any pre-made tensor). */
export function pixelFeeds(session: ort.InferenceSession, pixels: Float32Array, dims: number[]): Record<string, ort.Tensor> {
  const tensor = pixelType(session) === 'float16' ? new ort.Tensor('float16', toFloat16Bits(pixels), dims) : new ort.Tensor('float32', pixels, dims);
  return { [session.inputNames[0]!]: tensor };
}

/** Token rows `[SOT ... EOT]` (ragged) as the ids + mask tensors `session` declares, padded to `length`. */
export function textFeeds(session: ort.InferenceSession, rows: number[][], length: number): Record<string, ort.Tensor> {
  const wide = session.inputMetadata.some((m) => m.isTensor && m.type === 'int64');
  const n = rows.length;
  const ids = wide ? new BigInt64Array(n * length) : new Int32Array(n * length);
  const mask = wide ? new BigInt64Array(n * length) : new Int32Array(n * length);
  rows.forEach((row, r) => {
    for (let i = 0; i < Math.min(length, row.length); i++) {
      if (wide) {
        (ids as BigInt64Array)[r * length + i] = BigInt(row[i]!);
        (mask as BigInt64Array)[r * length + i] = 1n;
      } else {
        (ids as Int32Array)[r * length + i] = row[i]!;
        (mask as Int32Array)[r * length + i] = 1;
      }
    }
  });
  const type = wide ? 'int64' : 'int32';
  const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor(type, ids, [n, length]) };
  if (session.inputNames.includes('attention_mask')) feeds.attention_mask = new ort.Tensor(type, mask, [n, length]);
  return feeds;
}

/** The embeddings output: the first whose name ends in `embeds`, else the first. */
function embedsOutput(session: ort.InferenceSession): string {
  return session.outputNames.find((n) => n.endsWith('embeds')) ?? session.outputNames[0]!;
}

/** A text point's feeds and the sequence length they are padded to. */
export interface TextPoint {
  feeds: Record<string, ort.Tensor>;
  seqLength: number;
}

/**
 * The text feeds the raw sections time on `session`: 32 long texts at 77 tokens,
 * the 32 short captions at their padded length and the latency caption alone at
 * its own length, the last two at the graph's fixed length when it has one.
 */
export async function textPoints(session: ort.InferenceSession, seed: number): Promise<{ long77: TextPoint; short: TextPoint; single: TextPoint; fixedLength: number | null; captionRows: number[][] }> {
  const tok = await benchTokenizer();
  const rowsOf = (texts: string[]) => texts.map((t) => [tok.sot, ...tok.encode(t).slice(0, 75), tok.eot]);
  const captions = await shortCaptions(seed);
  const captionRows = rowsOf(captions.texts);
  const latency = rowsOf([LATENCY_CAPTION]);
  const fixed = fixedTextLength(session);
  const point = (rows: number[][], seqLength: number): TextPoint => ({ feeds: textFeeds(session, rows, seqLength), seqLength });
  return {
    long77: point(rowsOf(longTexts(32, seed)), 77),
    short: point(captionRows, fixed ?? captions.paddedLength),
    single: point(latency, fixed ?? latency[0]!.length),
    fixedLength: fixed ?? null,
    captionRows,
  };
}

/** Times `session` on fixed feeds, fetching only the embeddings output (as clipflow does). */
export async function runPoint(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, batch: number, budget: Budget, seqLength?: number): Promise<RawPoint> {
  const output = embedsOutput(session);
  const measured = await timeLoop(budget, async () => {
    const out = await session.run(feeds, [output]);
    out[output]?.dispose();
    return batch;
  });
  return { ...measured, batch, ...(seqLength !== undefined ? { seqLength } : {}) };
}

/**
 * Times the caption rows (`[SOT ... EOT]`, as textPoints makes them) as the
 * server's plan runs them, and each at its own length, in rounds beside
 * `padded` (see CaptionPlans).
 */
export async function captionPlans(session: ort.InferenceSession, captionRows: number[][], provider: ExecutionProvider, padded: TextPoint, budget: Budget, served: ort.InferenceSession | null, rounds = 3): Promise<CaptionPlans> {
  const rows = [...captionRows].sort((a, b) => a.length - b.length);
  let runs: number[][][] = [rows];
  let runFeeds: Array<Record<string, ort.Tensor>>;
  let packed: CaptionPlans['planned']['packed'] = null;
  if (served) {
    const layout = planPackedRows(rows, 77);
    packed = { rows: layout.rows.length, tokens: layout.tokens };
    runFeeds = [packedOrtFeeds(served, rows, layout)];
  } else {
    const ends = planTextRuns(rows.map((r) => r.length), 32, runOverheadTokens(provider));
    runs = ends.map((end, i) => rows.slice(i === 0 ? 0 : ends[i - 1], end));
    runFeeds = runs.map((run) => textFeeds(session, run, run.at(-1)!.length));
  }
  const runner = served ?? session;
  const groups = [...new Set(rows.map((r) => r.length))].map((seqLength) => ({ seqLength, rows: rows.filter((r) => r.length === seqLength) }));
  const lengths = groups.map((g) => ({ seqLength: g.seqLength, captions: g.rows.length }));
  const lengthFeeds = groups.map((g) => textFeeds(session, Array.from({ length: 32 }, (_, i) => g.rows[i % g.rows.length]!), g.seqLength));
  const output = embedsOutput(session);
  const runnerOutput = embedsOutput(runner);
  const measured: CaptionPlans['rounds'] = [];
  for (let round = 0; round < rounds; round++) {
    const paddedRate = (await runPoint(session, padded.feeds, 32, budget)).perSecond;
    const planned = await timeLoop(budget, async () => {
      for (const feeds of runFeeds) (await runner.run(feeds, [runnerOutput]))[runnerOutput]?.dispose();
      return rows.length;
    });
    const byLength: number[] = [];
    for (const feeds of lengthFeeds) byLength.push((await runPoint(session, feeds, 32, budget)).perSecond);
    const unpadded = rows.length / lengths.reduce((t, x, i) => t + x.captions / byLength[i]!, 0);
    measured.push({ padded: paddedRate, planned: planned.perSecond, unpadded, byLength });
  }
  const mean = (f: (r: CaptionPlans['rounds'][number]) => number) => measured.reduce((t, r) => t + f(r), 0) / measured.length;
  const vsPadded = (f: (r: CaptionPlans['rounds'][number]) => number) => median(measured.map((r) => f(r) / r.padded));
  return {
    planned: { perSecond: mean((r) => r.planned), vsPadded: vsPadded((r) => r.planned), runs: runs.map((run) => ({ size: run.length, seqLength: run.at(-1)!.length })), packed },
    unpadded: { perSecond: mean((r) => r.unpadded), vsPadded: vsPadded((r) => r.unpadded), lengths },
    rounds: measured,
  };
}

/** `rows` packed as `layout` says, as the tensors the packed graph declares. */
function packedOrtFeeds(session: ort.InferenceSession, rows: number[][], layout: ReturnType<typeof planPackedRows>): Record<string, ort.Tensor> {
  const p = packedFeeds(rows, layout);
  const specs = specsOf(session.inputMetadata);
  const tensor = (name: string, t: HostTensor) => toOrtTensor(specs.find((s) => s.name === name), t);
  const feeds: Record<string, ort.Tensor> = {
    input_ids: tensor('input_ids', p.ids),
    [PACKED_INPUTS.positions]: tensor(PACKED_INPUTS.positions, p.positions),
    [PACKED_INPUTS.bias]: tensor(PACKED_INPUTS.bias, p.bias),
    [PACKED_INPUTS.pick]: tensor(PACKED_INPUTS.pick, p.pick),
  };
  if (session.inputNames.includes('attention_mask')) feeds.attention_mask = tensor('attention_mask', p.mask);
  return feeds;
}

/** A graph as clipflow serves it: cut to the pooled token and, with `packTexts`, packed; null where it has no such rewrite. */
async function servedGraph(path: string, o: RawOptions, packTexts: boolean): Promise<ort.InferenceSession | null> {
  const source = bufferSource(await readFile(path));
  const graph = readModelGraph(source);
  const cut = graph && planPooledCut(graph, true);
  const packed = packTexts && graph && cut ? planPackedText(graph, cut) : undefined;
  if (!graph || !cut || (packTexts && !packed)) return null;
  return ort.InferenceSession.create(joinPieces(applyPooledCut(graph, cut, packed), source), clipflowSessionOptions(o.intraOpThreads, o.provider));
}

/** Three rounds of the full and the cut vision graph at batch 32, a quarter of the budget each (see RawResults.imagesCutB32). */
async function cutRounds(o: RawOptions): Promise<RawResults['imagesCutB32']> {
  const cut = await servedGraph(o.models.visionGraph, o, false);
  if (!cut) return null;
  const full = await ort.InferenceSession.create(o.models.visionGraph, clipflowSessionOptions(o.intraOpThreads, o.provider));
  const size = o.models.imageSize;
  const feeds = pixelFeeds(full, randomPixels(32, size, o.seed + 32), [32, 3, size, size]);
  const budget = { ...o.budget, budgetMs: o.budget.budgetMs / 4 };
  const rounds: Array<{ full: number; cut: number }> = [];
  for (let round = 0; round < 3; round++) {
    rounds.push({ full: (await runPoint(full, feeds, 32, budget)).perSecond, cut: (await runPoint(cut, feeds, 32, budget)).perSecond });
  }
  await Promise.all([cut.release(), full.release()]);
  return { perSecond: rounds.reduce((t, r) => t + r.cut, 0) / rounds.length, vsFull: median(rounds.map((r) => r.cut / r.full)), rounds };
}

/**
 * Measures the ceiling: images/s at batch 1, 8 and 32, texts/s at batch 32 on
 * the fixed-77 and dynamic graphs, single-text latency at the latency
 * caption's length, the short captions planned and unpadded, and the vision graph as served beside the full one. Meant to run
 * alone in its own process (see child.ts), so its threads and memory don't mix
 * with the served section's.
 */
export async function runRawOrt(o: RawOptions): Promise<RawResults> {
  const options = clipflowSessionOptions(o.intraOpThreads, o.provider);
  const vision = await ort.InferenceSession.create(o.models.visionGraph, options);
  const size = o.models.imageSize;
  const images = {} as RawResults['images'];
  const pixels = pixelType(vision);
  for (const b of [1, 8, 32] as const) {
    images[`b${b}`] = await runPoint(vision, pixelFeeds(vision, randomPixels(b, size, o.seed + b), [b, 3, size, size]), b, o.budget);
  }
  await vision.release();

  let fixed77: RawPoint | null = null;
  if (o.models.clipServer) {
    const fixed = await ort.InferenceSession.create(join(o.models.clipServer, 'textual.onnx'), options);
    const { long77 } = await textPoints(fixed, o.seed);
    fixed77 = await runPoint(fixed, long77.feeds, 32, o.budget, 77);
    await fixed.release();
  }

  const dynamic = await ort.InferenceSession.create(o.models.textGraph, options);
  const texts = await textPoints(dynamic, o.seed);
  const dynamic77 = await runPoint(dynamic, texts.long77.feeds, 32, o.budget, 77);
  const short = await runPoint(dynamic, texts.short.feeds, 32, o.budget, texts.short.seqLength);
  const single = await runPoint(dynamic, texts.single.feeds, 1, o.budget, texts.single.seqLength);
  // Three rounds of ~10 points (the padded one, the plan and each length) at a quarter of the budget each: ~30 s.
  let plans: CaptionPlans | null = null;
  if (texts.fixedLength === null) {
    const served = await servedGraph(o.models.textGraph, o, true);
    plans = await captionPlans(dynamic, texts.captionRows, o.provider, texts.short, { ...o.budget, budgetMs: o.budget.budgetMs / 4 }, served);
    await served?.release();
  }
  await dynamic.release();
  // Taken before the cut rounds, which hold two vision graphs at once.
  const peak = peakRssMb();
  const imagesCutB32 = await cutRounds(o);

  return {
    threads: { intraOp: o.intraOpThreads, interOp: 1 },
    images,
    imagesCutB32,
    pixelType: pixels,
    texts: { fixed77, dynamic77, short, single, hfFixedLength: texts.fixedLength, captionPlans: plans },
    peakRssMb: peak,
  };
}

