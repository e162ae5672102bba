/**
 * The headline ratios: served clipflow over the raw ORT ceiling (and over
 * transformers.js), each beside the acceptance target the server is meant to
 * meet. Rows without a target are context for reading the others.
 */
import type { RawRecheck } from './raw-paired.js';
import type { RawResults } from './raw-ort.bench.js';
import { pointKey, primaryProtocol, type ServedResults } from './served.bench.js';
import type { TransformersJsResults } from './transformers-js.bench.js';

/** The raw ceiling around a section: the mean of the points before and after it (either alone when only one was measured). */
function around(before?: { perSecond: number }, after?: { perSecond: number }): number | undefined {
  if (before && after) return (before.perSecond + after.perSecond) / 2;
  return before?.perSecond ?? after?.perSecond;
}

/** One headline row. */
export interface Headline {
  name: string;
  /**
   * A ratio (x) or a difference in ms. Ratios to the raw ceiling use the raw
   * point measured just before the served one when there is one (paired).
   */
  measured: number;
  /** The same ratio against the raw section measured at the start (equal to `measured` when unpaired). */
  vsStartRaw: number;
  unit: 'x' | 'ms';
  /** The acceptance target; null for context rows. */
  target: number | null;
  op: '>=' | '<=';
  /** null when there is no target. */
  pass: boolean | null;
  /** What was divided (or subtracted) by what. */
  basis: string;
}

function row(name: string, measured: number, unit: 'x' | 'ms', target: number | null, op: '>=' | '<=', basis: string, vsStartRaw = measured): Headline {
  const pass = target === null ? null : op === '>=' ? measured >= target : measured <= target;
  return { name, measured, vsStartRaw, unit, target, op, pass, basis };
}

/** Computes every headline row the sections allow (transformers.js rows only when it ran). */
export function headlines(raw: RawResults, served: ServedResults, peer: TransformersJsResults | null, recheck?: RawRecheck): Headline[] {
  const p = primaryProtocol(served.protocols);
  const n = served.concurrency;
  type Input = Parameters<typeof pointKey>[1];
  const point = (input: Input, clients: number, protocol = p) => served.points.find((x) => x.key === pointKey(protocol, input, clients));
  const startRaw = (input: Input) => (input === 'short' ? raw.texts.short : input === 'long77' ? raw.texts.dynamic77 : raw.images.b32).perSecond;
  /** A served/raw row: paired raw when measured, the start-of-run raw otherwise. */
  const vsRaw = (name: string, input: Input, clients: number, target: number | null, what: string, protocol = p) => {
    const x = point(input, clients, protocol);
    const served_ = x?.perSecond ?? Number.NaN;
    const paired = x?.pairedRaw?.perSecond;
    const basis = `served ${pointKey(protocol, input, clients)} / ${paired ? 'paired ' : ''}raw ${what}`;
    return row(name, served_ / (paired ?? startRaw(input)), 'x', target, '>=', basis, served_ / startRaw(input));
  };
  const out: Headline[] = [
    vsRaw(`${p} JPEG images/s vs raw batch-32`, 'jpeg', 1, 0.9, 'images b32'),
    vsRaw(`${p} ${served.inputs.pngSize}x${served.inputs.pngSize} PNG images/s vs raw batch-32`, 'png', 1, 0.95, 'images b32'),
    vsRaw(`${p} short captions/s vs raw at ${raw.texts.short.seqLength} tokens`, 'short', 1, 0.85, "dynamic b32 at the captions' padded length"),
    vsRaw(`${n} one-image clients vs raw batch-32`, 'jpeg', n, 0.85, 'images b32'),
  ];
  const lat = served.latency[p];
  if (lat) {
    out.push(row('single short text p50 minus raw single text', lat.text.p50 - raw.texts.single.latency.p50, 'ms', 3, '<=',
      `${p} sequential one-text p50 - raw b1 p50 at ${raw.texts.single.seqLength} tokens`));
  }
  if (peer) {
    // transformers.js runs last, minutes after the served points. On a machine whose capacity drifts,
    // each side is first taken over the raw ceiling measured on either side of it (the served point's
    // paired raw; the recheck just before transformers.js and the raw point just after), and those
    // two ratios are compared.
    const vsPeer = (name: string, input: 'jpeg' | 'short', peerRate: number, peerRaw: number | undefined, target: number) => {
      const x = point(input, 1);
      const plain = (x?.perSecond ?? Number.NaN) / peerRate;
      const pairedRaw = x?.pairedRaw?.perSecond;
      if (!pairedRaw || !peerRaw) return row(name, plain, 'x', target, '>=', `served ${pointKey(p, input, 1)} / transformers.js b32`);
      return row(name, plain * (peerRaw / pairedRaw), 'x', target, '>=',
        `(served ${pointKey(p, input, 1)} / its paired raw) / (transformers.js b32 / the raw measured around it)`, plain);
    };
    out.push(
      vsPeer('clipflow vs transformers.js, JPEG images/s', 'jpeg', peer.jpegImages.perSecond, around(recheck?.imagesB32, recheck?.afterPeer?.imagesB32), 1.15),
      vsPeer('clipflow vs transformers.js, short captions/s', 'short', peer.shortCaptions.perSecond, around(recheck?.textsShort, recheck?.afterPeer?.textsShort), 1.4),
    );
  }
  // Context rows: no target, but they say where the remaining gaps are.
  out.push(
    vsRaw(`${p} 77-token texts/s vs raw 77 (same graph)`, 'long77', 1, null, 'dynamic b32 at 77'),
    vsRaw(`${n} short-caption clients vs raw`, 'short', n, null, 'dynamic b32'),
  );
  if (lat) {
    out.push(row('single image p50 minus raw batch-1 image', lat.image.p50 - raw.images.b1.latency.p50, 'ms', null, '<=', `${p} sequential one-JPEG p50 - raw b1 p50`));
  }
  for (const q of served.protocols.filter((x) => x !== p)) {
    out.push(vsRaw(`${q} ${n} one-image clients vs raw batch-32`, 'jpeg', n, null, 'images b32', q));
  }
  return out;
}
