import type { Logger } from 'pino';
import { ClipflowError, ExecutorError, NotFoundError, UnavailableError, errorCodeOf, type ErrorCode } from '../errors.js';
import { ExecutorRegistry } from '../executor/registry.js';
import { DataRequest, executorErrorStatus, nowMs, type RequestStatus } from '../request/data-request.js';
import type { CallContext, GatewayHandler, LivenessReport } from '../serve/handler.js';
import { FlowMetrics } from '../telemetry/metrics.js';
import { childLogger } from '../telemetry/logger.js';
import { inSpan } from '../telemetry/tracing.js';
import { processFacts, publicEnvs } from '../config/process-info.js';
import { registerBuiltins } from '../../executors/index.js';
import { livenessStuckMs, type FlowConfig, type Protocol } from './config.js';
import { Dag, GATEWAY } from './dag.js';
import { checkRequestLimits, limitsOf, type RequestLimits } from './limits.js';
import { RequestScope, requestBudget } from './request-scope.js';
import { RunTracker } from './run-tracker.js';
import { createNode, type FlowNode } from './node.js';
import { loadFlowFile, parseFlow, type FlowOverrides } from './load.js';

export interface FlowOptions {
  /** Executor classes to resolve `jtype`s from; defaults to one holding the built-ins. */
  registry?: ExecutorRegistry;
  logger?: Logger;
}

type State = 'new' | 'starting' | 'ready' | 'draining' | 'closing' | 'closed';

/** What a node may offer to receive the flow's metrics (in-process executors do). */
interface TelemetryAware {
  useTelemetry?(metrics: FlowMetrics): void;
}

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
  private readonly limits: RequestLimits;
  private readonly runs: RunTracker;
  private state: State = 'new';
  /** Requests not yet answered, with their cancellation scopes (shutdown aborts them). */
  private readonly active = new Set<RequestScope>();
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly config: FlowConfig,
    options: FlowOptions = {},
  ) {
    this.logger = options.logger ?? childLogger('flow', { flow: config.name });
    this.registry = options.registry ?? registerBuiltins(new ExecutorRegistry());
    this.nodes = config.executors.map((e) => createNode(e, this.logger));
    for (const n of this.nodes) (n as TelemetryAware).useTelemetry?.(this.telemetry);
    this.dag = new Dag(this.nodes);
    this.limits = limitsOf(config.gateway);
    this.runs = new RunTracker(livenessStuckMs(config.gateway));
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

  /**
   * Runs one request: limits, endpoint check, the DAG under the request's time
   * budget and the caller's signal. Always resolves with the response; failures
   * are in-band statuses with an `errorCode`.
   */
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
    const log = this.logger.child({ requestId: request.requestId, endpoint: request.endpoint, protocol: ctx.protocol });
    const scope = new RequestScope(requestBudget(this.config.gateway.timeout, request.timeout, ctx.deadline), ctx.signal);
    this.active.add(scope);
    this.telemetry.inFlight.inc({ protocol: ctx.protocol });
    const attributes = { 'clipflow.request_id': request.requestId, 'clipflow.endpoint': request.endpoint, 'clipflow.protocol': ctx.protocol, 'clipflow.documents': request.docs.length };
    try {
      await inSpan('clipflow.request', attributes, async () => {
        if (this.state !== 'ready') {
          throw new UnavailableError(this.state === 'draining' || this.state === 'closing' ? 'server is shutting down' : `flow is not ready (${this.state})`);
        }
        this.checkEndpoint(request.endpoint);
        checkRequestLimits(request.docs, this.limits);
        const results: Record<string, unknown> = {};
        const run = this.dag.run(request.docs, {
          endpoint: request.endpoint,
          parameters: request.parameters,
          targetExecutor: request.targetExecutor ? new RegExp(request.targetExecutor) : undefined,
          signal: scope.signal,
          routes: response.routes,
          results,
          onExecutorDone: (name, seconds, docs) => {
            this.telemetry.executorLatency.observe({ executor: name, endpoint: request.endpoint }, seconds);
            this.telemetry.documents.inc({ executor: name, endpoint: request.endpoint }, docs);
          },
        });
        // Tracked until the executors really let go, which may be long after we answer.
        this.runs.track(request.requestId, request.endpoint, response.routes, run);
        response.docs = await scope.race(run);
        if (Object.keys(results).length) response.parameters = { ...request.parameters, __results__: results };
      });
      response.status = { code: 'SUCCESS', description: '' };
    } catch (e) {
      response.status = this.failure(e, request, log);
    } finally {
      scope.dispose();
      gatewayRoute.endTime = nowMs();
      this.active.delete(scope);
      this.telemetry.inFlight.dec({ protocol: ctx.protocol });
      if (this.active.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
    const outcome: ErrorCode | 'OK' = response.status.code === 'ERROR' ? (response.status.errorCode ?? 'INTERNAL') : 'OK';
    const seconds = (gatewayRoute.endTime! - started) / 1000;
    this.telemetry.requests.inc({ endpoint: request.endpoint, protocol: ctx.protocol, status: outcome });
    this.telemetry.latency.observe({ endpoint: request.endpoint, protocol: ctx.protocol }, seconds);
    this.telemetry.requestDocuments.observe({ endpoint: request.endpoint, protocol: ctx.protocol }, request.docs.length);
    log.debug({ status: outcome, ms: Math.round(seconds * 1000), docs: request.docs.length }, 'request done');
    return response;
  }

  /** An endpoint nobody serves is the caller's mistake, unless the flow is empty (pure echo). */
  private checkEndpoint(endpoint: string): void {
    if (this.nodes.length === 0 || this.nodes.some((n) => n.handles(endpoint))) return;
    throw new NotFoundError(`no executor serves endpoint ${endpoint}; served endpoints: ${this.endpoints().endpoints.join(', ')}`);
  }

  /** Turns an exception into Jina's in-band status; unexpected ones are logged, not leaked. */
  private failure(e: unknown, request: DataRequest, log: Logger): RequestStatus {
    if (e instanceof ExecutorError) {
      this.telemetry.executorErrors.inc({ executor: e.executor, endpoint: request.endpoint });
      log[e.code === 'INVALID_ARGUMENT' ? 'debug' : 'error']({ err: e.original, executor: e.executor }, 'executor failed');
      return executorErrorStatus(e);
    }
    if (e instanceof ClipflowError) {
      // A timeout is worth a warning (something is slow); the caller's mistakes and hang-ups are not.
      log[e.code === 'DEADLINE_EXCEEDED' ? 'warn' : 'debug']({ code: e.code, reason: e.message }, 'request refused or abandoned');
      return { code: 'ERROR', description: e.message, exception: { name: e.name, args: [e.message], stacks: [], executor: '' }, errorCode: e.code };
    }
    log.error({ err: e }, 'internal error');
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
    const envs = publicEnvs();
    return {
      jina: {
        ...processFacts(),
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
    this.telemetry.stuck.set(this.runs.stuck());
    return this.telemetry.render();
  }

  /** Live unless executor work has been pending past `liveness_stuck_ms` (see RunTracker). */
  liveness(): LivenessReport {
    const report = this.runs.report();
    this.telemetry.stuck.set(report.live ? 0 : this.runs.stuck());
    return report;
  }

  recordRejection(protocol: Protocol, code: ErrorCode): void {
    this.telemetry.rejections.inc({ protocol, code });
  }

  /** Requests being processed now (answered ones whose handlers still run are not counted). */
  get inFlight(): number {
    return this.active.size;
  }

  /**
   * First step of shutdown: report not ready and refuse new requests with
   * UNAVAILABLE, while the ones in flight carry on.
   */
  drain(): void {
    if (this.state === 'ready') this.state = 'draining';
  }

  /** Resolves true once nothing is in flight, false if `ms` passes first. */
  whenIdle(ms: number): Promise<boolean> {
    if (this.active.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      timer.unref();
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(wake);
    });
  }

  /**
   * Drains (see `drain`), waits up to `graceMs` for in-flight requests, aborts the
   * ones still running (their callers get UNAVAILABLE), then closes every executor.
   */
  async close(graceMs = 30_000): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.drain();
    if (!(await this.whenIdle(graceMs))) {
      this.logger.warn({ graceMs, inFlight: this.active.size }, 'requests still running after the shutdown grace period; aborting them');
      for (const scope of this.active) scope.abort(new UnavailableError('server shut down before the request finished'));
      // Let the aborted requests send their replies before the executors go.
      await this.whenIdle(1_000);
    }
    this.state = 'closing';
    await this.closeNodes();
    this.state = 'closed';
  }

  private async closeNodes(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.close()));
  }
}
