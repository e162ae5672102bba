import type { FastifyInstance, FastifyReply } from 'fastify';
import { STATUS_MAP, type ErrorCode } from '../../errors.js';
import { UNAUTHENTICATED_MESSAGE, type AuthGuard } from '../auth.js';
import type { GatewayHandler } from '../handler.js';
import { errorBody, pathOf } from './errors.js';

/** Where the HTTP server is in its life; read on every request. */
export interface HttpLifecycle {
  /** Shutdown began: data requests are refused, probes and metrics still answer. */
  draining(): boolean;
  /** The listener is closing: everything is refused. */
  closing(): boolean;
}

/** Methods that only read (health, metrics, status): still answered while draining. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The checks every HTTP request passes before routing, in this order: shutdown
 * (503), the token (401, before anything reveals more), draining (503 for data
 * requests only, so `/health` can say "not ready" and `/metrics` keeps reporting).
 * CORS preflights carry no credentials by design, so OPTIONS skips the token.
 */
export function installGuards(app: FastifyInstance, handler: GatewayHandler, auth: AuthGuard | undefined, life: HttpLifecycle): void {
  const refuse = (reply: FastifyReply, code: ErrorCode, message: string, headers: Record<string, string> = {}) => {
    handler.recordRejection?.('http', code);
    const status = STATUS_MAP[code].http;
    return reply.code(status).headers(headers).send(errorBody(code, status, message));
  };
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (life.closing()) return refuse(reply, 'UNAVAILABLE', 'server is shutting down', { connection: 'close' });
    if (auth && request.method !== 'OPTIONS' && !auth.isOpen(pathOf(request.url)) && !auth.accepts(request.headers.authorization)) {
      return refuse(reply, 'UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE, { 'www-authenticate': 'Bearer realm="clipflow"' });
    }
    if (life.draining() && !READS.has(request.method)) {
      return refuse(reply, 'UNAVAILABLE', 'server is shutting down; retry on another replica', { connection: 'close' });
    }
  });
  // Replies that finish while we drain tell the client not to reuse the socket,
  // so the server can close as soon as the last in-flight request is answered.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (life.draining()) reply.header('connection', 'close');
    return payload;
  });
}
