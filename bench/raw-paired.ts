/**
 * The raw ceiling measured again around each served (and transformers.js)
 * point, in a raw process kept open (and idle) meanwhile. On a shared machine
 * the ceiling moves with everybody else's work, by half within seconds here; so
 * a point runs as a few rounds, each between two raw measurements of the same
 * shape, and its ratio is the median of the rounds' ratios. The same process
 * rechecks the two main denominators at the end, which shows how far the
 * machine drifted over the run.
 */
import * as ort from 'onnxruntime-node';
import { randomPixels } from './inputs.js';
import type { InputKind } from './load.js';
import { clipflowSessionOptions, pixelFeeds, runPoint, textPoints, type RawOptions, type RawPoint } from './raw-ort.bench.js';
import { median, type Budget } from './stats.js';

/** The raw shapes served points are compared with. */
export type PairedKind = 'images-b32' | 'texts-short' | 'texts-77' | 'text-b1';

/** The two main denominators measured again after the served section; drift = recheck / first (1 = steady machine). */
export interface RawRecheck {
  imagesB32: RawPoint;
  textsShort: RawPoint;
  imagesDrift: number;
  textsDrift: number;
}

/** One round of a paired point: what was measured, and the raw ceiling on either side of it. */
export interface PairedRound {
  perSecond: number;
  rawBefore: number;
  rawAfter: number;
  /** perSecond over the mean of rawBefore and rawAfter. */
  ratio: number;
}

/** A point's rounds against the raw ceiling of the matching shape. */
export interface PairedSeries {
  kind: PairedKind;
  rounds: PairedRound[];
  /** The median of the rounds' ratios: the point's ratio to the raw ceiling. */
  ratio: number;
  /** Mean of every raw measurement taken around the point. */
  perSecond: number;
  cpuMsPerItem: number;
}

/**
 * Runs `run` `rounds` times with a raw measurement before the first round and
 * after each one (rounds + 1 in all), and pairs each round with the two around it.
 */
export async function pairedRounds<T extends { perSecond: number }>(
  kind: PairedKind,
  rounds: number,
  raw: () => Promise<RawPoint>,
  run: () => Promise<T>,
): Promise<{ results: T[]; paired: PairedSeries }> {
  const raws: RawPoint[] = [await raw()];
  const results: T[] = [];
  for (let i = 0; i < Math.max(1, rounds); i++) {
    results.push(await run());
    raws.push(await raw());
  }
  const series = results.map((r, i): PairedRound => {
    const [before, after] = [raws[i]!.perSecond, raws[i + 1]!.perSecond];
    return { perSecond: r.perSecond, rawBefore: before, rawAfter: after, ratio: r.perSecond / ((before + after) / 2) };
  });
  const mean = (f: (p: RawPoint) => number) => raws.reduce((a, p) => a + f(p), 0) / raws.length;
  return {
    results,
    paired: { kind, rounds: series, ratio: median(series.map((r) => r.ratio)), perSecond: mean((p) => p.perSecond), cpuMsPerItem: mean((p) => p.cpuMsPerItem) },
  };
}

/** Which raw shape a served input is compared with. */
export function pairedKindOf(input: InputKind): PairedKind {
  return input === 'short' ? 'texts-short' : input === 'long77' ? 'texts-77' : 'images-b32';
}

/** Sessions and feeds for the paired points, created once and kept warm. */
export class PairedRaw {
  private constructor(
    private readonly vision: ort.InferenceSession,
    private readonly text: ort.InferenceSession,
    private readonly feeds: Record<PairedKind, { session: ort.InferenceSession; feeds: Record<string, ort.Tensor>; batch: number; seqLength?: number }>,
  ) {}

  /** Loads the hf graphs (the ones served) and runs each shape once, untimed. */
  static async open(o: RawOptions): Promise<PairedRaw> {
    const options = clipflowSessionOptions(o.intraOpThreads, o.provider);
    const vision = await ort.InferenceSession.create(o.models.visionGraph, options);
    const text = await ort.InferenceSession.create(o.models.textGraph, options);
    const size = o.models.imageSize;
    const { long77, short, single } = await textPoints(text, o.seed);
    const paired = new PairedRaw(vision, text, {
      'images-b32': { session: vision, feeds: pixelFeeds(vision, randomPixels(32, size, o.seed + 32), [32, 3, size, size]), batch: 32 },
      'texts-short': { session: text, batch: 32, ...short },
      'texts-77': { session: text, batch: 32, ...long77 },
      // The floor of single-text latency, measured around the served latency points.
      'text-b1': { session: text, batch: 1, ...single },
    });
    for (const kind of Object.keys(paired.feeds) as PairedKind[]) await paired.measure(kind, { warmupCalls: 0, minCalls: 1, budgetMs: 0 });
    return paired;
  }

  /** One point of `kind` (batch 32, or 1 for text-b1). */
  measure(kind: PairedKind, budget: Budget): Promise<RawPoint> {
    const f = this.feeds[kind];
    return runPoint(f.session, f.feeds, f.batch, budget, f.seqLength);
  }

  async release(): Promise<void> {
    await Promise.allSettled([this.vision.release(), this.text.release()]);
  }
}
