import type { DataRequest } from '../request/data-request.js';

/**
 * A request the server answered in-band with `header.status = ERROR` (Jina's way
 * of reporting an executor's exception). The message names the executor and
 * carries the server's description; the fields keep the parts apart for code.
 */
export class RemoteError extends Error {
  /** The exception's class name as the server reports it (e.g. `RangeError`), or `ERROR` when it sent none. */
  readonly code: string;
  /** The executor that raised it; empty when the gateway itself refused the request. */
  readonly executor: string;
  /** The server's `status.description`. */
  readonly description: string;
  /** The whole reply, for callers that want routes or parameters. */
  readonly response: DataRequest;

  constructor(response: DataRequest) {
    const status = response.status;
    const description = status?.description || status?.exception?.args?.[0] || 'request failed';
    const executor = status?.exception?.executor ?? '';
    const code = status?.exception?.name || 'ERROR';
    // The gateway often prefixes the description with the executor name already; don't say it twice.
    const where = executor && !description.startsWith(`${executor}:`) ? ` (executor ${executor})` : '';
    super(`${response.endpoint} failed: ${description}${where} [${code}]`);
    this.name = 'RemoteError';
    this.code = code;
    this.executor = executor;
    this.description = description;
    this.response = response;
  }
}

/**
 * The connection to the server failed or broke (refused, reset, TLS, HTTP status
 * without a Jina body, timeout). The message is the underlying transport's.
 */
export class TransportError extends Error {
  constructor(
    message: string,
    /** HTTP status or gRPC status code, when the transport gave one. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** The message of any thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
