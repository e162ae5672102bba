import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import { ClipflowError } from '../../errors.js';
import type { DataRequest } from '../../request/data-request.js';
import type { GatewayHandler } from '../handler.js';
import { decodeFrame, encodeDryRun, encodeError, encodeInvalid, encodeReply, type Outgoing, type WsMode } from './frames.js';

/**
 * One client socket. Every frame starts its own task, so many requests are in
 * flight at once and each reply goes out as soon as it is ready (Jina's client
 * matches replies by request id, not by order).
 */
export class WsSession {
  private readonly pending = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  /** The client sent its end-of-stream marker; close once the replies are out. */
  private ended = false;
  /** Server-side liveness: set on pong, cleared on each heartbeat ping. */
  alive = true;

  constructor(
    readonly ws: WebSocket,
    readonly mode: WsMode,
    private readonly handler: GatewayHandler,
    private readonly metadata: Record<string, string>,
    private readonly log: Logger,
    /** True once the server is draining: new requests are refused, in-flight ones finish. */
    private readonly draining: () => boolean,
  ) {
    ws.on('message', (data: RawData) => this.onFrame(data));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', (code: number) => this.onClose(code));
    // Oversized frames (1009), invalid UTF-8 in text frames (1007) and other protocol
    // errors surface here; ws closes this socket itself, other sockets are untouched.
    ws.on('error', (err: Error & { code?: string }) => {
      this.log.debug({ err: err.message, code: err.code }, 'websocket error');
      this.handler.recordRejection?.('websocket', err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'PAYLOAD_TOO_LARGE' : 'INVALID_ARGUMENT');
    });
  }

  /** Requests still being processed on this socket. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Resolves when nothing is in flight (new tasks started meanwhile are waited for too). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private onFrame(data: RawData): void {
    if (this.ended) {
      this.log.debug('frame after end of stream ignored');
      return;
    }
    const frame = decodeFrame(this.mode, data);
    switch (frame.kind) {
      case 'end':
        this.ended = true;
        this.closeIfDone();
        return;
      case 'invalid':
        // The socket stays usable: only this frame is answered with an error.
        this.log.debug({ err: (frame.error as Error)?.message, requestId: frame.requestId }, 'undecodable frame');
        this.handler.recordRejection?.('websocket', 'INVALID_ARGUMENT');
        this.send(encodeInvalid(this.mode, frame.error, frame.requestId));
        return;
      case 'dryRun':
        this.track(async () => this.send(encodeDryRun(this.mode, await this.handler.dryRun())));
        return;
      case 'request':
        this.track((signal) => this.run(frame.request, signal));
        return;
    }
  }

  private track(task: (signal: AbortSignal) => Promise<void>): void {
    const ac = new AbortController();
    this.controllers.add(ac);
    const p: Promise<void> = task(ac.signal)
      .catch((err: unknown) => {
        this.log.error({ err }, 'websocket task failed');
        if (!ac.signal.aborted) this.send(encodeError(this.mode, 'INTERNAL', 'internal server error; see the server log', { errorName: 'InternalError' }));
      })
      .finally(() => {
        this.controllers.delete(ac);
        this.pending.delete(p);
        this.closeIfDone();
      });
    this.pending.add(p);
  }

  private async run(request: DataRequest, signal: AbortSignal): Promise<void> {
    if (this.draining()) {
      this.send(encodeError(this.mode, 'UNAVAILABLE', 'server is shutting down', { request, errorName: 'UnavailableError' }));
      return;
    }
    let res: DataRequest;
    try {
      res = await this.handler.process(request, { protocol: 'websocket', signal, metadata: this.metadata });
    } catch (e) {
      if (signal.aborted) return; // the client is gone; nobody to tell
      if (e instanceof ClipflowError && e.code !== 'INTERNAL') {
        this.send(encodeError(this.mode, e.code, e.message, { request, errorName: e.name }));
        return;
      }
      this.log.error({ err: e, requestId: request.requestId }, 'request failed');
      const msg = `internal error while processing request ${request.requestId}; see the server log`;
      this.send(encodeError(this.mode, 'INTERNAL', msg, { request, errorName: 'InternalError' }));
      return;
    }
    this.send(encodeReply(this.mode, res));
  }

  private send(payload: Outgoing): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(payload, { binary: typeof payload !== 'string' }, (err) => {
      if (err) this.log.debug({ err: err.message }, 'websocket send failed');
    });
  }

  private closeIfDone(): void {
    // ws queues the close frame behind the replies already sent, so none is lost.
    if (this.ended && this.pending.size === 0 && this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
  }

  private onClose(code: number): void {
    if (this.controllers.size) this.log.debug({ code, inFlight: this.controllers.size }, 'socket closed with requests in flight');
    for (const ac of this.controllers) ac.abort(new Error('websocket closed'));
  }
}
