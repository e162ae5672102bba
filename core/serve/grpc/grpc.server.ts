import { readFile } from 'node:fs/promises';
import { Server, ServerCredentials, type ChannelOptions, type ServerDuplexStream } from '@grpc/grpc-js';
import { FlowConfigError } from '../../errors.js';
import type { TlsConfig } from '../../flow/config.js';
import { schemeOf, type RunningServer, type TransportFactory, type TransportOptions } from '../transport.js';
import { serveCallStream } from './call.stream.js';
import { GrpcHealth } from './grpc.health.js';
import { gatewayInterceptor } from './grpc.guard.js';
import {
  JINA_SERVICE_NAMES,
  jinaDiscoverEndpointsService,
  jinaGatewayDryRunService,
  jinaInfoService,
  jinaRpcService,
  jinaSingleDataRequestService,
} from './jina.services.js';
import { dryRun, endpointDiscovery, jinaStatus, processSingleData } from './unary.handlers.js';

/** gzip in grpc's compression-algorithm enum (0 identity, 1 deflate, 2 gzip). */
const GZIP = 2;

/**
 * grpc-js server options for a gateway.
 *
 * Keepalive: Jina's Python client pings about every 10 s, also between calls.
 * grpc-js 1.14's server has no ping-strike policy (it reads none of the
 * `grpc.http2.*ping*` keys and never answers pings with GOAWAY; Node's http2
 * acks them), so those pings are accepted as is. The C-core policy keys are
 * still set, permissively, so the intent survives a grpc-js that starts
 * enforcing them. What grpc-js does read is `keepalive_time_ms` /
 * `keepalive_timeout_ms`: the server's own pings, which drop half-open
 * connections so their in-flight requests are aborted instead of leaking.
 *
 * Compression: grpc-js always accepts gzip/deflate-compressed requests. 1.14 does
 * not compress responses yet; the default algorithm is set so it will once it does.
 */
export function grpcServerOptions(options: TransportOptions): ChannelOptions {
  return {
    'grpc.max_receive_message_length': options.maxMessageSize,
    'grpc.max_send_message_length': options.maxMessageSize,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    'grpc.http2.min_time_between_pings_ms': 5_000,
    'grpc.http2.max_ping_strikes': 0,
    ...(options.compression ? { 'grpc.default_compression_algorithm': GZIP } : {}),
  };
}

/** TLS from PEM files, or insecure; an unreadable file is a config error naming it. */
async function serverCredentials(tls: TlsConfig | undefined): Promise<ServerCredentials> {
  if (!tls) return ServerCredentials.createInsecure();
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (e) {
      throw new FlowConfigError(`cannot read TLS ${what} file ${path}: ${(e as Error).message}`);
    }
  };
  const [certChain, privateKey] = await Promise.all([read(tls.cert, 'certificate'), read(tls.key, 'key')]);
  // No client certificates: callers authenticate with a token in metadata, as with Jina.
  return ServerCredentials.createSsl(null, [{ private_key: privateKey, cert_chain: certChain }], false);
}

/** IPv6 literals need brackets in a host:port string. */
const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function bind(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) reject(new Error(`gRPC server cannot listen on ${address}: ${err.message}`, { cause: err }));
      else resolve(port);
    });
  });
}

/**
 * Starts the gRPC transport: Jina 3's services (`JinaRPC/Call`,
 * `process_single_data`, `endpoint_discovery`, `dry_run`, `_status`) and the
 * standard health service, in front of `handler`. Resolves once listening; the
 * returned server reports the real port when `options.port` is 0.
 */
export const startGrpcServer: TransportFactory = async (handler, options) => {
  const logger = options.logger;
  let draining = false;
  const server = new Server({ ...grpcServerOptions(options), interceptors: [gatewayInterceptor(handler, options.auth, () => draining)] });
  server.addService(jinaRpcService, {
    Call: (call: ServerDuplexStream<Buffer, Buffer>) => serveCallStream(call, handler, logger),
  });
  server.addService(jinaSingleDataRequestService, { process_single_data: processSingleData(handler, logger) });
  server.addService(jinaDiscoverEndpointsService, { endpoint_discovery: endpointDiscovery(handler, logger) });
  server.addService(jinaGatewayDryRunService, { dry_run: dryRun(handler, logger) });
  server.addService(jinaInfoService, { _status: jinaStatus(handler, logger) });
  const health = new GrpcHealth(handler, Object.values(JINA_SERVICE_NAMES));
  health.addTo(server);

  let port: number;
  try {
    port = await bind(server, hostPort(options.host, options.port), await serverCredentials(options.tls));
  } catch (e) {
    health.close();
    server.forceShutdown();
    throw e;
  }
  const url = `${schemeOf('grpc', !!options.tls)}://${hostPort(options.host, port)}`;
  logger.debug({ url, maxMessageSize: options.maxMessageSize }, 'gRPC server listening');

  let closing: Promise<void> | undefined;
  const close = (graceMs = 10_000): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // Load balancers watching health stop routing here before the listener goes.
      health.close();
      const force = setTimeout(() => {
        logger.warn({ graceMs }, 'gRPC calls still open after the grace period; cancelling them');
        // Cancelling the calls aborts the signals their requests were given.
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    }));

  const drain = (): void => {
    draining = true;
    health.drain();
  };
  return { protocol: 'grpc', host: options.host, port, url, close, drain } satisfies RunningServer;
};
