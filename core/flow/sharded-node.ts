import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DocumentArray } from '../document/document-array.js';
import type { ExecutorRegistry } from '../executor/registry.js';
import type { FlowMetrics } from '../telemetry/metrics.js';
import type { ExecutorConfig } from './config.js';
import { ExecutorNode } from './executor-node.js';
import { cloneDocs } from './merge.js';
import type { FlowNode, NodeOutput } from './node.js';
import { pollingFor, reduceShards } from './polling.js';
import { RemoteExecutorNode } from './remote-node.js';
import { shardAddresses } from './remote/addresses.js';

interface Shard {
  node: FlowNode;
  outstanding: number;
}

/**
 * An executor split into `shards` partitions (Jina's shards), each a FlowNode
 * of its own:
 * - in-process: an ExecutorNode per shard (with the entry's replicas), each
 *   with its own workspace folder `<workspace>/shard-<i>`;
 * - external: the entry's worker addresses cut into `shards` equal runs, in
 *   order (see shardAddresses), each run one RemoteExecutorNode whose
 *   addresses are that shard's replicas.
 *
 * Per endpoint, `polling` decides: ANY sends the request to one shard (the one
 * with the fewest requests in flight, round-robin among ties); ALL sends a copy
 * to every shard and reduces the replies (reduceShards: documents merged by id,
 * matches re-sorted by score and cut to `parameters.limit`). One failing shard
 * fails an ALL request.
 */
export class ShardedNode implements FlowNode {
  private readonly shards: Shard[];
  private cursor = 0;

  constructor(
    readonly config: ExecutorConfig,
    logger: Logger,
  ) {
    const count = config.shards;
    if (config.external) {
      this.shards = shardAddresses(config).map((addresses, i) => ({
        node: new RemoteExecutorNode(shardConfig(config, i, addresses.length), logger.child({ shard: i }), addresses),
        outstanding: 0,
      }));
    } else {
      this.shards = Array.from({ length: count }, (_, i) => ({ node: new ExecutorNode(shardConfig(config, i), logger.child({ shard: i })), outstanding: 0 }));
    }
  }

  get name(): string {
    return this.config.name;
  }

  /** How many shards there are. */
  get size(): number {
    return this.shards.length;
  }

  /** Hands the flow's metrics to every in-process shard (remote shards report in their workers). */
  useTelemetry(metrics: FlowMetrics): void {
    for (const s of this.shards) (s.node as { useTelemetry?: (m: FlowMetrics) => void }).useTelemetry?.(metrics);
  }

  /** Starts every shard; the executor is ready when all are. */
  async start(registry: ExecutorRegistry, path: string): Promise<void> {
    await Promise.all(this.shards.map((s) => s.node.start(registry, path)));
  }

  handles(endpoint: string): boolean {
    return this.shards[0]!.node.handles(endpoint);
  }

  endpoints(): string[] {
    return this.shards[0]!.node.endpoints();
  }

  status(): Record<string, string> {
    return { ...this.shards[0]!.node.status(), shards: String(this.shards.length) };
  }

  call(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined, docsMatrix?: DocumentArray[]): Promise<NodeOutput> {
    if (pollingFor(this.config.polling, endpoint) === 'ANY') return this.run(this.pick(), endpoint, docs, parameters, signal, docsMatrix);
    // Each shard mutates its own copy; the reduce joins them back by document id.
    const calls = this.shards.map((s, i) => this.run(s, endpoint, i === this.shards.length - 1 ? docs : cloneDocs(docs), parameters, signal, docsMatrix));
    return Promise.all(calls).then((outputs) => reduceShards(outputs, parameters));
  }

  private async run(shard: Shard, endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined, docsMatrix?: DocumentArray[]): Promise<NodeOutput> {
    shard.outstanding++;
    try {
      return await shard.node.call(endpoint, docs, parameters, signal, docsMatrix);
    } finally {
      shard.outstanding--;
    }
  }

  private pick(): Shard {
    const n = this.shards.length;
    let best = this.cursor % n;
    for (let i = 1; i < n; i++) {
      const index = (this.cursor + i) % n;
      if (this.shards[index]!.outstanding < this.shards[best]!.outstanding) best = index;
    }
    this.cursor = (best + 1) % n;
    return this.shards[best]!;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.shards.map((s) => s.node.close()));
  }
}

/** One shard's entry: a single-shard copy with its own workspace folder (and, external, its own replica count). */
function shardConfig(config: ExecutorConfig, shard: number, replicas = config.replicas): ExecutorConfig {
  return {
    ...config,
    shards: 1,
    replicas,
    ...(config.workspace ? { workspace: join(config.workspace, `shard-${shard}`) } : {}),
  };
}
