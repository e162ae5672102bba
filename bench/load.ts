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
 *
 * For the streaming client, `perSecond`, `items` and `ms` are its steady state:
 * the documents of every reply after the first, over the time from the first
 * reply to the last. `window` keeps the whole window, which also holds the
 * stream's fill (the first request built, sent, parsed and decoded before the
 * model has any work: ~0.15 s of idle model here, paid once per stream, so once
 * per round). N clients: the whole window (their requests are one image each,
 * so the fill is a few ms).
 */
export type ScenarioResult = Throughput & {
  requestLatency?: Latency;
  replyInterval?: Latency;
  /** The latency (or reply-interval) samples behind those, so rounds can be merged. */
  timings: number[];
  /** One streaming client: the whole window, fill included; `firstReplyMs` is when the first reply came. */
  window?: { items: number; ms: number; perSecond: number; firstReplyMs: number };
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

/** When each reply of a stream came, and how many documents it held. */
export interface Reply {
  at: number;
  docs: number;
}

/** One client streaming until the deadline: the Client batches and pipelines, like clip_client's encode(). */
async function streamingClient(s: ScenarioSpec, next: () => DocumentInit, deadline: number, replies: Reply[]): Promise<number> {
  const client = new Client(s.url);
  let sent = 0;
  async function* docs(): AsyncGenerator<DocumentInit> {
    while (performance.now() < deadline) {
      sent++;
      yield next();
    }
  }
  try {
    // post() rather than encode() for its per-reply callback; both go to the same /encode handler,
    // and drop_image_content is what encode() (and clip_client's) would send.
    await client.post('/encode', docs(), {
      parameters: { drop_image_content: true },
      batchSize: s.batch,
      prefetch: s.prefetch,
      onDone: (reply) => void replies.push({ at: performance.now(), docs: reply.docs.length }),
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
 * counted, and the window ends when the last one returns. One streaming
 * client's rate is its steady state (see {@link ScenarioResult}).
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
  const replies: Reply[] = [];
  const cpuStart = cpuMs();
  const started = performance.now();
  const deadline = started + s.budgetMs;
  const counts = s.clients === 1
    ? [await streamingClient(s, next, deadline, replies)]
    : await Promise.all(Array.from({ length: s.clients }, () => loopingClient(s, next, deadline, samples)));
  const ms = performance.now() - started;
  const items = counts.reduce((a, b) => a + b, 0);
  // The load generator's own CPU: in a separate process, what the client costs per document.
  const cpuMsPerItem = (cpuMs() - cpuStart) / Math.max(1, items);
  if (s.clients !== 1) {
    return { perSecond: (items * 1000) / ms, items, calls: samples.length, ms, cpuMsPerItem, requestLatency: latencyOf(samples), timings: samples };
  }
  return streamResult(replies.map((r) => ({ ...r, at: r.at - started })), items, ms, cpuMsPerItem);
}

/**
 * A stream's result from its replies (`at`: ms since the window opened): steady
 * state from the first reply to the last, and the whole window beside it. With
 * fewer than two replies (--quick) there is no steady state; the window stands in.
 */
export function streamResult(replies: Reply[], items: number, ms: number, cpuMsPerItem: number): ScenarioResult {
  const intervals = replies.map((r, i) => r.at - (i ? replies[i - 1]!.at : 0));
  const window = { items, ms, perSecond: (items * 1000) / ms, firstReplyMs: replies[0]?.at ?? ms };
  const steady = replies.length >= 2
    ? { items: replies.slice(1).reduce((a, r) => a + r.docs, 0), ms: replies.at(-1)!.at - replies[0]!.at }
    : { items, ms };
  return {
    perSecond: (steady.items * 1000) / steady.ms, ...steady, calls: replies.length, cpuMsPerItem,
    replyInterval: latencyOf(intervals), timings: intervals, window,
  };
}

/** Rounds of one scenario as one result: totals over the rounds, latency over all their samples. */
export function mergeScenarios(parts: ScenarioResult[], oneClient: boolean): ScenarioResult {
  const sum = (of: (p: ScenarioResult) => number) => parts.reduce((a, p) => a + of(p), 0);
  const items = sum((p) => p.items);
  const ms = sum((p) => p.ms);
  const timings = parts.flatMap((p) => p.timings);
  const timing = oneClient ? { replyInterval: latencyOf(timings) } : { requestLatency: latencyOf(timings) };
  const windows = parts.flatMap((p) => (p.window ? [p.window] : []));
  let window: ScenarioResult['window'];
  if (windows.length > 0 && windows.length === parts.length) {
    const total = (of: (w: NonNullable<ScenarioResult['window']>) => number) => windows.reduce((a, w) => a + of(w), 0);
    window = { items: total((w) => w.items), ms: total((w) => w.ms), perSecond: (total((w) => w.items) * 1000) / total((w) => w.ms), firstReplyMs: total((w) => w.firstReplyMs) / windows.length };
  }
  return {
    perSecond: (items * 1000) / ms,
    items,
    ms,
    calls: sum((p) => p.calls),
    // CPU per document over everything each round sent.
    cpuMsPerItem: sum((p) => p.cpuMsPerItem * (p.window?.items ?? p.items)) / Math.max(1, sum((p) => p.window?.items ?? p.items)),
    ...timing,
    timings,
    ...(window ? { window } : {}),
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
