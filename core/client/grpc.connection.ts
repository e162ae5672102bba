import * as grpc from '@grpc/grpc-js';
import { decodeDataRequest, decodeStatus, encodeDataRequest } from '../proto/request.codec.js';
import type { DataRequest, RequestStatus } from '../request/data-request.js';
import { ReplyRouter, type Connection, type ConnectionOptions, type RequestStream } from './connection.js';
import { TransportError } from './errors.js';

const CALL = '/jina.JinaRPC/Call';
const DRY_RUN = '/jina.JinaGatewayDryRunRPC/dry_run';
/** How long a dry run may take when the client has no timeout of its own. */
const DEFAULT_DRY_RUN_MS = 10_000;
/** How long `end()` waits for the server to close its side after the last reply. */
const END_GRACE_MS = 5_000;

// Messages travel as bytes; our codec does the protobuf work so errors read the same on every transport.
const toBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const asIs = (b: Buffer): Buffer => b;

/** grpc-js's error as a TransportError, minus the empty "Resolution note:" it appends to connection failures. */
function grpcFailure(e: grpc.ServiceError): TransportError {
  return new TransportError(e.message.replace(/\s*Resolution note:\s*$/, ''), e.code, { cause: e });
}

/**
 * gRPC transport: one `JinaRPC/Call` bidirectional stream per `post`, built on
 * grpc-js's generic client (no generated stubs). Keepalive pings every 10 s hold
 * long streams open through proxies and idle-killing load balancers.
 */
export class GrpcConnection implements Connection {
  private readonly client: grpc.Client;

  constructor(private readonly options: ConnectionOptions) {
    const creds = options.tls
      ? grpc.credentials.createSsl(options.ca === undefined ? null : Buffer.from(options.ca))
      : grpc.credentials.createInsecure();
    this.client = new grpc.Client(`${options.host}:${options.port}`, creds, {
      'grpc.max_receive_message_length': options.maxMessageSize,
      'grpc.max_send_message_length': options.maxMessageSize,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 20_000,
    });
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.options.authorization) md.set('authorization', this.options.authorization);
    return md;
  }

  async open(): Promise<RequestStream> {
    const router = new ReplyRouter(this.options.timeoutMs);
    const call = this.client.makeBidiStreamRequest(CALL, toBuffer, asIs, this.metadata());
    let aborted = false;
    let ended: () => void = () => {};
    const finished = new Promise<void>((resolve) => (ended = resolve));

    call.on('data', (bytes: Buffer) => {
      let reply: DataRequest;
      try {
        reply = decodeDataRequest(bytes);
      } catch (e) {
        router.failAll(new TransportError(`undecodable reply from the server: ${(e as Error).message}`));
        return;
      }
      router.deliver(reply);
    });
    call.on('error', (e: grpc.ServiceError) => {
      if (!aborted) router.failAll(grpcFailure(e));
      ended();
    });
    call.on('end', () => {
      if (router.size) router.failAll(new TransportError('the server closed the stream before every reply arrived'));
      ended();
    });
    call.on('status', () => ended());

    return {
      send(request) {
        const reply = router.expect(request.requestId);
        call.write(encodeDataRequest(request), (err?: Error | null) => {
          if (err) router.fail(request.requestId, new TransportError(err.message, undefined, { cause: err }));
        });
        return reply;
      },
      async end() {
        call.end();
        // Wait for the server's half-close so no stream outlives the post() that opened it,
        // but never hang a finished post() on a server that forgets to close.
        const timer = setTimeout(() => call.cancel(), END_GRACE_MS);
        await finished;
        clearTimeout(timer);
      },
      abort(reason) {
        aborted = true;
        router.failAll(reason ?? new TransportError('request stream aborted'));
        call.cancel();
      },
    };
  }

  dryRun(): Promise<RequestStatus> {
    const ms = this.options.timeoutMs ?? DEFAULT_DRY_RUN_MS;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        DRY_RUN,
        toBuffer,
        asIs,
        new Uint8Array(0),
        this.metadata(),
        { deadline: Date.now() + ms },
        (err: grpc.ServiceError | null, bytes?: Buffer) => {
          if (err) return reject(grpcFailure(err));
          try {
            resolve(decodeStatus(bytes ?? new Uint8Array(0)));
          } catch (e) {
            reject(new TransportError(`undecodable dry-run status: ${(e as Error).message}`));
          }
        },
      );
    });
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
