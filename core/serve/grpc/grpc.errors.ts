import type { Metadata, StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { ClipflowError, STATUS_MAP } from '../../errors.js';

/** What a grpc-js handler passes to a unary callback or emits on a stream to end it with a status. */
export type GrpcError = Pick<StatusObject, 'code' | 'details'>;

/**
 * Maps an error thrown by the gateway handler (a framework failure, not an
 * executor's: those come back in-band) to a gRPC status. Typed errors keep their
 * code and their message, which was written for the caller; anything else is
 * logged in full and answered with a generic message, so no stack trace or
 * internal detail ever reaches the client.
 */
export function grpcErrorOf(e: unknown, requestId: string | undefined, logger: Logger): GrpcError {
  const rid = requestId ?? 'unknown';
  if (e instanceof ClipflowError && e.code !== 'INTERNAL') {
    const { grpc } = STATUS_MAP[e.code];
    // Our own failures (INTERNAL-class codes) deserve an error log; the caller's mistakes only debug.
    logger[grpc === STATUS_MAP.INTERNAL.grpc ? 'error' : 'debug']({ err: e, requestId: rid }, 'grpc request failed');
    return { code: grpc, details: e.message };
  }
  logger.error({ err: e, requestId: rid }, 'grpc request failed: internal error');
  return { code: STATUS_MAP.INTERNAL.grpc, details: `internal error (request id ${rid})` };
}

/**
 * gRPC metadata as the `CallContext` wants it: lower-cased keys (grpc-js already
 * normalises them), repeated values joined with `, ` as HTTP does, binary
 * (`-bin`) values base64-encoded so they stay strings.
 */
export function metadataRecord(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of Object.entries(metadata.toJSON())) {
    out[key.toLowerCase()] = values
      .map((v) => (typeof v === 'string' ? v : Buffer.from(v).toString('base64')))
      .join(', ');
  }
  return out;
}
