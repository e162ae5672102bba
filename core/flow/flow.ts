import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { ClipflowError, DeadlineExceededError, ExecutorError, NotFoundError, errorCodeOf, errorMessage } from '../errors.js';
import { ExecutorRegistry } from '../executor/registry.js';
import { DataRequest, nowMs, type RequestStatus } from '../request/data-request.js';
import type { CallContext, GatewayHandler } from '../serve/handler.js';
import { FlowMetrics } from '../telemetry/metrics.js';
import { childLogger } from '../telemetry/logger.js';
import { packagePath } from '../config/paths.js';
import { registerBuiltins } from '../../executors/index.js';
import type { FlowConfig } from './config.js';
import { Dag, GATEWAY } from './dag.js';
import { createNode, type FlowNode } from './node.js';
import { loadFlowFile, parseFlow, type FlowOverrides } from './load.js';

export interface FlowOptions {
  /** Executor classes to resolve `jtype`s from; defaults to one holding the built-ins. */
  registry?: ExecutorRegistry;
  logger?: Logger;
}

type State = 'new' | 'starting' | 'ready' | 'closing' | 'closed';

/**
 * A running flow: its executors (with replicas) wired as a DAG behind the
 * `GatewayHandler` interface that every transport calls.
 */
export class Flow implements GatewayHandler {
  readonly registry: ExecutorRegistry;
  readonly telemetry = new FlowMetrics();
  readonly logger: Logger;
  private readonly nodes: FlowNode[];
  private readonly dag: Dag;
  private state: State = 'new';
  private inFlight = 0;
  private drained: (() => void) | undefined;

  constructor(
    readonly config: FlowConfig,
    options: FlowOptions = {},
  ) {
    this.logger = options.logger ?? childLogger('flow', { flow: config.name });
    this.registry = options.registry ?? registerBuiltins(new ExecutorRegistry());
    this.nodes = config.executors.map((e) => createNode(e, this.logger));
    this.dag = new Dag(this.nodes);
  }

  static fromYaml(yaml: string, baseDir: string, overrides?: FlowOverrides, options?: FlowOptions): Flow {
    return new Flow(parseFlow(yaml, baseDir, overrides), options);
  }

  static async load(file: string, overrides?: FlowOverrides, options?: FlowOptions): Promise<Flow> {
    return new Flow(await loadFlowFile(file, overrides), options);
  }

  /** Constructs and initialises every executor; the flow is ready when all `init()`s resolved. */
  async start(): Promise<this> {
    if (this.state !== 'new') throw new Error(`flow cannot start from state ${this.state}`);
    this.state = 'starting';
    for (const w of this.config.warnings) this.logger.warn(w);
    try {
      await Promise.all(this.nodes.map((n, i) => n.start(this.registry, `executors[${i}]`)));
    } catch (e) {
      await this.closeNodes();
      this.state = 'closed';
      throw e;
    }
    this.state = 'ready';
    this.logger.info({ executors: this.nodes.map((n) => n.name) }, 'flow ready');
    for (const w of this.warnings()) this.logger.warn(w);
    return this;
  }

  ready(): boolean {
    return this.state === 'ready';
  }

  async process(request: DataRequest, ctx: CallContext): Promise<DataRequest> {
    const started = nowMs();
    const gatewayRoute = { executor: GATEWAY, startTime: started } as DataRequest['routes'][number];
    const response = new DataRequest({
      requestId: request.requestId,
      endpoint: request.endpoint,
      targetExecutor: request.targetExecutor,
      parameters: request.parameters,
      docs: request.docs,
      routes: [gatewayRoute],
    });
    this.inFlight++;
    try {
      if (this.state !== 'ready') throw new ClipflowError('UNAVAILABLE', `flow is not ready (${this.state})`);
      this.checkEndpoint(request.endpoint);
      const results: Record<string, unknown> = {};
      const run = this.dag.run(request.docs, {
        endpoint: request.endpoint,
        parameters: request.parameters,
        targetExecutor: request.targetExecutor ? new RegExp(request.targetExecutor) : undefined,
        signal: ctx.signal,
        routes: response.routes,
        results,
        onExecutorDone: (name, seconds, docs) => {
          this.telemetry.executorLatency.observe({ executor: name, endpoint: request.endpoint }, seconds);
          this.telemetry.documents.inc({ executor: name, endpoint: request.endpoint }, docs);
        },
      });
      response.docs = await withTimeout(run, this.config.gateway.timeout);
      if (Object.keys(results).length) response.parameters = { ...request.parameters, __results__: results };
      response.status = { code: 'SUCCESS', description: '' };
    } catch (e) {
      response.status = this.failure(e, request);
    } finally {
      gatewayRoute.endTime = nowMs();
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
    const outcome = response.status.code === 'ERROR' ? (response.status.errorCode ?? 'INTERNAL') : 'OK';
    this.telemetry.requests.inc({ endpoint: request.endpoint, protocol: ctx.protocol, status: outcome });
    this.telemetry.latency.observe({ endpoint: request.endpoint, protocol: ctx.protocol }, (gatewayRoute.endTime! - started) / 1000);
    return response;
  }

  /** An endpoint nobody serves is the caller's mistake, unless the flow is empty (pure echo). */
  private checkEndpoint(endpoint: string): void {
    if (this.nodes.length === 0 || this.nodes.some((n) => n.handles(endpoint))) return;
    throw new NotFoundError(`no executor serves endpoint ${endpoint}; served endpoints: ${this.endpoints().endpoints.join(', ')}`);
  }

  /** Turns an exception into Jina's in-band status; unexpected ones are logged, not leaked. */
  private failure(e: unknown, request: DataRequest): RequestStatus {
    if (e instanceof ExecutorError) {
      const log = e.code === 'INVALID_ARGUMENT' ? 'debug' : 'error';
      this.logger[log]({ err: e.original, requestId: request.requestId, executor: e.executor }, 'executor failed');
      return {
        code: 'ERROR',
        description: `${e.executor}: ${e.message}`,
        exception: { name: e.originalName, args: [e.message], stacks: [], executor: e.executor },
        errorCode: e.code,
      };
    }
    if (e instanceof ClipflowError) {
      return { code: 'ERROR', description: e.message, exception: { name: e.name, args: [e.message], stacks: [], executor: '' }, errorCode: e.code };
    }
    this.logger.error({ err: e, requestId: request.requestId }, 'internal error');
    const message = `internal error (request ${request.requestId})`;
    return { code: 'ERROR', description: message, exception: { name: 'InternalError', args: [message], stacks: [], executor: '' }, errorCode: errorCodeOf(e) };
  }

  async dryRun(): Promise<RequestStatus> {
    if (this.state === 'ready') return { code: 'SUCCESS', description: '' };
    return { code: 'ERROR', description: `flow is not ready (${this.state})`, errorCode: 'UNAVAILABLE' };
  }

  endpoints(): { endpoints: string[]; writeEndpoints: string[] } {
    const set = new Set<string>();
    for (const n of this.nodes) for (const e of n.endpoints()) set.add(e === '/default' ? '/' : e);
    return { endpoints: [...set].sort(), writeEndpoints: [] };
  }

  /** Warnings executors raise about how they run (e.g. a stand-in model); shown in the banner and /status. */
  warnings(): string[] {
    return this.nodes.map((n) => n.status().warning).filter((w): w is string => !!w);
  }

  info(): { jina: Record<string, string>; envs: Record<string, string> } {
    const envs: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CLIPFLOW_') && !/TOKEN|SECRET|KEY|PASS/i.test(k) && v) envs[k] = v;
    return {
      jina: {
        clipflow: packageVersion(),
        'jina-protocol': '3',
        'docarray-protocol': '1',
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        flow: this.config.name,
        executors: this.nodes.map((n) => n.name).join(','),
        uptime: `${Math.round(process.uptime())}s`,
        ...Object.fromEntries(this.nodes.flatMap((n) => Object.entries(n.status()).map(([k, v]) => [`${n.name}.${k}`, v]))),
        ...(this.warnings().length ? { warning: this.warnings().join(' | ') } : {}),
      },
      envs,
    };
  }

  async metrics(): Promise<{ contentType: string; body: string }> {
    return this.telemetry.render();
  }

  /** Stops taking requests, waits for in-flight ones (up to `graceMs`), then closes executors. */
  async close(graceMs = 30_000): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    await this.closeNodes();
    this.state = 'closed';
  }

  private async closeNodes(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.close()));
  }
}

let version: string | undefined;
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  return version;
}

async function withTimeout<T>(p: Promise<T>, ms: number | undefined): Promise<T> {
  if (!ms) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`request exceeded the ${ms} ms timeout`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
