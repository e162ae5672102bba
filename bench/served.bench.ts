/**
 * clipflow served end to end: the real gateway (grpc + http + websocket on
 * port 0) in front of a ClipEncoder on the generated model, hosted in its own
 * process and driven with clipflow's Client — from a separate process by
 * default, so the client's CPU doesn't run on the server's event loop; the
 * in-process variant is measured on a few points for comparison.
 */
import type { Protocol } from '../core/flow/config.js';
import { parseFlow } from '../core/flow/load.js';
import { serveFlow } from '../core/serve/gateway.js';
import { physicalCores } from '../core/config/cpu.js';
import type { ExecutionProvider } from '../runtimes/runtime.js';
import { SectionProcess } from './ipc.js';
import { mergeScenarios, runLatency, runScenario, type InputKind, type InputPools, type ScenarioResult, type ScenarioSpec } from './load.js';
import { pairedKindOf, pairedRounds, type PairedKind, type PairedSeries } from './raw-paired.js';
import type { RawPoint } from './raw-ort.bench.js';
import { scrapeMetrics, stageDelta, type StageBreakdown } from './stages.js';
import { peakRssMb, type Latency } from './stats.js';

/** How the server is started (sent to the server process). */
export interface ServerOptions {
  modelDir: string;
  protocols: Protocol[];
  /** Passed to the encoder only when the bench was given --threads; else clipflow's own default. */
  intraOpThreads?: number;
  runtime: ExecutionProvider;
}

/** What the server process reports once it listens. */
export interface ServerInfo {
  urls: Partial<Record<Protocol, string>>;
  startMs: number;
  afterLoadRssMb: number;
}

/** The running server, inside its process. */
export interface ServerHandle {
  info: ServerInfo;
  close(): Promise<void>;
}

/** The flow the bench serves: one ClipEncoder, minibatches of 32, every requested protocol. */
export function benchFlowYaml(o: ServerOptions): string {
  const threads = o.intraOpThreads ? `\n        intra_op_threads: ${o.intraOpThreads}` : '';
  return `jtype: Flow
version: '1'
with:
  host: 127.0.0.1
  port: [${o.protocols.map(() => 0).join(', ')}]
  protocol: [${o.protocols.join(', ')}]
executors:
  - name: clip
    uses:
      jtype: ClipEncoder
      with:
        model_path: ${JSON.stringify(o.modelDir)}
        minibatch_size: 32
        runtime: ${o.runtime}${threads}
`;
}

/** Starts the flow in this process (the server process). */
export async function startServer(o: ServerOptions): Promise<ServerHandle> {
  const started = performance.now();
  const serving = await serveFlow(parseFlow(benchFlowYaml(o), process.cwd()));
  const urls: ServerInfo['urls'] = {};
  for (const s of serving.servers) urls[s.protocol] = s.url;
  return { info: { urls, startMs: performance.now() - started, afterLoadRssMb: peakRssMb() }, close: () => serving.close(5_000) };
}

/** Where the load generator runs: a process of its own (default) or the server's. */
export type ClientMode = 'process' | 'in-process';

/** One served throughput point with what defined it. */
export type ServedPoint = ScenarioResult & {
  key: string;
  protocol: Protocol;
  input: InputKind;
  clients: number;
  batch: number;
  clientMode: ClientMode;
  /** CPU the server process spent per document over the whole point (warm-up and drain included). */
  serverCpuMsPerItem: number;
  /** The server's stage timers over the point (warm-up included); absent without an HTTP port. */
  breakdown?: StageBreakdown;
  /** The point's rounds against the raw ceiling at the matching shape (absent with --no-paired). */
  pairedRaw?: PairedSeries;
};

/** The served section's results. */
export interface ServedResults {
  clientMode: ClientMode;
  protocols: Protocol[];
  /** What was sent: pool sizes, JPEG size, seed. */
  inputs: InputPools;
  /** Protocols that got every input kind at both concurrencies; the others got JPEG + short captions at N clients. */
  fullMatrix: Protocol[];
  concurrency: number;
  points: ServedPoint[];
  /**
   * Sequential one-document latency per protocol; `rawTextP50` is the raw batch-1
   * text p50 measured right before and right after the text point (their mean).
   */
  latency: Partial<Record<Protocol, { text: Latency; image: Latency; rawTextP50?: number }>>;
  /** The same points measured with the other client placement. */
  clientComparison: Array<{ key: string; process: number; inProcess: number; inProcessOverProcess: number }>;
  server: ServerInfo & { peakRssMb: number };
}

/** Options of the served section. */
export interface ServedOptions {
  server: ServerOptions;
  clientMode: ClientMode;
  compareClients: boolean;
  fullMatrix: boolean;
  concurrency: number;
  prefetch: number;
  budgetMs: number;
  latencyBudgetMs: number;
  latencyMinSamples: number;
  pools: InputPools;
  /** Measures the raw ceiling at a shape, in the idle raw process; given, every point is paired with it. */
  pairedRaw?: (kind: PairedKind) => Promise<RawPoint>;
  /** Rounds per paired point, each `budgetMs` long. */
  rounds: number;
  /** Progress lines (the suite prints them to stderr). */
  log(line: string): void;
}

const KINDS: InputKind[] = ['jpeg', 'png', 'short', 'long77'];

/** `http/jpeg/32`: protocol, input, clients. */
export function pointKey(protocol: Protocol, input: InputKind, clients: number): string {
  return `${protocol}/${input}/${clients}`;
}

/** The protocol that gets the full matrix: HTTP when served, else the first one. */
export function primaryProtocol(protocols: Protocol[]): Protocol {
  return protocols.includes('http') ? 'http' : protocols[0]!;
}

/** Starts the server process, runs the matrix, latency and comparison points, and stops it. */
export async function runServedSection(o: ServedOptions): Promise<ServedResults> {
  const proc = SectionProcess.start('server', { UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(4, physicalCores())) });
  try {
    const info = await proc.call<ServerInfo>('serve', o.server);
    const protocols = o.server.protocols;
    const primary = primaryProtocol(protocols);
    const full = o.fullMatrix ? protocols : [primary];
    const scenario = (mode: ClientMode, spec: ScenarioSpec) =>
      mode === 'process' ? runScenario(spec, o.pools) : proc.call<ScenarioResult>('scenario', { spec, pools: o.pools });
    const measure = async (mode: ClientMode, protocol: Protocol, input: InputKind, clients: number): Promise<ServedPoint> => {
      const spec: ScenarioSpec = { protocol, url: info.urls[protocol]!, input, clients, batch: 32, prefetch: o.prefetch, budgetMs: o.budgetMs };
      const kind = pairedKindOf(input);
      const metricsBefore = await scrapeMetrics(info.urls.http);
      const cpuBefore = await proc.call<number>('cpu');
      const run = () => scenario(mode, spec);
      const { results, paired } = o.pairedRaw
        ? await pairedRounds(kind, o.rounds, () => o.pairedRaw!(kind), run)
        : { results: [await run()], paired: undefined };
      const serverCpu = (await proc.call<number>('cpu')) - cpuBefore;
      const metricsAfter = await scrapeMetrics(info.urls.http);
      const r = mergeScenarios(results, clients === 1);
      const warmItems = (clients === 1 ? 32 : clients) * results.length;
      const key = pointKey(protocol, input, clients);
      o.log(`served ${key} (${mode} client): ${r.perSecond.toFixed(1)}/s${paired ? ` (x${paired.ratio.toFixed(2)} of raw, rounds ${paired.rounds.map((x) => x.ratio.toFixed(2)).join(' ')})` : ''}`);
      const extra = {
        ...(metricsBefore && metricsAfter ? { breakdown: stageDelta(metricsBefore, metricsAfter) } : {}),
        ...(paired ? { pairedRaw: paired } : {}),
      };
      return { ...r, key, protocol, input, clients, batch: clients === 1 ? 32 : 1, clientMode: mode, serverCpuMsPerItem: serverCpu / ((r.window?.items ?? r.items) + warmItems), ...extra };
    };

    const points: ServedPoint[] = [];
    for (const protocol of protocols) {
      const plan: Array<[InputKind, number]> = full.includes(protocol)
        ? KINDS.flatMap((k): Array<[InputKind, number]> => [[k, 1], [k, o.concurrency]])
        : [['jpeg', o.concurrency], ['short', o.concurrency]];
      for (const [input, clients] of plan) points.push(await measure(o.clientMode, protocol, input, clients));
    }

    const latency: ServedResults['latency'] = {};
    for (const protocol of protocols) {
      const url = info.urls[protocol]!;
      const one = (input: 'text' | 'image') => o.clientMode === 'process'
        ? runLatency(url, input, o.latencyBudgetMs, o.latencyMinSamples, o.pools)
        : proc.call<Latency>('latency', { url, input, budgetMs: o.latencyBudgetMs, minSamples: o.latencyMinSamples, pools: o.pools });
      const before = o.pairedRaw ? await o.pairedRaw('text-b1') : undefined;
      const text = await one('text');
      const after = o.pairedRaw ? await o.pairedRaw('text-b1') : undefined;
      const rawTextP50 = before && after ? (before.latency.p50 + after.latency.p50) / 2 : undefined;
      latency[protocol] = { text, image: await one('image'), ...(rawTextP50 !== undefined ? { rawTextP50 } : {}) };
      o.log(`latency ${protocol}: text p50 ${latency[protocol]!.text.p50.toFixed(1)} ms, image p50 ${latency[protocol]!.image.p50.toFixed(1)} ms`);
    }

    // Read the server's peak before any in-process client adds its own memory to it.
    const peak = await proc.call<number>('rss');
    const clientComparison: ServedResults['clientComparison'] = [];
    if (o.compareClients) {
      const other: ClientMode = o.clientMode === 'process' ? 'in-process' : 'process';
      for (const [input, clients] of [['jpeg', 1], ['short', o.concurrency]] as Array<[InputKind, number]>) {
        const mine = points.find((p) => p.key === pointKey(primary, input, clients))!;
        const theirs = await measure(other, primary, input, clients);
        const [proc_, inproc] = o.clientMode === 'process' ? [mine.perSecond, theirs.perSecond] : [theirs.perSecond, mine.perSecond];
        clientComparison.push({ key: mine.key, process: proc_, inProcess: inproc, inProcessOverProcess: inproc / proc_ });
      }
    }
    return { clientMode: o.clientMode, protocols, inputs: o.pools, fullMatrix: full, concurrency: o.concurrency, points, latency, clientComparison, server: { ...info, peakRssMb: peak } };
  } finally {
    await proc.close();
  }
}
