import { join } from 'node:path';
import type { Logger } from 'pino';
import { registerBuiltins } from '../../../executors/index.js';
import { FlowConfigError } from '../../errors.js';
import { ExecutorRegistry } from '../../executor/registry.js';
import { DEFAULT_MAX_MESSAGE_SIZE, livenessStuckMs, type ExecutorConfig, type FlowConfig } from '../../flow/config.js';
import { ExecutorNode } from '../../flow/executor-node.js';
import { childLogger } from '../../telemetry/logger.js';
import { WorkerHandler } from './worker.handler.js';
import { startMetricsServer, type MetricsServer } from './worker.metrics.js';
import { startWorkerServer, type RunningWorkerServer } from './worker.server.js';

/** How to run one executor of a flow as a worker. */
export interface ExecutorWorkerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Which shard to serve when the executor has `shards > 1` (its workspace is `<workspace>/shard-<i>`). */
  shard?: number;
  /** In-process replicas; default: the flow's `replicas` for this executor. */
  replicas?: number;
  /** Serve Prometheus metrics over HTTP on this port. */
  metricsPort?: number;
  maxMessageSize?: number;
  registry?: ExecutorRegistry;
  logger?: Logger;
}

/** A worker that is listening; `ready` settles when the executor's `init()` did. */
export interface ServingWorker {
  handler: WorkerHandler;
  server: RunningWorkerServer;
  metrics?: MetricsServer;
  ready: Promise<void>;
  /** Drains (health NOT_SERVING, new requests refused, in-flight ones answered), then closes the executor. */
  close(graceMs?: number): Promise<void>;
}

/**
 * The executor entry a worker runs: the flow's entry named `name`, made
 * in-process and single-shard, with the shard's own workspace folder.
 * @throws FlowConfigError for an unknown name, an external entry, or a bad shard.
 */
export function workerConfig(flow: FlowConfig, name: string, options: Pick<ExecutorWorkerOptions, 'shard' | 'replicas'> = {}): { config: ExecutorConfig; index: number } {
  const index = flow.executors.findIndex((e) => e.name === name);
  if (index < 0) {
    throw new FlowConfigError(`no executor named '${name}' in the flow; executors: ${flow.executors.map((e) => e.name).join(', ') || '(none)'}`);
  }
  const entry = flow.executors[index]!;
  const at = `executors[${index}]`;
  if (entry.external) throw new FlowConfigError(`'${name}' is external (served elsewhere); a worker needs the executor's own definition`, `${at}.external`);
  const { shard } = options;
  if (shard !== undefined && (!Number.isInteger(shard) || shard < 0 || shard >= entry.shards)) {
    throw new FlowConfigError(`shard must be an integer from 0 to ${entry.shards - 1}, got ${shard}`, '--shard');
  }
  if (entry.shards > 1 && shard === undefined) {
    throw new FlowConfigError(`'${name}' has ${entry.shards} shards; pass --shard 0..${entry.shards - 1}`, '--shard');
  }
  if (options.replicas !== undefined && (!Number.isInteger(options.replicas) || options.replicas < 1)) {
    throw new FlowConfigError(`must be an integer >= 1, got ${options.replicas}`, '--replicas');
  }
  // Same layout as the in-process ShardedNode, so a workspace moves between the two unchanged.
  const workspace = entry.workspace && entry.shards > 1 ? join(entry.workspace, `shard-${shard}`) : entry.workspace;
  const config: ExecutorConfig = {
    ...entry,
    shards: 1,
    external: false,
    replicas: options.replicas ?? entry.replicas,
    ...(workspace ? { workspace } : {}),
  };
  return { config, index };
}

/**
 * Serves one executor of a flow over gRPC. Resolves once listening (health
 * NOT_SERVING); the executor initialises in the background and `ready`
 * settles when it is done (health SERVING). An init failure closes the server
 * and rejects `ready`.
 */
export async function serveExecutor(flow: FlowConfig, name: string, options: ExecutorWorkerOptions): Promise<ServingWorker> {
  const { config, index } = workerConfig(flow, name, options);
  const logger = options.logger ?? childLogger('worker', { flow: flow.name, executor: name, ...(options.shard !== undefined ? { shard: options.shard } : {}) });
  const handler = new WorkerHandler(new ExecutorNode(config, logger), logger, options.shard, livenessStuckMs(flow.gateway));
  const server = await startWorkerServer(handler, {
    host: options.host ?? '0.0.0.0',
    port: options.port,
    maxMessageSize: options.maxMessageSize ?? flow.gateway.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    logger,
  });
  let metrics: MetricsServer | undefined;
  try {
    if (options.metricsPort !== undefined) metrics = await startMetricsServer(handler.telemetry, options.host ?? '0.0.0.0', options.metricsPort);
  } catch (e) {
    await server.close(0);
    throw e;
  }
  for (const w of flow.warnings) logger.warn(w);
  const registry = options.registry ?? registerBuiltins(new ExecutorRegistry());
  const close = async (graceMs = 30_000): Promise<void> => {
    await server.close(graceMs);
    await handler.close(0);
    await metrics?.close();
  };
  const ready = handler.start(registry, `executors[${index}]`).then(
    () => logger.info({ url: server.url }, 'worker ready'),
    async (e: unknown) => {
      await close(0);
      throw e;
    },
  );
  // The caller may attach to `ready` later; don't let an early failure count as unhandled meanwhile.
  ready.catch(() => {});
  return { handler, server, ...(metrics ? { metrics } : {}), ready, close };
}
