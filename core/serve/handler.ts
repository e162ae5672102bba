import type { DataRequest, RequestStatus } from '../request/data-request.js';
import type { Protocol } from '../flow/config.js';
import type { ErrorCode } from '../errors.js';

/** Per-call facts a transport hands to the gateway. */
export interface CallContext {
  protocol: Protocol;
  /** Aborted when the caller disconnects or cancels. */
  signal?: AbortSignal;
  /** Request headers / gRPC metadata, lower-cased keys. */
  metadata?: Record<string, string>;
  /** Epoch ms by which the caller stops waiting (a gRPC deadline); the flow aborts the work then. */
  deadline?: number;
}

/** Whether the process still makes progress; see {@link GatewayHandler.liveness}. */
export interface LivenessReport {
  live: boolean;
  /** Why not, naming the request ids and executors that are stuck. */
  reason?: string;
  /** Requests whose executor work is still pending (including abandoned ones). */
  pending: number;
  /** Age in ms of the oldest pending executor work, 0 when none. */
  oldestMs: number;
}

/**
 * What every transport adapter talks to. Transports translate bytes/JSON into a
 * DataRequest, call `process`, and translate the reply back; nothing else.
 */
export interface GatewayHandler {
  /**
   * Runs a request through the flow. Executor failures and bad documents come back
   * in-band (`response.status.code === 'ERROR'`, with `errorCode`); it throws only
   * for failures of the framework itself.
   */
  process(request: DataRequest, ctx: CallContext): Promise<DataRequest>;
  /** An empty request through every executor; SUCCESS when the whole flow answers. */
  dryRun(): Promise<RequestStatus>;
  /** Endpoints some executor serves (plus `/` when some executor has a default handler). */
  endpoints(): { endpoints: string[]; writeEndpoints: string[] };
  /** Version and environment facts for `_status` / `GET /status`. */
  info(): { jina: Record<string, string>; envs: Record<string, string> };
  /** True once every executor finished `init()` and until shutdown starts. */
  ready(): boolean;
  /** Prometheus text exposition of the process's metrics. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /**
   * Liveness, as opposed to readiness: false once executor work has been stuck past
   * the configured threshold (a wedged handler). Optional: handlers without it are always live.
   */
  liveness?(): LivenessReport;
  /** Counts a request a transport refused before it reached `process` (bad bytes, auth, size, draining). */
  recordRejection?(protocol: Protocol, code: ErrorCode): void;
}
