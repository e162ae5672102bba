import { Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { GrpcCode } from '../../errors.js';
import { decodeDataRequest, encodeDataRequest } from '../../proto/request.codec.js';
import type { DataRequest } from '../../request/data-request.js';
import { grpcErrorOf, metadataRecord } from '../grpc/grpc.errors.js';
import { asBuffer } from '../grpc/jina.services.js';
import { WorkerRejectedError, type WorkerHandler } from './worker.handler.js';
import { ERROR_CODE_TRAILER, REJECTED_TRAILER } from './worker.protocol.js';

type UnaryHandler = (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void;

/**
 * `process_single_data` on a worker. Like the gateway's, executor failures are
 * answered in-band; on top of that the reply carries the error code as a
 * trailer (so the gateway can tell a bad document from a crash), and a request
 * refused while starting or draining is UNAVAILABLE with the `rejected` trailer,
 * which tells the gateway it never ran.
 */
export function workerProcessSingleData(handler: WorkerHandler, logger: Logger): UnaryHandler {
  return (call, callback) => {
    let request: DataRequest;
    try {
      request = decodeDataRequest(call.request);
    } catch (e) {
      callback(grpcErrorOf(e, undefined, logger));
      return;
    }
    const controller = new AbortController();
    const onCancel = (): void => controller.abort(new Error('the gateway cancelled the call'));
    call.once('cancelled', onCancel);
    const ctx = { protocol: 'grpc' as const, signal: controller.signal, metadata: metadataRecord(call.metadata) };
    void (async () => {
      // Settled first and sent once, outside the try, so the callback can never run twice.
      let send: () => void;
      try {
        const response = await handler.process(request, ctx);
        const reply = asBuffer(encodeDataRequest(response));
        const trailer = new Metadata();
        if (response.status?.code === 'ERROR') trailer.set(ERROR_CODE_TRAILER, response.status.errorCode ?? 'INTERNAL');
        send = () => callback(null, reply, trailer);
      } catch (e) {
        if (e instanceof WorkerRejectedError) {
          const metadata = new Metadata();
          metadata.set(REJECTED_TRAILER, '1');
          send = () => callback({ code: GrpcCode.UNAVAILABLE, details: e.message, metadata });
        } else {
          const error = grpcErrorOf(e, request.requestId, logger);
          send = () => callback(error);
        }
      } finally {
        call.off('cancelled', onCancel);
      }
      send();
    })();
  };
}
