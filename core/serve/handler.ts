import type { DataRequest, RequestStatus } from '../request/data-request.js';
import type { Protocol } from '../flow/config.js';

/** Per-call facts a transport hands to the gateway. */
export interface CallContext {
  protocol: Protocol;
  /** Aborted when the caller disconnects or cancels. */
  signal?: AbortSignal;
  /** Request headers / gRPC metadata, lower-cased keys. */
  metadata?: Record<string, string>;
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
}
