import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { decodeDataRequest, decodeStatus, encodeDataRequest } from '../proto/request.codec.js';
import type { DataRequest, RequestStatus } from '../request/data-request.js';
import { ReplyRouter, type Connection, type ConnectionOptions, type RequestStream } from './connection.js';
import { TransportError } from './errors.js';

/** Jina's end-of-stream frame on the `bytes` subprotocol: Python's `bytes(True)`, one zero byte. */
const END_OF_STREAM = Buffer.from([0]);
const DEFAULT_DRY_RUN_MS = 10_000;

function frameBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * WebSocket transport (subprotocol `bytes`, what Jina's Python client speaks):
 * one socket per `post`, each request one binary DataRequestProto frame, each
 * reply one too; after the last reply we send the end-of-stream byte and close.
 */
export class WebSocketConnection implements Connection {
  constructor(private readonly options: ConnectionOptions) {}

  private url(path: string): string {
    const { tls, host, port, basePath } = this.options;
    return `${tls ? 'wss' : 'ws'}://${host}:${port}${basePath}${path}`;
  }

  private socketOptions(): ClientOptions {
    const o: ClientOptions = { maxPayload: this.options.maxMessageSize, perMessageDeflate: false };
    if (this.options.ca !== undefined) o.ca = this.options.ca;
    if (this.options.authorization) o.headers = { Authorization: this.options.authorization };
    if (this.options.timeoutMs) o.handshakeTimeout = this.options.timeoutMs;
    return o;
  }

  /** Connects; rejects with the handshake's failure (refused, TLS, HTTP status). */
  private connect(path: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url(path), 'bytes', this.socketOptions());
      socket.binaryType = 'nodebuffer';
      const fail = (e: Error, status?: number) => {
        socket.removeAllListeners();
        socket.on('error', () => {});
        reject(new TransportError(e.message, status, { cause: e }));
      };
      socket.once('open', () => {
        socket.removeAllListeners();
        resolve(socket);
      });
      socket.once('error', (e) => fail(e));
      socket.once('unexpected-response', (_req, res) => {
        socket.terminate();
        fail(new Error(`WebSocket upgrade refused with HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()), res.statusCode);
      });
    });
  }

  async open(): Promise<RequestStream> {
    const socket = await this.connect('/');
    const router = new ReplyRouter(this.options.timeoutMs);
    let closed = false;
    socket.on('message', (data, isBinary) => {
      let reply: DataRequest;
      try {
        if (!isBinary) throw new Error('expected a binary frame on the bytes subprotocol');
        reply = decodeDataRequest(frameBytes(data));
      } catch (e) {
        router.failAll(new TransportError(`undecodable reply from the server: ${(e as Error).message}`));
        return;
      }
      router.deliver(reply);
    });
    socket.on('error', (e) => router.failAll(new TransportError(e.message, undefined, { cause: e })));
    socket.on('close', (code, reason) => {
      closed = true;
      const why = reason.length ? `: ${reason.toString()}` : '';
      router.failAll(new TransportError(`the server closed the WebSocket (code ${code}${why}) before every reply arrived`));
    });

    return {
      send(request) {
        const reply = router.expect(request.requestId);
        if (closed) router.fail(request.requestId, new TransportError('the WebSocket is closed'));
        else {
          socket.send(encodeDataRequest(request), { binary: true }, (err) => {
            if (err) router.fail(request.requestId, new TransportError(err.message, undefined, { cause: err }));
          });
        }
        return reply;
      },
      async end() {
        if (closed) return;
        await new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.send(END_OF_STREAM, { binary: true }, () => socket.close(1000));
          // A server that never answers the close handshake must not hold the caller.
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 2_000).unref();
        });
      },
      abort(reason) {
        router.failAll(reason ?? new TransportError('request stream aborted'));
        socket.terminate();
      },
    };
  }

  /**
   * Jina's WebSocket gateway answers `/dry_run` with one StatusProto frame. A
   * gateway without that route treats it as an ordinary stream: our end-of-stream
   * byte makes it close cleanly (1000), which proves it is up and serving. A
   * server refusing the path (404) is judged by whether `/` opens.
   */
  async dryRun(): Promise<RequestStatus> {
    const ms = this.options.timeoutMs ?? DEFAULT_DRY_RUN_MS;
    let socket: WebSocket;
    try {
      socket = await this.connect('/dry_run');
    } catch (e) {
      if (!(e instanceof TransportError && e.status === 404)) throw e;
      (await this.connect('/')).terminate();
      return { code: 'SUCCESS', description: '' };
    }
    try {
      return await new Promise<RequestStatus>((resolve, reject) => {
        const timer = setTimeout(() => reject(new TransportError(`no dry-run reply within ${ms} ms`)), ms);
        socket.once('message', (data, isBinary) => {
          clearTimeout(timer);
          try {
            resolve(isBinary ? decodeStatus(frameBytes(data)) : statusFromJsonText(frameBytes(data).toString('utf8')));
          } catch (e) {
            reject(new TransportError(`undecodable dry-run status: ${(e as Error).message}`));
          }
        });
        socket.once('close', (code, reason) => {
          clearTimeout(timer);
          if (code === 1000) resolve({ code: 'SUCCESS', description: '' });
          else resolve({ code: 'ERROR', description: `WebSocket closed with code ${code}${reason.length ? `: ${reason.toString()}` : ''}` });
        });
        socket.once('error', (e) => reject(new TransportError(e.message, undefined, { cause: e })));
        socket.send(END_OF_STREAM, { binary: true });
      });
    } finally {
      socket.terminate();
    }
  }

  async close(): Promise<void> {}
}

function statusFromJsonText(text: string): RequestStatus {
  const o = JSON.parse(text) as { code?: unknown; description?: unknown };
  const error = o.code === 1 || o.code === 'ERROR';
  return { code: error ? 'ERROR' : 'SUCCESS', description: typeof o.description === 'string' ? o.description : '' };
}
