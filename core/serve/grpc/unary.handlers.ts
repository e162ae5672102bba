import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { decodeDataRequest, encodeDataRequest, encodeEndpoints, encodeInfo, encodeStatus } from '../../proto/request.codec.js';
import { ClipflowError, STATUS_MAP, type ErrorCode } from '../../errors.js';
import type { DataRequest, RequestStatus } from '../../request/data-request.js';
import type { GatewayHandler } from '../handler.js';
import { asBuffer } from './jina.services.js';
import { grpcErrorOf, metadataRecord, type GrpcError } from './grpc.errors.js';
import { deadlineMs } from './grpc.guard.js';

type UnaryCall = ServerUnaryCall<Buffer, Buffer>;
type Reply = sendUnaryData<Buffer>;
type UnaryHandler = (call: UnaryCall, callback: Reply) => void;

/**
 * Gateway refusals about the call rather than its content. On a unary call they
 * become the gRPC status, so deadlines, retries on UNAVAILABLE and
 * RESOURCE_EXHAUSTED work as every gRPC client expects; on the `Call` stream,
 * which carries many requests, they stay in-band per request.
 */
export const CALL_LEVEL_CODES: ReadonlySet<ErrorCode> = new Set(['DEADLINE_EXCEEDED', 'CANCELLED', 'UNAVAILABLE', 'PAYLOAD_TOO_LARGE', 'UNAUTHENTICATED']);

/** The gRPC status for a response the gateway itself refused with a call-level code, else undefined. */
export function callLevelStatus(response: DataRequest): GrpcError | undefined {
  const s = response.status;
  if (s?.code !== 'ERROR' || !s.errorCode || s.exception?.executor || !CALL_LEVEL_CODES.has(s.errorCode)) return undefined;
  return { code: STATUS_MAP[s.errorCode].grpc, details: s.description };
}

/**
 * `process_single_data`: one request through the flow. Executor failures and
 * bad documents come back in-band (header.status ERROR with the exception, as
 * Jina reports them); a message we cannot decode, a call-level refusal
 * (timeout, shutdown, too many documents) or a failure of the framework itself
 * becomes a gRPC status.
 */
export function processSingleData(handler: GatewayHandler, logger: Logger): UnaryHandler {
  return (call, callback) => {
    let request: DataRequest;
    try {
      request = decodeDataRequest(call.request);
    } catch (e) {
      handler.recordRejection?.('grpc', 'INVALID_ARGUMENT');
      callback(grpcErrorOf(e, undefined, logger));
      return;
    }
    const controller = new AbortController();
    const onCancel = (): void => controller.abort(new Error('client cancelled the call'));
    call.once('cancelled', onCancel);
    const deadline = deadlineMs(call.getDeadline());
    const ctx = { protocol: 'grpc' as const, signal: controller.signal, metadata: metadataRecord(call.metadata), ...(deadline !== undefined ? { deadline } : {}) };
    void (async () => {
      // The reply is settled first and sent once, outside the try, so the callback can never run twice.
      let reply: Buffer | undefined;
      let error: GrpcError | undefined;
      try {
        const response = await handler.process(request, ctx);
        error = callLevelStatus(response);
        if (!error) reply = asBuffer(encodeDataRequest(response));
      } catch (e) {
        error = grpcErrorOf(e, request.requestId, logger);
      } finally {
        call.off('cancelled', onCancel);
      }
      if (error) callback(error);
      else callback(null, reply);
    })();
  };
}

/** `endpoint_discovery`: the endpoints some executor serves. The `Empty` request carries nothing to decode. */
export function endpointDiscovery(handler: GatewayHandler, logger: Logger): UnaryHandler {
  return (_call, callback) => {
    try {
      const { endpoints, writeEndpoints } = handler.endpoints();
      callback(null, asBuffer(encodeEndpoints(endpoints, writeEndpoints)));
    } catch (e) {
      callback(grpcErrorOf(e, undefined, logger));
    }
  };
}

/**
 * `dry_run`: an empty request through the flow. Like Jina, a failure is reported
 * in the returned `StatusProto` (ERROR), not as a gRPC error, so health tooling
 * can read why; an unexpected throw is logged and summarised generically.
 */
export function dryRun(handler: GatewayHandler, logger: Logger): UnaryHandler {
  return (_call, callback) => {
    handler.dryRun().then(
      (status) => callback(null, asBuffer(encodeStatus(status))),
      (e: unknown) => {
        const { details } = grpcErrorOf(e, 'dry_run', logger);
        const status: RequestStatus = {
          code: 'ERROR',
          description: details,
          exception: { name: e instanceof ClipflowError ? e.name : 'InternalError', args: [details], stacks: [], executor: '' },
        };
        callback(null, asBuffer(encodeStatus(status)));
      },
    );
  };
}

/** `_status`: version and environment facts (`JinaInfoProto`). */
export function jinaStatus(handler: GatewayHandler, logger: Logger): UnaryHandler {
  return (_call, callback) => {
    try {
      const { jina, envs } = handler.info();
      callback(null, asBuffer(encodeInfo(jina, envs)));
    } catch (e) {
      callback(grpcErrorOf(e, undefined, logger));
    }
  };
}
