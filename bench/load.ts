/**
 * The served section's load generator: drives a running clipflow with its own
 * TypeScript `Client`, the way users would, and counts embeddings per second.
 * It runs in whichever process the suite picks (a separate client process by
 * default, or inside the server's process for the comparison).
 */
import { Client } from '../core/client/client.js';
import type { DocumentInit } from '../core/document/document.js';
import type { Protocol } from '../core/flow/config.js';
import { jpegImages, LATENCY_CAPTION, longTexts, pngImages, shortCaptions } from './inputs.js';
import { cpuMs, latencyOf, type Latency, type Throughput } from './stats.js';

/** What a served point sends. */
export type InputKind = 'jpeg' | 'png' | 'short' | 'long77';

/** One served throughput point. */
export interface ScenarioSpec {
  protocol: Protocol;
  url: string;
  input: InputKind;
  /** 1 = one client streaming batches of `batch` docs with `prefetch` requests in flight; N = N clients, one doc per request. */
  clients: number;
  batch: number;
  prefetch: number;
  budgetMs: number;
}

/**
 * A served point's result. `requestLatency` (N clients): time of each
 * one-document request. `replyInterval` (one streaming client): time between
 * consecutive replies, i.e. how often a batch comes back at steady state.
 */
export type ScenarioResult = Throughput & {
  requestLatency?: Latency;
  replyInterval?: Latency;
  /** The latency (or reply-interval) samples behind those, so rounds can be merged. */
  timings: number[];
};

/** Inputs generated once per process and cycled through; the seed makes every process agree. */
export interface InputPools {
  seed: number;
  /** Distinct images per pool. */
  images: number;
  /** JPEG width x height: 640x427 normally; --quick uses a small one to stay fast. */
  jpegSize: [number, number];
  /** PNG side: 224 (ViT-B/32's input size, so no resize) normally; small with --quick. */
  pngSize: number;
}

const pools = new Map<InputKind, Promise<DocumentInit[]>>();

/** The documents of one input kind (memoised per process). */
export function inputPool(kind: InputKind, o: InputPools): Promise<DocumentInit[]> {
  let pool = pools.get(kind);
  if (!pool) {
    pool = (async (): Promise<DocumentInit[]> => {
      switch (kind) {
        case 'jpeg':
          return (await jpegImages(o.images, o.seed, ...o.jpegSize)).map((blob) => ({ blob, mimeType: 'image/jpeg' }));
        case 'png':
          return (await pngImages(o.images, o.seed, o.pngSize)).map((blob) => ({ blob, mimeType: 'image/png' }));
        case 'short':
          return (await shortCaptions(o.seed)).texts.map((text) => ({ text }));
        case 'long77':
          return longTexts(64, o.seed).map((text) => ({ text }));
      }
    })();
    pools.set(kind, pool);
  }
  return pool;
}

/** A fresh Document init per send: new ids, shared (read-only) blobs. */
function cycler(pool: DocumentInit[]): () => DocumentInit {
  let i = 0;
  return () => ({ ...pool[i++ % pool.length]! });
}

/** One client streaming until the deadline: the Client batches and pipelines, like clip_client's encode(). */
async function streamingClient(s: ScenarioSpec, next: () => DocumentInit, deadline: number, intervals: number[]): Promise<number> {
  const client = new Client(s.url);
  let sent = 0;
  async function* docs(): AsyncGenerator<DocumentInit> {
    while (performance.now() < deadline) {
      sent++;
      yield next();
    }
  }
  let last = performance.now();
  try {
    // post() rather than encode() for its per-reply callback; both go to the same /encode handler,
    // and drop_image_content is what encode() (and clip_client's) would send.
    await client.post('/encode', docs(), {
      parameters: { drop_image_content: true },
      batchSize: s.batch,
      prefetch: s.prefetch,
      onDone: () => {
        const now = performance.now();
        intervals.push(now - last);
        last = now;
      },
    });
  } finally {
    await client.close();
  }
  return sent;
}

/** One of N clients: one document per request, back to back, until the deadline. */
async function loopingClient(s: ScenarioSpec, next: () => DocumentInit, deadline: number, latencies: number[]): Promise<number> {
  const client = new Client(s.url);
  let done = 0;
  try {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await client.encode([next()], { batchSize: 1, prefetch: 1 });
      latencies.push(performance.now() - t0);
      done++;
    }
  } finally {
    await client.close();
  }
  return done;
}

/**
 * Runs one point: a short untimed warm-up (every client once), then clients
 * until `budgetMs` has passed; requests already sent are waited for and
 * counted, and the window ends when the last one returns.
 */
export async function runScenario(s: ScenarioSpec, o: InputPools): Promise<ScenarioResult> {
  const next = cycler(await inputPool(s.input, o));
  const perRequest = s.clients === 1 ? s.batch : 1;
  await Promise.all(Array.from({ length: s.clients }, async () => {
    const client = new Client(s.url);
    try {
      await client.encode(Array.from({ length: perRequest }, next), { batchSize: perRequest });
    } finally {
      await client.close();
    }
  }));
  const samples: number[] = [];
  const cpuStart = cpuMs();
  const started = performance.now();
  const deadline = started + s.budgetMs;
  const counts = s.clients === 1
    ? [await streamingClient(s, next, deadline, samples)]
    : await Promise.all(Array.from({ length: s.clients }, () => loopingClient(s, next, deadline, samples)));
  const ms = performance.now() - started;
  const items = counts.reduce((a, b) => a + b, 0);
  const timing = s.clients === 1 ? { replyInterval: latencyOf(samples) } : { requestLatency: latencyOf(samples) };
  // The load generator's own CPU: in a separate process, what the client costs per document.
  const cpuMsPerItem = (cpuMs() - cpuStart) / Math.max(1, items);
  return { perSecond: (items * 1000) / ms, items, calls: samples.length, ms, cpuMsPerItem, ...timing, timings: samples };
}

/** Rounds of one scenario as one result: totals over the rounds, latency over all their samples. */
export function mergeScenarios(parts: ScenarioResult[], oneClient: boolean): ScenarioResult {
  const items = parts.reduce((a, p) => a + p.items, 0);
  const ms = parts.reduce((a, p) => a + p.ms, 0);
  const timings = parts.flatMap((p) => p.timings);
  const timing = oneClient ? { replyInterval: latencyOf(timings) } : { requestLatency: latencyOf(timings) };
  return {
    perSecond: (items * 1000) / ms,
    items,
    ms,
    calls: parts.reduce((a, p) => a + p.calls, 0),
    cpuMsPerItem: parts.reduce((a, p) => a + p.cpuMsPerItem * p.items, 0) / Math.max(1, items),
    ...timing,
    timings,
  };
}

/** Sequential single-document requests: the latency a lone caller sees. */
export async function runLatency(url: string, input: 'text' | 'image', budgetMs: number, minSamples: number, o: InputPools): Promise<Latency> {
  const doc = input === 'text' ? () => ({ text: LATENCY_CAPTION }) : cycler(await inputPool('jpeg', o));
  const client = new Client(url);
  try {
    for (let i = 0; i < 3; i++) await client.encode([doc()], { batchSize: 1, prefetch: 1 });
    const samples: number[] = [];
    const started = performance.now();
    while (samples.length < minSamples || performance.now() - started < budgetMs) {
      const t0 = performance.now();
      await client.encode([doc()], { batchSize: 1, prefetch: 1 });
      samples.push(performance.now() - t0);
    }
    return latencyOf(samples);
  } finally {
    await client.close();
  }
}
