import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { DocumentArray } from '../document/document-array.js';
import { Document, type DocumentInit } from '../document/document.js';
import { ExecutorError } from '../errors.js';
import { HandlerTable, type Handler } from '../executor/bindings.js';
import type { ExecutorClass, ExecutorContext, HandlerResult } from '../executor/executor.js';
import type { ExecutorRegistry } from '../executor/registry.js';
import type { ExecutorConfig } from './config.js';

interface Replica {
  id: number;
  instance: object;
  handlers: HandlerTable;
  outstanding: number;
}

/** What one executor call produced. */
export interface NodeOutput {
  docs: DocumentArray;
  /** A plain-object return value, destined for `parameters.__results__[name]`. */
  result?: Record<string, unknown>;
}

/**
 * One executor of a flow with its in-process replicas. Calls go to the replica
 * with the fewest requests in flight (round-robin among ties).
 */
export class ExecutorNode {
  private readonly replicas: Replica[] = [];
  private cursor = 0;

  constructor(
    readonly config: ExecutorConfig,
    private readonly logger: Logger,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** Imports custom modules, constructs every replica and awaits their `init()`. */
  async start(registry: ExecutorRegistry, path: string): Promise<void> {
    const { uses } = this.config;
    for (const mod of uses.modules) await registry.loadModule(mod, '/', `${path}.uses.metas.modules`);
    const cls: ExecutorClass = registry.resolve(uses.jtype, `${path}.uses.jtype`);
    for (const [k, v] of Object.entries(this.config.env)) process.env[k] = v;
    if (this.config.workspace) mkdirSync(this.config.workspace, { recursive: true });
    const made = await Promise.all(
      Array.from({ length: this.config.replicas }, async (_, id): Promise<Replica> => {
        const context: ExecutorContext = {
          name: this.name,
          workspace: this.config.workspace,
          metas: uses.metas,
          replicaId: id,
          replicas: this.config.replicas,
          logger: this.logger.child({ executor: this.name, replica: id }),
        };
        const instance = new cls({ ...uses.with }, context);
        const handlers = HandlerTable.build(instance, uses.requests, path);
        const init = (instance as { init?: () => unknown }).init;
        if (typeof init === 'function') await init.call(instance);
        return { id, instance, handlers, outstanding: 0 };
      }),
    );
    this.replicas.push(...made);
  }

  /** True when some handler (exact or default) serves this endpoint. */
  handles(endpoint: string): boolean {
    return this.replicas[0]?.handlers.lookup(endpoint) !== undefined;
  }

  /** Endpoints bound explicitly on this executor. */
  endpoints(): string[] {
    return this.replicas[0]?.handlers.endpoints() ?? [];
  }

  /** Runs the endpoint's handler on the least busy replica; exceptions come back as ExecutorError. */
  async call(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined, docsMatrix?: DocumentArray[]): Promise<NodeOutput> {
    const replica = this.pick();
    const handler = replica.handlers.lookup(endpoint) as Handler;
    replica.outstanding++;
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
