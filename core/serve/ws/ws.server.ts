import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { STATUS_MAP } from '../../errors.js';
import type { GatewayHandler } from '../handler.js';
import { schemeOf, type RunningServer, type TransportFactory, type TransportOptions } from '../transport.js';
import { WsSession } from './session.js';
import type { AuthGuard } from '../auth.js';
import type { WsMode } from './frames.js';

/** How often idle peers are pinged; one that misses a pong is dropped (and its requests aborted). */
export const HEARTBEAT_MS = 30_000;
/** Default time `close()` lets in-flight requests run before closing sockets. */
export const DEFAULT_GRACE_MS = 10_000;
/** How long closing sockets get to finish the close handshake before being cut. */
const CLOSE_HANDSHAKE_MS = 1_000;

/** Picks the subprotocol: `bytes` when offered (Jina's client), else `json`. Offering neither gets no header → json. */
export function pickProtocol(offered: Set<string>): string | false {
  if (offered.has('bytes')) return 'bytes';
  if (offered.has('json')) return 'json';
  return false;
}

function headerMetadata(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/**
 * The upgrade's `Authorization` header, or a `token` query parameter: browsers
 * cannot set headers on a WebSocket, so `ws://host/?token=...` is accepted too
 * (the token then sits in the URL: keep it off shared logs, prefer the header).
 */
export function upgradeAuthorized(auth: AuthGuard, req: IncomingMessage): boolean {
  if (auth.accepts(req.headers.authorization)) return true;
  const query = (req.url ?? '').split('?')[1];
  const token = query ? new URLSearchParams(query).get('token') : null;
  return token !== null && auth.accepts(token);
}

/** Plain HTTP on the WebSocket port: `GET /` answers like Jina's health check, the rest asks for an upgrade. */
function plainHttp(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?', 1)[0];
  const [status, body] =
    req.method === 'GET' && path === '/'
      ? [200, {}]
      : [426, { error: { code: 'INVALID_ARGUMENT', status: 426, message: 'this port speaks WebSocket (subprotocol bytes or json); connect with a WebSocket client' } }];
  res.writeHead(status, { 'content-type': 'application/json', upgrade: 'websocket' }).end(JSON.stringify(body));
}

async function createServer(options: TransportOptions): Promise<Server> {
  if (!options.tls) return createHttpServer(plainHttp);
  const [key, cert] = await Promise.all([readFile(options.tls.key), readFile(options.tls.cert)]);
  return createHttpsServer({ key, cert }, plainHttp);
}

/**
 * Starts the WebSocket gateway on its own port: full duplex, many requests in
 * flight per socket, subprotocols `bytes` (DataRequestProto frames) and `json`.
 */
export const startWebSocketServer: TransportFactory = async (handler: GatewayHandler, options: TransportOptions): Promise<RunningServer> => {
  const log = options.logger;
  const server = await createServer(options);
  const sessions = new Set<WsSession>();
  let draining = false;

  const wss = new WebSocketServer({
    server,
    maxPayload: options.maxMessageSize,
    perMessageDeflate: options.compression ? { threshold: 1024 } : false,
    handleProtocols: (offered) => pickProtocol(offered),
    verifyClient: (info, cb) => {
      // The upgrade is the one moment a WebSocket carries HTTP headers: check the token here.
      if (options.auth && !upgradeAuthorized(options.auth, info.req)) {
        handler.recordRejection?.('websocket', 'UNAUTHENTICATED');
        return cb(false, STATUS_MAP.UNAUTHENTICATED.http, 'Unauthorized', { 'WWW-Authenticate': 'Bearer realm="clipflow"' });
      }
      if (draining) {
        handler.recordRejection?.('websocket', 'UNAVAILABLE');
        return cb(false, STATUS_MAP.UNAVAILABLE.http, 'server is shutting down');
      }
      cb(true);
    },
  });
  wss.on('error', (err) => log.error({ err }, 'websocket server error'));
  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const mode: WsMode = ws.protocol === 'bytes' ? 'bytes' : 'json';
    const session = new WsSession(ws, mode, handler, headerMetadata(req), log, () => draining);
    sessions.add(session);
    ws.once('close', () => sessions.delete(session));
    log.debug({ mode, remote: req.socket.remoteAddress }, 'websocket connected');
  });

  const heartbeat = setInterval(() => {
    for (const s of sessions) {
      if (!s.alive) {
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      s.ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${schemeOf('websocket', !!options.tls)}://${host}:${port}`;
  log.info({ url }, 'websocket gateway listening');

  let closed: Promise<void> | undefined;
  const close = (graceMs = DEFAULT_GRACE_MS): Promise<void> => {
    closed ??= (async () => {
      draining = true;
      clearInterval(heartbeat);
      // No new TCP connections; the callback fires once every socket is gone.
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.all([...sessions].map((s) => s.idle())).then(() => true);
      const inTime = await Promise.race([drained, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
      clearTimeout(timer);
      if (!inTime) log.warn({ graceMs }, 'websocket gateway: in-flight requests outlived the grace period');
      // 1001 = going away; closing aborts whatever is still in flight.
      for (const s of sessions) s.ws.close(1001, 'server shutting down');
      const handshake = setTimeout(() => {
        for (const s of sessions) s.ws.terminate();
        server.closeAllConnections();
      }, CLOSE_HANDSHAKE_MS);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeIdleConnections();
      await serverClosed;
      clearTimeout(handshake);
      log.info({ url }, 'websocket gateway closed');
    })();
    return closed;
  };

  const drain = (): void => {
    draining = true;
  };
  return { protocol: 'websocket', host: options.host, port, url, close, drain };
};
