import { randomUUID } from 'node:crypto';
import { DocumentArray } from '../document/document-array.js';
import type { ErrorCode, ExecutorError } from '../errors.js';

/** Jina's `StatusProto.ExceptionProto`. */
export interface ExceptionInfo {
  name: string;
  args: string[];
  stacks: string[];
  executor: string;
}

/** Jina's `StatusProto`; `errorCode` is ours (never on the wire) and picks HTTP/gRPC status. */
export interface RequestStatus {
  code: 'SUCCESS' | 'ERROR';
  description: string;
  exception?: ExceptionInfo;
  errorCode?: ErrorCode;
}

/** The in-band status of a request an executor failed: Jina's shape, the executor's own exception name. */
export function executorErrorStatus(e: ExecutorError): RequestStatus {
  return {
    code: 'ERROR',
    description: `${e.executor}: ${e.message}`,
    exception: { name: e.originalName, args: [e.message], stacks: [], executor: e.executor },
    errorCode: e.code,
  };
}

/** One hop through the flow; times are epoch milliseconds (fractional for sub-ms precision). */
export interface Route {
  executor: string;
  startTime?: number;
  endTime?: number;
  status?: RequestStatus;
}

export interface DataRequestInit {
  requestId?: string;
  endpoint?: string;
  targetExecutor?: string;
  timeout?: number;
  parameters?: Record<string, unknown>;
  docs?: DocumentArray;
  routes?: Route[];
  status?: RequestStatus;
}

/** Epoch milliseconds with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The one request type every transport translates into and out of. The flow only
 * ever sees this; gRPC, HTTP and WebSocket adapters differ only in encoding.
 */
export class DataRequest {
  requestId: string;
  /** `header.exec_endpoint`; `/` is the default endpoint. */
  endpoint: string;
  targetExecutor?: string;
  timeout?: number;
  parameters: Record<string, unknown>;
  docs: DocumentArray;
  routes: Route[];
  status?: RequestStatus;

  constructor(init: DataRequestInit = {}) {
    this.requestId = init.requestId || randomUUID().replaceAll('-', '');
    this.endpoint = normalizeEndpoint(init.endpoint);
    if (init.targetExecutor) this.targetExecutor = init.targetExecutor;
    if (init.timeout !== undefined) this.timeout = init.timeout;
    this.parameters = init.parameters ?? {};
    this.docs = init.docs ?? new DocumentArray();
    this.routes = init.routes ?? [];
    if (init.status) this.status = init.status;
  }

  get failed(): boolean {
    return this.status?.code === 'ERROR';
  }
}

/** `''`, `undefined` and `/default` all mean the default endpoint `/`; a missing slash is added. */
export function normalizeEndpoint(endpoint: string | undefined | null): string {
  if (!endpoint || endpoint === '/default') return '/';
  return endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
}
