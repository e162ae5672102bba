import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ClipflowError, type ErrorCode } from '../../errors.js';
import type { DataRequest } from '../../request/data-request.js';
import { ERROR_CODE_TRAILER, REJECTED_TRAILER } from '../../serve/worker/worker.protocol.js';
import type { UnaryOutcome } from './replica.js';

/**
 * How a failed call to a worker ended, which decides what the gateway may do next:
 * - `rejected`: the worker answered that it did not run the request (starting, draining);
 * - `unreachable`: the connection failed with the request possibly already sent;
 * - `deadline`: the worker took longer than `timeout_send`;
 * - `cancelled`: our caller went away;
 * - `failed`: any other gRPC status (the worker ran and refused it).
 */
export type FailureKind = 'rejected' | 'unreachable' | 'deadline' | 'cancelled' | 'failed';

// grpc-js reports a connection torn down mid-call as UNAVAILABLE, or sometimes as
// INTERNAL with the HTTP/2 reason in the message.
const CONNECTION_LOST = /RST_STREAM|ECONNRESET|EPIPE|Connection dropped|socket hang up|GOAWAY/i;

/** Sorts a grpc-js error into a {@link FailureKind}. */
export function classify(error: ServiceError, trailers?: { get(key: string): unknown[] }): FailureKind {
  const meta = trailers ?? error.metadata;
  if (error.code === GrpcStatus.UNAVAILABLE && meta?.get(REJECTED_TRAILER).length) return 'rejected';
  if (error.code === GrpcStatus.UNAVAILABLE) return 'unreachable';
  if (error.code === GrpcStatus.INTERNAL && CONNECTION_LOST.test(error.details ?? error.message)) return 'unreachable';
  if (error.code === GrpcStatus.DEADLINE_EXCEEDED) return 'deadline';
  if (error.code === GrpcStatus.CANCELLED) return 'cancelled';
  return 'failed';
}

const BY_GRPC: Partial<Record<number, ErrorCode>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [GrpcStatus.NOT_FOUND]: 'NOT_FOUND',
  [GrpcStatus.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'PAYLOAD_TOO_LARGE',
  [GrpcStatus.UNIMPLEMENTED]: 'UNIMPLEMENTED',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [GrpcStatus.UNAVAILABLE]: 'UNAVAILABLE',
};

const ERROR_CODES = new Set<string>(['INVALID_ARGUMENT', 'NOT_FOUND', 'UNAUTHENTICATED', 'PAYLOAD_TOO_LARGE', 'DEADLINE_EXCEEDED', 'UNAVAILABLE', 'UNIMPLEMENTED', 'EXECUTOR_FAILED', 'CONFIG_INVALID', 'INTERNAL']);

/**
 * An exception raised in a remote executor, rebuilt on the gateway side with the
 * remote class name (what Jina reports as `exception.name`) and our error code
 * from the worker's trailer (EXECUTOR_FAILED when a non-clipflow worker sent none).
 */
export class RemoteExecutorFailure extends ClipflowError {
  constructor(code: ErrorCode, remoteName: string, message: string) {
    super(code, message);
    this.name = remoteName || 'Error';
  }
}

/** The failure carried in-band by a worker's ERROR reply. */
export function inBandFailure(reply: DataRequest, outcome: UnaryOutcome): RemoteExecutorFailure {
  const status = reply.status!;
  const sent = String(outcome.trailers?.get(ERROR_CODE_TRAILER)[0] ?? '');
  const code: ErrorCode = ERROR_CODES.has(sent) ? (sent as ErrorCode) : 'EXECUTOR_FAILED';
  const message = status.exception?.args?.[0] ?? status.description.replace(/^[^:]+:\s*/, '');
  return new RemoteExecutorFailure(code, status.exception?.name ?? 'Error', message || 'the executor reported an error');
}

/** A gRPC status from a worker that ran (or refused) the call, as one of our errors. */
export function statusFailure(error: ServiceError, replica: string): ClipflowError {
  const code = BY_GRPC[error.code] ?? 'EXECUTOR_FAILED';
  return new ClipflowError(code, `worker ${replica} answered ${GrpcStatus[error.code] ?? error.code}: ${error.details || error.message}`);
}
