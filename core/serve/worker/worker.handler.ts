import type { Logger } from 'pino';
import { ClipflowError, ExecutorError, UnavailableError, errorCodeOf } from '../../errors.js';
import type { ExecutorRegistry } from '../../executor/registry.js';
import { DEFAULT_LIVENESS_STUCK_MS } from '../../flow/config.js';
import { executorParameters } from '../../flow/dag.js';
import { processFacts, publicEnvs } from '../../config/process-info.js';
import type { FlowNode } from '../../flow/node.js';
import { RunTracker } from '../../flow/run-tracker.js';
import { DataRequest, executorErrorStatus, nowMs, type RequestStatus, type Route } from '../../request/data-request.js';
import type { CallContext, GatewayHandler, LivenessReport } from '../handler.js';
import { WorkerMetrics } from './worker.metrics.js';
import { DEFAULT_WRITE_ENDPOINTS } from './worker.protocol.js';

/** The worker refused a request without running it (starting or draining): safe to send elsewhere. */
export class WorkerRejectedError extends UnavailableError {}

type State = 'starting' | 'ready' | 'draining' | 'closed';

/**
 * One executor behind the `GatewayHandler` interface, so the gateway's gRPC
 * pieces (Call stream, dry_run, _status, health) serve a worker unchanged.
 * It runs requests through a FlowNode (normally an ExecutorNode: replicas,
 * dynamic batching) exactly as the in-process gateway does, minus the DAG.
 */
export class WorkerHandler implements GatewayHandler {
  readonly telemetry: WorkerMetrics;
  private state: State = 'starting';
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private readonly runs: RunTracker;

  constructor(
    readonly node: FlowNode,
    private readonly logger: Logger,
    /** Which shard of the executor this worker is, for `_status`. */
    private readonly shard?: number,
    /** Executor work pending longer than this makes the worker not live (health service `liveness`). */
    stuckMs = DEFAULT_LIVENESS_STUCK_MS,
  ) {
    this.telemetry = new WorkerMetrics(node.name);
    this.runs = new RunTracker(stuckMs);
  }

  get name(): string {
    return this.node.name;
  }

  /** Constructs and initialises the executor; health turns SERVING only after this. */
  async start(registry: ExecutorRegistry, path: string): Promise<void> {
    await this.node.start(registry, path);
    if (this.state === 'starting') this.state = 'ready';
  }

  ready(): boolean {
    return this.state === 'ready';
  }

  /**
   * Runs one request on the executor. Executor failures come back in-band, like
   * the gateway reports them; a request that arrives while starting or draining
   * is refused with WorkerRejectedError before anything runs.
   */
  async process(request: DataRequest, ctx: CallContext): Promise<DataRequest> {
    if (this.state !== 'ready') throw new WorkerRejectedError(`executor ${this.name} is ${this.state === 'starting' ? 'still starting' : 'shutting down'}`);
    const started = performance.now();
    const response = new DataRequest({
      requestId: request.requestId,
      endpoint: request.endpoint,
      parameters: request.parameters,
      docs: request.docs,
      routes: request.routes,
    });
    this.inFlight++;
    this.telemetry.inflight.inc({ executor: this.name });
    try {
      // An endpoint this executor has no handler for passes through untouched, as Jina skips it.
      if (this.node.handles(request.endpoint)) {
        const call = this.node.call(request.endpoint, request.docs, executorParameters(request.parameters, this.name), ctx.signal);
        // Watched until it settles, even past a cancelled call: a wedged handler must show in liveness.
        const route: Route = { executor: this.name, startTime: nowMs() };
        this.runs.track(request.requestId, request.endpoint, [route], call.finally(() => (route.endTime = nowMs())));
        const out = await call;
        response.docs = out.docs;
        if (out.result) {
          const previous = (request.parameters.__results__ ?? {}) as Record<string, unknown>;
          response.parameters = { ...request.parameters, __results__: { ...previous, [this.name]: out.result } };
        }
      }
      response.status = { code: 'SUCCESS', description: '' };
    } catch (e) {
      response.status = this.failure(e, request);
    } finally {
      this.inFlight--;
      this.telemetry.inflight.dec({ executor: this.name });
      if (this.inFlight === 0) this.drained?.();
    }
    const outcome = response.status.code === 'ERROR' ? (response.status.errorCode ?? 'INTERNAL') : 'OK';
    this.telemetry.requests.inc({ executor: this.name, endpoint: request.endpoint, status: outcome });
    this.telemetry.latency.observe({ executor: this.name, endpoint: request.endpoint }, (performance.now() - started) / 1000);
    return response;
  }

  /** The in-band status the gateway would have produced for the same failure in-process. */
  private failure(e: unknown, request: DataRequest): RequestStatus {
    const executor = this.name;
    if (e instanceof ExecutorError) {
      this.logger[e.code === 'INVALID_ARGUMENT' ? 'debug' : 'error']({ err: e.original, requestId: request.requestId, executor }, 'executor failed');
      return executorErrorStatus(e);
    }
    if (e instanceof ClipflowError) {
      return { code: 'ERROR', description: `${executor}: ${e.message}`, exception: { name: e.name, args: [e.message], stacks: [], executor }, errorCode: e.code };
    }
    this.logger.error({ err: e, requestId: request.requestId, executor }, 'internal error');
    const message = `internal error in executor ${executor} (request ${request.requestId})`;
    return { code: 'ERROR', description: message, exception: { name: 'InternalError', args: [message], stacks: [], executor }, errorCode: errorCodeOf(e) };
  }

  /** Live unless executor work has been pending past the threshold (a wedged handler). */
  liveness(): LivenessReport {
    return this.runs.report();
  }

  async dryRun(): Promise<RequestStatus> {
    if (this.state === 'ready') return { code: 'SUCCESS', description: '' };
    return { code: 'ERROR', description: `executor ${this.name} is not ready (${this.state})`, errorCode: 'UNAVAILABLE' };
  }

  /**
   * Endpoints as Jina's worker lists them (`/default` for a default handler),
   * and the write endpoints among them: the usual CRUD writes plus whatever
   * the flow declares in `metas.write_endpoints`. UNAVAILABLE while starting.
   */
  endpoints(): { endpoints: string[]; writeEndpoints: string[] } {
    // Handlers are known only once the executor is built: an empty list now would read as "serves nothing".
    if (this.state === 'starting') throw new WorkerRejectedError(`executor ${this.name} is still starting`);
    const endpoints = this.node.endpoints();
    const declared = this.node.config.uses.metas.write_endpoints;
    const extra = (Array.isArray(declared) ? declared : typeof declared === 'string' ? [declared] : []).map((e) => {
      const s = String(e);
      return s.startsWith('/') ? s : `/${s}`;
    });
    const writes = new Set([...DEFAULT_WRITE_ENDPOINTS.filter((w) => this.node.handles(w)), ...extra]);
    return { endpoints, writeEndpoints: [...writes].sort() };
  }

  /** Facts for `_status`; the executor's own `status()` keys come prefixed with `status.`. */
  info(): { jina: Record<string, string>; envs: Record<string, string> } {
    const envs = publicEnvs();
    const status = Object.entries(this.node.status()).map(([k, v]) => [`status.${k}`, v]);
    return {
      jina: {
        ...processFacts(),
        role: 'worker',
        executor: this.name,
        ...(this.shard !== undefined ? { shard: String(this.shard) } : {}),
        replicas: String(this.node.config.replicas),
        uptime: `${Math.round(process.uptime())}s`,
        ...Object.fromEntries(status),
      },
      envs,
    };
  }

  async metrics(): Promise<{ contentType: string; body: string }> {
    return this.telemetry.render();
  }

  /** Stops accepting (health turns NOT_SERVING), then waits up to `graceMs` for requests in flight. */
  async drain(graceMs: number): Promise<void> {
    if (this.state === 'draining' || this.state === 'closed') return;
    this.state = 'draining';
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
      setTimeout(resolve, graceMs).unref();
    });
  }

  /** Drains (if not yet) and closes the executor. */
  async close(graceMs = 30_000): Promise<void> {
    if (this.state === 'closed') return;
    await this.drain(graceMs);
    this.state = 'closed';
    await this.node.close();
  }
}
