/**
 * Entry point of a bench section process (forked by ipc.ts). It answers
 * requests from the parent: run the raw ceiling, run transformers.js, or
 * host the clipflow server and, for the in-process comparison, drive it from
 * inside. Modules are imported per operation so that, say, the raw process
 * never loads transformers.js.
 */
import type { IpcReply, IpcRequest } from './ipc.js';
import type { InputPools, ScenarioSpec } from './load.js';
import type { RawOptions } from './raw-ort.bench.js';
import type { PairedKind, PairedRaw } from './raw-paired.js';
import type { Budget } from './stats.js';
import type { ServerOptions, ServerHandle } from './served.bench.js';
import type { PeerOptions, PeerPointKind, TransformersJsPeer } from './transformers-js.bench.js';

let server: ServerHandle | undefined;
let paired: PairedRaw | undefined;
let peer: TransformersJsPeer | undefined;

type Handler = (args: never) => Promise<unknown>;

const HANDLERS: Record<string, Handler> = {
  raw: async (o: RawOptions) => (await import('./raw-ort.bench.js')).runRawOrt(o),
  'paired-open': async (o: RawOptions) => {
    paired = await (await import('./raw-paired.js')).PairedRaw.open(o);
    return null;
  },
  paired: async ({ kind, budget }: { kind: PairedKind; budget: Budget }) => {
    if (!paired) throw new Error('paired-open first');
    return paired.measure(kind, budget);
  },
  'peer-open': async (o: PeerOptions) => {
    peer = await (await import('./transformers-js.bench.js')).TransformersJsPeer.open(o);
    return null;
  },
  'peer-point': async ({ kind, budget }: { kind: PeerPointKind; budget: Budget }) => {
    if (!peer) throw new Error('peer-open first');
    return peer.point(kind, budget);
  },
  'peer-checks': async () => {
    if (!peer) throw new Error('peer-open first');
    return peer.checks();
  },
  serve: async (o: ServerOptions) => {
    server = await (await import('./served.bench.js')).startServer(o);
    return server.info;
  },
  scenario: async ({ spec, pools }: { spec: ScenarioSpec; pools: InputPools }) => (await import('./load.js')).runScenario(spec, pools),
  latency: async (a: { url: string; input: 'text' | 'image'; budgetMs: number; minSamples: number; pools: InputPools }) =>
    (await import('./load.js')).runLatency(a.url, a.input, a.budgetMs, a.minSamples, a.pools),
  rss: async () => (await import('./stats.js')).peakRssMb(),
  cpu: async () => (await import('./stats.js')).cpuMs(),
  exit: async () => {
    await server?.close();
    await paired?.release();
    await peer?.release();
    server = undefined;
    paired = undefined;
    peer = undefined;
    // Reply first (the parent waits for it), then leave.
    setImmediate(() => process.exit(0));
    return null;
  },
};

function reply(message: IpcReply): void {
  process.send?.(message);
}

process.on('message', (m: IpcRequest) => {
  const handler = HANDLERS[m.op];
  if (!handler) {
    reply({ id: m.id, ok: false, error: `unknown operation ${m.op}` });
    return;
  }
  handler(m.args as never).then(
    (value) => reply({ id: m.id, ok: true, value }),
    (e: unknown) => reply({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});

// The parent going away must not leave a server (and its ORT threads) running.
process.on('disconnect', () => process.exit(0));
