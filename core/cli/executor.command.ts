import type { Command } from 'commander';
import { shutdownSignal } from './signals.js';

/** Options of `clipflow executor`, as commander parses them. */
export interface ExecutorCliOptions {
  port: string;
  host?: string;
  shard?: string;
  replicas?: string;
  metricsPort?: string;
  grace?: string;
}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new Error(`${flag}: expected an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/**
 * Serves executor `name` of `flowFile` as a gRPC worker. Prints
 * `listening grpc://host:port` as soon as the port is bound (health is
 * NOT_SERVING while the executor initialises) and `ready <name>` once `init()`
 * finished; on SIGTERM/SIGINT drains and returns.
 */
export async function runExecutor(flowFile: string, name: string, options: ExecutorCliOptions): Promise<void> {
  const port = integer(options.port, '--port', 0, 65535)!;
  const shard = integer(options.shard, '--shard', 0, 1023);
  const replicas = integer(options.replicas, '--replicas', 1, 1024);
  const metricsPort = integer(options.metricsPort, '--metrics-port', 0, 65535);
  const graceMs = integer(options.grace, '--grace', 0, 3_600_000) ?? 30_000;
  const stop = shutdownSignal();
  const [{ loadFlowFile }, { serveExecutor }] = await Promise.all([import('../flow/load.js'), import('../serve/worker/serve-executor.js')]);
  const flow = await loadFlowFile(flowFile);
  const worker = await serveExecutor(flow, name, {
    port,
    ...(options.host ? { host: options.host } : {}),
    ...(shard !== undefined ? { shard } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  });
  process.stdout.write(`listening ${worker.server.url}\n`);
  if (worker.metrics) process.stdout.write(`metrics http://${options.host ?? '0.0.0.0'}:${worker.metrics.port}/metrics\n`);
  const outcome = await Promise.race([worker.ready.then(() => 'ready' as const), stop.then(() => 'stopped' as const)]);
  if (outcome === 'ready') {
    // A stand-in model (or any executor warning) heads the output, as with `clipflow serve`.
    const warning = worker.handler.node.status().warning;
    if (warning) process.stdout.write(`${'!'.repeat(78)}\nWARNING: ${warning}\n${'!'.repeat(78)}\n`);
    process.stdout.write(`ready ${name}\n`);
    await stop;
  }
  await worker.close(graceMs);
}

/** Registers `clipflow executor FLOW_YML NAME --port P`. */
export function registerExecutorCommand(program: Command): void {
  program
    .command('executor')
    .description('serve one executor of a flow as a gRPC worker (for a gateway entry with external: true)')
    .argument('<flow_yml>', 'flow file that defines the executor')
    .argument('<name>', 'the executor entry to serve (executors[].name)')
    .requiredOption('--port <n>', 'gRPC port (0 picks a free one)')
    .option('--host <host>', 'address to bind (default 0.0.0.0)')
    .option('--shard <i>', 'which shard to serve when the executor has shards > 1')
    .option('--replicas <n>', "in-process replicas (default: the flow's replicas)")
    .option('--metrics-port <n>', 'also serve Prometheus metrics on GET /metrics at this port')
    .option('--grace <ms>', 'how long SIGTERM waits for in-flight requests (default 30000)')
    .action(async (flowFile: string, name: string, options: ExecutorCliOptions) => {
      await runExecutor(flowFile, name, options);
      process.exit(0);
    });
}
