import { Option, type Command } from 'commander';
import { packagePath } from '../config/paths.js';
import type { Protocol } from '../flow/config.js';
import type { FlowOverrides } from '../flow/load.js';
import { shutdownSignal } from './signals.js';

/** Options of `clipflow serve`, as commander parses them. */
export interface ServeCliOptions {
  port?: string[];
  protocol?: string[];
  host?: string;
  model?: string;
  modelPath?: string;
  runtime?: string;
  replicas?: string;
}

const PROTOCOLS: Record<string, Protocol> = { grpc: 'grpc', http: 'http', websocket: 'websocket', ws: 'websocket' };
const RUNTIMES = ['cpu', 'webgpu', 'cuda', 'tensorrt'];

/** `--port 1 2` and `--port 1,2` both give [1, 2]. */
function splitList(values: string[] | undefined): string[] | undefined {
  return values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new Error(`${flag}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** CLI flags as the flow loader's overrides; throws on values no flow could accept. */
export function serveOverrides(options: ServeCliOptions): FlowOverrides {
  const overrides: FlowOverrides = {};
  const ports = splitList(options.port);
  if (ports?.length) overrides.port = ports.map((p) => integer(p, '--port', 0, 65535));
  const protocols = splitList(options.protocol);
  if (protocols?.length) {
    overrides.protocol = protocols.map((p) => {
      const known = PROTOCOLS[p.toLowerCase()];
      if (!known) throw new Error(`--protocol: unknown protocol "${p}"; use grpc, http or websocket`);
      return known;
    });
  }
  if (options.host) overrides.host = options.host;
  if (options.replicas !== undefined) overrides.replicas = integer(options.replicas, '--replicas', 1, 1024);
  // --model/--model-path/--runtime configure the encoder: they land in every executor's `with:`.
  const executorWith: Record<string, unknown> = {};
  if (options.model) executorWith.name = options.model;
  if (options.modelPath) executorWith.model_path = options.modelPath;
  if (options.runtime) executorWith.runtime = options.runtime;
  if (Object.keys(executorWith).length) overrides.executorWith = executorWith;
  return overrides;
}

/**
 * A promise some executor forgot to handle must not take the whole server (and
 * every other caller's request) down with it, which is Node's default; it is
 * logged with its stack instead. A synchronous uncaught exception leaves the
 * process in an unknown state: that one still ends it, after a log line.
 */
async function guardProcess(): Promise<void> {
  const { childLogger } = await import('../telemetry/logger.js');
  const log = childLogger('process');
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled promise rejection (kept serving)'));
  process.on('uncaughtException', (err) => {
    log.fatal({ err }, 'uncaught exception; exiting');
    process.stderr.write(`clipflow: uncaught exception: ${err.message}\n`);
    process.exit(1);
  });
}

/**
 * Loads the flow, serves it, prints one `listening <url>` line per transport on
 * stdout, and runs until SIGINT/SIGTERM. Then it shuts down in order: report not
 * ready and refuse new requests (503 / UNAVAILABLE) on every protocol, finish
 * in-flight requests (up to the flow's `shutdown_grace_ms`), close the listeners,
 * release the executors; the caller exits 0.
 */
export async function runServe(flowFile: string | undefined, options: ServeCliOptions): Promise<void> {
  const overrides = serveOverrides(options);
  // Installed before start-up so a signal during model loading still shuts down cleanly.
  const stop = shutdownSignal();
  await guardProcess();
  // Loaded lazily: `encode` and `ping` should not pay for the server stack.
  const [{ loadFlowFile }, { serveFlow }] = await Promise.all([import('../flow/load.js'), import('../serve/gateway.js')]);
  const config = await loadFlowFile(flowFile ?? packagePath('flows', 'default.yml'), overrides);
  const serving = await serveFlow(config);
  // A stand-in model (or any other executor warning) heads the banner, impossible to miss.
  for (const w of serving.flow.warnings()) process.stdout.write(`${'!'.repeat(78)}\nWARNING: ${w}\n${'!'.repeat(78)}\n`);
  process.stdout.write(serving.servers.map((s) => `listening ${s.url}\n`).join(''));
  await stop;
  // serving.close() logs each step (draining, shut down) on stderr with the rest of the logs.
  await serving.close();
}

/** Registers `clipflow serve [FLOW_YML]`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve a flow (default: the bundled flows/default.yml) over gRPC, HTTP and/or WebSocket')
    .argument('[flow_yml]', 'flow file to serve')
    .option('--port <n...>', 'port(s), one per protocol in order (0 picks a free one)')
    .option('--protocol <p...>', 'protocol(s): grpc, http, websocket')
    .option('--host <host>', 'address to bind')
    .option('--model <name>', 'CLIP model name, e.g. ViT-B-32::openai')
    .option('--model-path <dir>', 'folder holding the model files')
    .addOption(new Option('--runtime <runtime>', 'inference runtime').choices(RUNTIMES))
    .option('--replicas <n>', 'replicas of every executor')
    .action(async (flowFile: string | undefined, options: ServeCliOptions) => {
      await runServe(flowFile, options);
      process.exit(0);
    });
}
