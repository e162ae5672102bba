import { setMaxListeners } from 'node:events';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { decodeDataRequest, encodeDataRequest } from '../../proto/request.codec.js';
import type { DataRequest } from '../../request/data-request.js';
import type { CallContext, GatewayHandler } from '../handler.js';
import { asBuffer } from './jina.services.js';
import { grpcErrorOf, metadataRecord, type GrpcError } from './grpc.errors.js';
import { deadlineMs } from './grpc.guard.js';

/**
 * Serves one `JinaRPC/Call` stream.
 *
 * Requests are processed concurrently as they arrive and each response is
 * written the moment it is ready, so a slow request never holds up a fast one;
 * the Jina client matches responses to requests by `request_id`, not by order.
 *
 * The call ends with OK only after the client half-closed and every request
 * read was answered. When a message cannot be decoded, or the handler throws (a
 * framework failure, not an executor's), reading stops, the requests already in
 * flight are still answered, and then the call ends with that status. A client
 * cancel or disconnect aborts the signal every in-flight request was given.
 */
export function serveCallStream(call: ServerDuplexStream<Buffer, Buffer>, handler: GatewayHandler, logger: Logger): void {
  const controller = new AbortController();
  // Every request in flight on the stream listens to this one signal (and stops
  // listening when it finishes), so dozens of listeners are normal, not a leak.
  setMaxListeners(0, controller.signal);
  // A deadline on the stream bounds every request on it.
  const deadline = deadlineMs(call.getDeadline());
  const ctx: CallContext = { protocol: 'grpc', signal: controller.signal, metadata: metadataRecord(call.metadata), ...(deadline !== undefined ? { deadline } : {}) };
  let inFlight = 0;
  // No more requests will be read: the client half-closed, cancelled, or we stopped after a failure.
  let inputDone = false;
  let failure: GrpcError | undefined;
  let finished = false;

  const finishIfDone = (): void => {
    if (finished || !inputDone || inFlight > 0) return;
    finished = true;
    if (call.cancelled) return;
    // grpc-js turns an emitted error into the trailing status once queued writes are flushed,
    // so every response written above still reaches the client before it.
    if (failure) call.emit('error', failure);
    else call.end();
  };

  const fail = (error: GrpcError): void => {
    failure ??= error;
    if (!inputDone) {
      inputDone = true;
      call.off('data', onData);
      call.pause();
    }
    finishIfDone();
  };

  const serve = async (request: DataRequest): Promise<void> => {
    try {
      const response = await handler.process(request, ctx);
      if (!call.cancelled && !finished) call.write(asBuffer(encodeDataRequest(response)));
    } catch (e) {
      fail(grpcErrorOf(e, request.requestId, logger));
    } finally {
      inFlight--;
      finishIfDone();
    }
  };

  function onData(bytes: Buffer): void {
    let request: DataRequest;
    try {
      request = decodeDataRequest(bytes);
    } catch (e) {
      handler.recordRejection?.('grpc', 'INVALID_ARGUMENT');
      fail(grpcErrorOf(e, undefined, logger));
      return;
    }
    inFlight++;
    void serve(request);
  }

  call.on('data', onData);
  call.on('end', () => {
    inputDone = true;
    finishIfDone();
  });
  call.on('cancelled', () => {
    inputDone = true;
    finished = true;
    controller.abort(new Error('client cancelled the call'));
  });
  // grpc-js also listens for 'error' (to turn it into the status); this one only keeps
  // a transport-level stream error from being reported as unhandled.
  call.on('error', (err: unknown) => {
    if (err !== failure) logger.debug({ err }, 'grpc Call stream error');
  });
}
