import { DocumentArray } from '../document/document-array.js';
import type { Route } from '../request/data-request.js';
import { nowMs } from '../request/data-request.js';
import { cloneDocs, mergeByDocId } from './merge.js';
import type { FlowNode, NodeOutput } from './node.js';

export const GATEWAY = 'gateway';

/** One request's walk through the graph. */
export interface DagRun {
  endpoint: string;
  parameters: Record<string, unknown>;
  targetExecutor?: RegExp;
  signal?: AbortSignal;
  /** Collects one route per executor, in completion order. */
  routes: Route[];
  /** Collects plain-object results by executor name. */
  results: Record<string, unknown>;
  onExecutorDone?: (name: string, seconds: number, docs: number) => void;
}

/**
 * The executors of a flow as a DAG. `needs` name upstream nodes (`gateway` is the
 * entry). A node runs once all its upstreams finished; several upstreams are
 * joined by document id; a node feeding several downstreams hands each its own
 * copy of the docs so branches never see each other's mutations.
 */
export class Dag {
  private readonly downstream = new Map<string, number>();
  /** Nodes nobody needs: their outputs form the reply. */
  readonly leaves: FlowNode[];

  constructor(readonly nodes: FlowNode[]) {
    for (const n of nodes) for (const up of n.config.needs) this.downstream.set(up, (this.downstream.get(up) ?? 0) + 1);
    this.leaves = nodes.filter((n) => !this.downstream.has(n.name));
  }

  /** Runs every node; rejects with the first ExecutorError (later nodes don't run). */
  async run(docs: DocumentArray, ctx: DagRun): Promise<DocumentArray> {
    if (this.nodes.length === 0) return docs;
    const outputs = new Map<string, Promise<DocumentArray>>();
    const handed = new Map<string, number>();
    const input = (name: string, value: DocumentArray): DocumentArray => {
      // Clone for every consumer but the last, so the last one may keep the original.
      const total = name === GATEWAY ? this.downstream.get(GATEWAY) ?? 1 : this.downstream.get(name) ?? 1;
      const used = (handed.get(name) ?? 0) + 1;
      handed.set(name, used);
      return used < total ? cloneDocs(value) : value;
    };
    const byName = new Map(this.nodes.map((n) => [n.name, n]));
    const produce = (name: string): Promise<DocumentArray> => {
      if (name === GATEWAY) return Promise.resolve(docs);
      let p = outputs.get(name);
      if (!p) {
        const node = byName.get(name)!;
        p = Promise.all(node.config.needs.map(async (up) => input(up, await produce(up)))).then((ins) => this.visit(node, ins, ctx));
        outputs.set(name, p);
      }
      return p;
    };
    const finals = await Promise.all(this.leaves.map((l) => produce(l.name)));
    return mergeByDocId(finals);
  }

  private async visit(node: FlowNode, inputs: DocumentArray[], ctx: DagRun): Promise<DocumentArray> {
    const docs = mergeByDocId(inputs);
    const skip = !node.handles(ctx.endpoint) || (ctx.targetExecutor && !ctx.targetExecutor.test(node.name));
    if (skip) return docs;
    const route: Route = { executor: node.name, startTime: nowMs() };
    ctx.routes.push(route);
    let out: NodeOutput;
    try {
      out = await node.call(ctx.endpoint, docs, executorParameters(ctx.parameters, node.name), ctx.signal, inputs.length > 1 ? inputs : undefined);
    } catch (e) {
      route.endTime = nowMs();
      route.status = { code: 'ERROR', description: (e as Error).message };
      throw e;
    }
    route.endTime = nowMs();
    if (out.result) ctx.results[node.name] = out.result;
    ctx.onExecutorDone?.(node.name, (route.endTime - route.startTime!) / 1000, out.docs.length);
    return out.docs;
  }
}

/**
 * Parameters as one executor sees them: the request's parameters, overlaid with
 * `parameters[executorName]` when that is an object (Jina's per-executor form).
 */
export function executorParameters(parameters: Record<string, unknown>, name: string): Record<string, unknown> {
  const own = parameters[name];
  const base = { ...parameters };
  delete base.__results__;
  return own && typeof own === 'object' && !Array.isArray(own) ? { ...base, ...(own as Record<string, unknown>) } : base;
}
