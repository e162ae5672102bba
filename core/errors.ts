/**
 * Typed errors. Each carries a code; one table maps codes to HTTP and gRPC status
 * so every transport reports the same failure the same way.
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'PAYLOAD_TOO_LARGE'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'UNAVAILABLE'
  | 'UNIMPLEMENTED'
  | 'EXECUTOR_FAILED'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

/** gRPC status numbers (grpc.status) without importing grpc-js into every module. */
export const GrpcCode = {
  OK: 0, CANCELLED: 1, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16,
} as const;

export const STATUS_MAP: Record<ErrorCode, { http: number; grpc: number }> = {
  INVALID_ARGUMENT: { http: 400, grpc: GrpcCode.INVALID_ARGUMENT },
  NOT_FOUND: { http: 404, grpc: GrpcCode.NOT_FOUND },
  UNAUTHENTICATED: { http: 401, grpc: GrpcCode.UNAUTHENTICATED },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GrpcCode.RESOURCE_EXHAUSTED },
  DEADLINE_EXCEEDED: { http: 504, grpc: GrpcCode.DEADLINE_EXCEEDED },
  // nginx's "client closed request": only ever seen in logs and metrics, the caller is gone.
  CANCELLED: { http: 499, grpc: GrpcCode.CANCELLED },
  UNAVAILABLE: { http: 503, grpc: GrpcCode.UNAVAILABLE },
  UNIMPLEMENTED: { http: 501, grpc: GrpcCode.UNIMPLEMENTED },
  EXECUTOR_FAILED: { http: 500, grpc: GrpcCode.INTERNAL },
  CONFIG_INVALID: { http: 500, grpc: GrpcCode.INTERNAL },
  INTERNAL: { http: 500, grpc: GrpcCode.INTERNAL },
};

export class ClipflowError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
  get httpStatus(): number {
    return STATUS_MAP[this.code].http;
  }
  get grpcStatus(): number {
    return STATUS_MAP[this.code].grpc;
  }
}

/** The caller sent something we cannot use; the message names the field or document. */
export class BadRequestError extends ClipflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

export class NotFoundError extends ClipflowError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class UnauthenticatedError extends ClipflowError {
  constructor(message = 'missing or invalid credentials') {
    super('UNAUTHENTICATED', message);
  }
}

export class PayloadTooLargeError extends ClipflowError {
  constructor(message: string) {
    super('PAYLOAD_TOO_LARGE', message);
  }
}

export class DeadlineExceededError extends ClipflowError {
  constructor(message: string) {
    super('DEADLINE_EXCEEDED', message);
  }
}

/** The caller went away (disconnect, cancel) before the request finished; its work is abandoned. */
export class CancelledError extends ClipflowError {
  constructor(message = 'the client cancelled the request or disconnected') {
    super('CANCELLED', message);
  }
}

export class UnavailableError extends ClipflowError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

/** A flow.yml (or CLI override) that cannot be served; `path` is the offending key path. */
export class FlowConfigError extends ClipflowError {
  constructor(message: string, readonly path?: string) {
    super('CONFIG_INVALID', path ? `${path}: ${message}` : message);
  }
}

/** Wraps an exception raised inside an executor, remembering which executor raised it. */
export class ExecutorError extends ClipflowError {
  constructor(
    readonly executor: string,
    readonly original: unknown,
  ) {
    const inner = original instanceof ClipflowError ? original.code : 'EXECUTOR_FAILED';
    super(inner === 'INTERNAL' ? 'EXECUTOR_FAILED' : inner, errorMessage(original), { cause: original });
  }
  /** Class name of the original exception, as Jina reports it. */
  get originalName(): string {
    return original(this.original);
  }
}

function original(e: unknown): string {
  return e instanceof Error ? e.name || e.constructor.name : typeof e;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The status code any thrown value maps to: our typed errors keep theirs, the rest are INTERNAL. */
export function errorCodeOf(e: unknown): ErrorCode {
  return e instanceof ClipflowError ? e.code : 'INTERNAL';
}
