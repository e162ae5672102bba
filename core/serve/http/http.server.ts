import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fastifyCompress } from '@fastify/compress';
import { fastify, LogController, type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { schemeOf, type RunningServer, type TransportFactory, type TransportOptions } from '../transport.js';
import type { GatewayHandler } from '../handler.js';
import { genRequestId, installBodyParser, installCors } from './body.js';
import { HttpStatusError, installErrorHandling } from './errors.js';
import { installGuards } from './guard.js';
import { registerRoutes, type RouteTable } from './routes.js';

/** Default time `close()` lets in-flight requests run before cutting connections. */
export const DEFAULT_GRACE_MS = 10_000;

/** `host:port` for a URL, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function buildApp(options: TransportOptions): Promise<FastifyInstance> {
  const common: FastifyServerOptions = {
    loggerInstance: options.logger,
    // Per-request info lines would drown a busy gateway; errors are logged by our handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxMessageSize,
    genReqId: genRequestId,
    // We answer 503 ourselves during shutdown, in our error shape.
    return503OnClosing: false,
    // Routes carry endpoint names that can be long (`/encode/ViT-B-32::openai`).
    routerOptions: { maxParamLength: 1024 },
  };
  if (options.tls) {
    const [key, cert] = await Promise.all([readFile(options.tls.key), readFile(options.tls.cert)]);
    // fastify's types tie the instance to its server kind; every route we add works on both.
    const httpsOptions = { ...common, https: { key, cert } } as FastifyHttpsOptions<HttpsServer>;
    return fastify(httpsOptions) as unknown as FastifyInstance;
  }
  return fastify(common);
}

/**
 * Starts Jina's HTTP gateway shape on fastify: `POST /post` and `POST /<endpoint>`,
 * CRUD routes, health/status/dry-run/metrics/OpenAPI, JSON errors everywhere.
 */
export const startHttpServer: TransportFactory = async (handler: GatewayHandler, options: TransportOptions): Promise<RunningServer> => {
  const log = options.logger;
  const app = await buildApp(options);
  let closing = false;
  let draining = false;

  await app.register(fastifyCompress, {
    globalCompression: options.compression,
    // Clients may always send gzip bodies; fastify's body limit then counts inflated bytes.
    globalDecompression: true,
    encodings: ['gzip', 'deflate'],
    requestEncodings: ['gzip', 'deflate'],
    onUnsupportedRequestEncoding: (encoding) => new HttpStatusError(415, `content-encoding: ${encoding} is not supported; use gzip or deflate`),
  });

  installBodyParser(app);
  // CORS first: a 401 or 503 from the guards must still be readable by a browser.
  if (options.cors) installCors(app);
  installGuards(app, handler, options.auth, { draining: () => draining || closing, closing: () => closing });
  // The table is filled by registerRoutes; the not-found handler reads it lazily.
  let table: RouteTable | undefined;
  installErrorHandling(app, options.maxMessageSize, (path) => table?.allowed(path), (code) => handler.recordRejection?.('http', code));
  table = registerRoutes(app, handler, options);

  await app.listen({ host: options.host, port: options.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = `${schemeOf('http', !!options.tls)}://${hostPort(options.host, port)}`;
  log.info({ url }, 'http gateway listening');

  let closed: Promise<void> | undefined;
  const close = (graceMs = DEFAULT_GRACE_MS): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      const done = app.close();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        log.warn({ graceMs }, 'http gateway: in-flight requests outlived the grace period; closing their connections');
        // Destroying the sockets also aborts the requests' CallContext signals.
        app.server.closeAllConnections();
        await done;
      }
      log.info({ url }, 'http gateway closed');
    })();
    return closed;
  };

  const drain = (): void => {
    draining = true;
  };
  return { protocol: 'http', host: options.host, port, url, close, drain };
};
