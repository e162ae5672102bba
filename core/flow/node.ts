import type { Logger } from 'pino';
import type { DocumentArray } from '../document/document-array.js';
import type { ExecutorRegistry } from '../executor/registry.js';
import type { ExecutorConfig } from './config.js';
import { ExecutorNode } from './executor-node.js';
import { RemoteExecutorNode } from './remote-node.js';
import { ShardedNode } from './sharded-node.js';

/** What one executor call produced. */
export interface NodeOutput {
  docs: DocumentArray;
  /** A plain-object return value, destined for `parameters.__results__[name]`. */
  result?: Record<string, unknown>;
}

/**
 * One executor of a flow as the DAG sees it, wherever it runs: in this process
 * (ExecutorNode, with replicas) or in remote workers.
 */
export interface FlowNode {
  readonly name: string;
  readonly config: ExecutorConfig;
  /** Makes the executor ready: construct + init in-process, or connect to workers. */
  start(registry: ExecutorRegistry, path: string): Promise<void>;
  /** True when some handler (exact or default) serves this endpoint. */
  handles(endpoint: string): boolean;
  /** Endpoints bound explicitly (`/default` for a default handler). */
  endpoints(): string[];
  /** Runs the endpoint; failures reject with ExecutorError. */
  call(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined, docsMatrix?: DocumentArray[]): Promise<NodeOutput>;
  /** Facts for /status (model, provider, warning, ...). */
  status(): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Builds the node for an executor entry of a flow: a ShardedNode when it has
 * `shards > 1` (its shards in-process or remote), a RemoteExecutorNode for
 * `external: true` (workers started with `clipflow executor`), else an
 * in-process ExecutorNode.
 * @throws FlowConfigError when an external entry's hosts/ports don't fit its shards.
 */
export function createNode(config: ExecutorConfig, logger: Logger): FlowNode {
  if (config.shards > 1) return new ShardedNode(config, logger);
  if (config.external) return new RemoteExecutorNode(config, logger);
  return new ExecutorNode(config, logger);
}
