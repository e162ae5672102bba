import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { DocumentArray } from '../document/document-array.js';
import { Document, type DocumentInit } from '../document/document.js';
import { ExecutorError } from '../errors.js';
import { HandlerTable, type Handler } from '../executor/bindings.js';
import type { ExecutorClass, ExecutorContext, HandlerResult } from '../executor/executor.js';
import type { ExecutorRegistry } from '../executor/registry.js';
import type { ExecutorConfig } from './config.js';
import type { FlowNode, NodeOutput } from './node.js';
import { BatchQueue } from './batch-queue.js';
import { decoratedBatching } from '../executor/decorators.js';
import type { FlowMetrics } from '../telemetry/metrics.js';

interface Replica {
  id: number;
  instance: object;
  handlers: HandlerTable;
  outstanding: number;
}

/**
 * One executor of a flow with its in-process replicas. Calls go to the replica
 * with the fewest requests in flight (round-robin among ties).
 */
export class ExecutorNode implements FlowNode {
  private readonly replicas: Replica[] = [];
  private cursor = 0;
  private readonly batchers = new Map<string, BatchQueue | undefined>();
  private telemetry: FlowMetrics | undefined;

  constructor(
    readonly config: ExecutorConfig,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** The flow's metrics: batch sizes, queue depth, and the executor's own timings (context.metrics). */
  useTelemetry(metrics: FlowMetrics): void {
    this.telemetry = metrics;
  }

  /** Imports custom modules, constructs every replica and awaits their `init()`. */
  async start(registry: ExecutorRegistry, path: string): Promise<void> {
    const { uses } = this.config;
    for (const mod of uses.modules) await registry.loadModule(mod, '/', `${path}.uses.metas.modules`);
    const cls: ExecutorClass = registry.resolve(uses.jtype, `${path}.uses.jtype`);
    for (const [k, v] of Object.entries(this.config.env)) process.env[k] = v;
    if (this.config.workspace) mkdirSync(this.config.workspace, { recursive: true });
    const settled = await Promise.allSettled(
      Array.from({ length: this.config.replicas }, async (_, id): Promise<Replica> => {
        const context: ExecutorContext = {
          name: this.name,
          workspace: this.config.workspace,
          metas: uses.metas,
          replicaId: id,
          replicas: this.config.replicas,
          logger: this.logger.child({ executor: this.name, replica: id }),
          ...(this.telemetry ? { metrics: this.telemetry.forExecutor(this.name) } : {}),
        };
        const instance = new cls({ ...uses.with }, context);
        const handlers = HandlerTable.build(instance, uses.requests, path);
        const init = (instance as { init?: () => unknown }).init;
        if (typeof init === 'function') await init.call(instance);
        return { id, instance, handlers, outstanding: 0 };
      }),
    );
    for (const r of settled) if (r.status === 'fulfilled') this.replicas.push(r.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // The replicas that did start hold sessions, threads and workspace locks: give them back.
      await this.close();
      throw failed.reason;
    }
  }

  /** True when some handler (exact or default) serves this endpoint. */
  handles(endpoint: string): boolean {
    return this.replicas[0]?.handlers.lookup(endpoint) !== undefined;
  }

  /** What the executor reports about itself (`status()` on its first replica, if it has one). */
  status(): Record<string, string> {
    const instance = this.replicas[0]?.instance as { status?: () => Record<string, string> } | undefined;
    return typeof instance?.status === 'function' ? instance.status() : {};
  }

  /** Endpoints bound explicitly on this executor. */
  endpoints(): string[] {
    return this.replicas[0]?.handlers.endpoints() ?? [];
  }

  /**
   * Runs the endpoint's handler, through the endpoint's batch queue when dynamic
   * batching applies; exceptions come back as ExecutorError.
   */
  call(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined, docsMatrix?: DocumentArray[]): Promise<NodeOutput> {
    const batcher = docsMatrix ? undefined : this.batcherFor(endpoint);
    if (!batcher) return this.invoke(endpoint, docs, parameters, signal, docsMatrix);
    return this.prepare(endpoint, docs, parameters, signal).then(() => batcher.submit(docs, parameters, signal));
  }

  /** Runs the handler's `@dynamicBatching({ prepare })` step for one request, if it has one. */
  private async prepare(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined): Promise<void> {
    const replica = this.replicas[0]!;
    const method = replica.handlers.methodFor(endpoint);
    const name = method ? decoratedBatching(replica.instance.constructor).get(method)?.prepare : undefined;
    const fn = name ? (replica.instance as Record<string, unknown>)[name] : undefined;
    if (typeof fn !== 'function') return;
    try {
      await (fn as Handler).call(replica.instance, { docs, parameters, endpoint, signal });
    } catch (e) {
      throw new ExecutorError(this.name, e);
    }
  }

  /**
   * The batch queue of an endpoint, when flow.yml's `uses_dynamic_batching` or the
   * handler's `@dynamicBatching` asks for one. flow.yml's keys win; a lookahead it
   * leaves out stays the handler's, since it says how the handler works, not how
   * big its batches should be.
   */
  private batcherFor(endpoint: string): BatchQueue | undefined {
    if (this.batchers.has(endpoint)) return this.batchers.get(endpoint);
    const replica = this.replicas[0];
    const method = replica?.handlers.methodFor(endpoint);
    const decorated = replica && method ? decoratedBatching(replica.instance.constructor).get(method) : undefined;
    const fromYaml = this.config.uses.dynamicBatching?.[endpoint];
    const config = fromYaml ? { lookahead: decorated?.lookahead, ...fromYaml } : decorated;
    const queue = config
      ? new BatchQueue(config, this.replicas.length, (d, p, s) => this.invoke(endpoint, d, p, s), {
          onDepth: (n) => this.telemetry?.queueDepth.set({ executor: this.name, endpoint }, n),
        })
      : undefined;
    this.batchers.set(endpoint, queue);
    return queue;
  }

  /** Runs the endpoint's handler on the least busy replica. */
  private async invoke(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined, docsMatrix?: DocumentArray[]): Promise<NodeOutput> {
    const replica = this.pick();
    const handler = replica.handlers.lookup(endpoint) as Handler;
    replica.outstanding++;
    this.telemetry?.batchSize.observe({ executor: this.name, endpoint }, docs.length);
    try {
      const ret = await handler({ docs, parameters, endpoint, signal, ...(docsMatrix ? { docsMatrix } : {}) });
      return applyReturn(docs, ret);
    } catch (e) {
      throw new ExecutorError(this.name, e);
    } finally {
      replica.outstanding--;
    }
  }

  private pick(): Replica {
    const n = this.replicas.length;
    let best = this.replicas[this.cursor % n]!;
    for (let i = 1; i < n; i++) {
      const r = this.replicas[(this.cursor + i) % n]!;
      if (r.outstanding < best.outstanding) best = r;
    }
    this.cursor = (best.id + 1) % n;
    return best;
  }

  async close(): Promise<void> {
    await Promise.allSettled(
      this.replicas.map(async (r) => {
        const close = (r.instance as { close?: () => unknown }).close;
        if (typeof close === 'function') await close.call(r.instance);
      }),
    );
    this.replicas.length = 0;
  }
}

/** Jina's return semantics: docs replace, a plain object is a result, nothing keeps the docs. */
function applyReturn(docs: DocumentArray, ret: HandlerResult): NodeOutput {
  if (ret === undefined || ret === null) return { docs };
  if (ret instanceof DocumentArray) return { docs: ret };
  // Any array is a replacement document list. Checked structurally, not by class: a
  // module loaded through another loader (tsx) may carry its own copy of our classes.
  if (Array.isArray(ret)) return { docs: new DocumentArray(ret.map((d) => (d instanceof Document ? d : new Document(d as DocumentInit)))) };
  if (typeof ret === 'object') return { docs, result: ret as Record<string, unknown> };
  throw new TypeError(`handler returned ${typeof ret}; return a DocumentArray, a plain object or nothing`);
}
