/**
 * The bench's options, declared once for commander and shared by
 * `npm run bench` (bench/run.ts) and `clipflow bench` (core/cli/bench.command.ts),
 * so the two accept exactly the same flags.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { physicalCores } from '../core/config/cpu.js';
import { packagePath } from '../core/config/paths.js';
import type { Protocol } from '../core/flow/config.js';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../runtimes/runtime.js';
import { PRESETS } from '../tools/clip-model/presets.js';
import type { ClientMode } from './served.bench.js';

/** Everything a bench run needs, resolved (no undefined knobs). */
export interface BenchOptions {
  quick: boolean;
  preset: string;
  /** A model folder to measure instead of a generated one (--model-dir). */
  modelDir?: string;
  seed: number;
  protocols: Protocol[];
  skipTransformers: boolean;
  out: string;
  cacheDir: string;
  clientMode: ClientMode;
  compareClients: boolean;
  /** Measure the raw ceiling around each round of every served and transformers.js point (steadier ratios on a shared machine). */
  paired: boolean;
  fullMatrix: boolean;
  concurrency: number;
  prefetch: number;
  /** Seconds per round of a served throughput point. */
  servedSeconds: number;
  /** Rounds per paired point (served and transformers.js), each between two raw measurements. */
  rounds: number;
  /** Seconds per raw ORT / transformers.js point. */
  rawSeconds: number;
  /** ORT intra-op threads; undefined = clipflow's default (physical cores) everywhere. */
  threads?: number;
  /** The execution provider of the raw ceiling and the served flow (transformers.js is measured on cpu only). */
  runtime: ExecutionProvider;
}

/** Options as commander hands them over (strings and booleans, before defaults by mode). */
export interface BenchCliOptions {
  quick?: boolean;
  preset?: string;
  modelDir?: string;
  seed?: number;
  protocols?: string[];
  skipTransformers?: boolean;
  out?: string;
  cacheDir?: string;
  client?: ClientMode;
  compareClients?: boolean;
  paired?: boolean;
  fullMatrix?: boolean;
  concurrency?: number;
  prefetch?: number;
  duration?: number;
  rawDuration?: number;
  rounds?: number;
  threads?: number;
  runtime?: ExecutionProvider;
}

const PROTOCOLS: Record<string, Protocol> = { grpc: 'grpc', http: 'http', websocket: 'websocket', ws: 'websocket' };

function positive(kind: 'int' | 'number') {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || (kind === 'int' && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected a positive ${kind === 'int' ? 'integer' : 'number'}`);
    }
    return n;
  };
}

/** Adds the bench's flags to a commander command (the `bench` subcommand or the script's program). */
export function addBenchOptions(cmd: Command): Command {
  return cmd
    .option('--quick', 'smoke run: tiny model, a fraction of a second per point (for tests)', false)
    .addOption(new Option('--preset <name>', 'generated model shapes (default vit-b-32; tiny with --quick)').choices(Object.keys(PRESETS)))
    .option('--model-dir <dir>', 'measure this model instead of a generated one: a Hugging Face layout folder (onnx/text_model.onnx + onnx/vision_model.onnx, read as model_path reads it), or one holding hf/ and clip-server/')
    .option('--seed <n>', 'seed of the generated weights and inputs', (v) => Number(v), 0)
    .option('--protocols <list...>', 'protocols to serve and measure: grpc, http, websocket (space or comma separated)')
    .option('--skip-transformers', 'skip the transformers.js comparison', false)
    .option('--out <file>', 'where to write the JSON results (default bench/results/latest.json)')
    .option('--cache-dir <dir>', 'generated model cache (default $CLIPFLOW_BENCH_DIR or ~/.cache/clipflow/bench-models)')
    .addOption(new Option('--client <where>', 'where the load generator runs: its own process, or inside the server').choices(['process', 'in-process']).default('process'))
    .option('--no-compare-clients', 'skip re-measuring two points with the other client placement')
    .option('--no-paired', 'skip the raw measurements around each served and transformers.js point (one round each, ratios over the start-of-run raw)')
    .option('--full-matrix', 'every input and concurrency on every protocol (default: full matrix on HTTP only)', false)
    .option('--concurrency <n>', 'clients in the concurrent scenarios (default 32; 4 with --quick)', positive('int'))
    .option('--prefetch <n>', 'requests in flight for the single streaming client (default 2)', positive('int'))
    .option('--duration <s>', 'seconds per round of a served point (default 4; 0.1 with --quick)', positive('number'))
    .option('--rounds <n>', 'rounds per paired point, each between two raw measurements (default 3; 1 with --quick)', positive('int'))
    .option('--raw-duration <s>', 'seconds per raw ORT / transformers.js point (default 4; 0.1 with --quick)', positive('number'))
    .option('--threads <n>', "ORT intra-op threads for raw, served and transformers.js (default: clipflow's own, physical cores)", positive('int'))
    .addOption(new Option('--runtime <provider>', 'execution provider of the raw ceiling and the served flow; a GPU one skips transformers.js, which is compared on cpu').choices([...EXECUTION_PROVIDERS]).default('cpu'));
}

/** `$CLIPFLOW_BENCH_DIR`, else `~/.cache/clipflow/bench-models`. */
export function defaultBenchCacheDir(): string {
  return process.env.CLIPFLOW_BENCH_DIR || join(homedir(), '.cache', 'clipflow', 'bench-models');
}

/** Commander's values with the defaults of the chosen mode filled in. */
export function resolveBenchOptions(cli: BenchCliOptions): BenchOptions {
  const quick = cli.quick ?? false;
  const protocols = (cli.protocols ?? ['grpc', 'http', 'websocket']).flatMap((p) => p.split(',')).map((p) => p.trim()).filter(Boolean).map((p) => {
    const known = PROTOCOLS[p.toLowerCase()];
    if (!known) throw new Error(`--protocols: unknown protocol "${p}"; use grpc, http or websocket`);
    return known;
  });
  if (!Number.isInteger(cli.seed ?? 0) || (cli.seed ?? 0) < 0) throw new Error('--seed: expected a non-negative integer');
  return {
    quick,
    preset: cli.preset ?? (quick ? 'tiny' : 'vit-b-32'),
    ...(cli.modelDir ? { modelDir: cli.modelDir } : {}),
    seed: cli.seed ?? 0,
    protocols: [...new Set(protocols)],
    // transformers.js is compared on the CPU; beside a GPU ceiling its numbers would mean nothing.
    skipTransformers: (cli.skipTransformers ?? false) || (cli.runtime ?? 'cpu') !== 'cpu',
    out: cli.out ?? packagePath('bench', 'results', 'latest.json'),
    cacheDir: cli.cacheDir ?? defaultBenchCacheDir(),
    clientMode: cli.client ?? 'process',
    compareClients: cli.compareClients ?? true,
    paired: cli.paired ?? true,
    fullMatrix: cli.fullMatrix ?? false,
    concurrency: cli.concurrency ?? (quick ? 4 : 32),
    prefetch: cli.prefetch ?? 2,
    servedSeconds: cli.duration ?? (quick ? 0.1 : 4),
    rounds: cli.rounds ?? (quick ? 1 : 3),
    rawSeconds: cli.rawDuration ?? (quick ? 0.1 : 4),
    threads: cli.threads,
    runtime: cli.runtime ?? 'cpu',
  };
}

/** The intra-op thread count actually used: --threads, else what clipflow's runtime picks. */
export function effectiveThreads(o: BenchOptions): number {
  return o.threads ?? physicalCores();
}
