import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { serveCallStream } from '../grpc/call.stream.js';
import { GrpcHealth } from '../grpc/grpc.health.js';
import { grpcServerOptions } from '../grpc/grpc.server.js';
import {
  JINA_SERVICE_NAMES, jinaDiscoverEndpointsService, jinaGatewayDryRunService, jinaInfoService,
  jinaRpcService, jinaSingleDataRequestService,
} from '../grpc/jina.services.js';
import { dryRun, endpointDiscovery, jinaStatus } from '../grpc/unary.handlers.js';
import type { WorkerHandler } from './worker.handler.js';
import { workerProcessSingleData } from './worker.rpc.js';

/** Where and how a worker listens. */
export interface WorkerServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  maxMessageSize: number;
  /**
   * Connections older than this are closed gracefully (GOAWAY), so a gateway
   * resolving a headless Service re-resolves and finds pods added since.
   */
  maxConnectionAgeMs?: number;
  logger: Logger;
}

/** A listening worker. */
export interface RunningWorkerServer {
  host: string;
  port: number;
  url: string;
  /** Health NOT_SERVING, new requests refused, in-flight ones finished (up to `graceMs`), then the listener closes. */
  close(graceMs?: number): Promise<void>;
}

const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Starts the gRPC side of an executor worker: Jina's `process_single_data`,
 * `JinaRPC/Call`, `endpoint_discovery`, `dry_run`, `_status`, and the standard
 * health service, which stays NOT_SERVING until the executor's `init()` is done
 * (the server listens before that so probes get an answer, not a refusal).
 * Worker traffic is cluster-internal, so the listener is plaintext.
 */
export async function startWorkerServer(handler: WorkerHandler, options: WorkerServerOptions): Promise<RunningWorkerServer> {
  const { logger } = options;
  const server = new Server({
    ...grpcServerOptions({
      host: options.host, port: options.port, maxMessageSize: options.maxMessageSize, compression: false,
      cors: false, noDebugEndpoints: false, noCrudEndpoints: false, logger,
    }),
    'grpc.max_connection_age_ms': options.maxConnectionAgeMs ?? 300_000,
    'grpc.max_connection_age_grace_ms': 30_000,
  });
  server.addService(jinaSingleDataRequestService, { process_single_data: workerProcessSingleData(handler, logger) });
  server.addService(jinaRpcService, { Call: (call: ServerDuplexStream<Buffer, Buffer>) => serveCallStream(call, handler, logger) });
  server.addService(jinaDiscoverEndpointsService, { endpoint_discovery: endpointDiscovery(handler, logger) });
  server.addService(jinaGatewayDryRunService, { dry_run: dryRun(handler, logger) });
  server.addService(jinaInfoService, { _status: jinaStatus(handler, logger) });
  const health = new GrpcHealth(handler, Object.values(JINA_SERVICE_NAMES));
  health.addTo(server);

  const address = hostPort(options.host, options.port);
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(new Error(`worker cannot listen on ${address}: ${err.message}`, { cause: err })) : resolve(bound),
      ),
    );
  } catch (e) {
    health.close();
    server.forceShutdown();
    throw e;
  }
  const url = `grpc://${hostPort(options.host, port)}`;

  let closing: Promise<void> | undefined;
  const close = (graceMs = 30_000): Promise<void> =>
    (closing ??= (async () => {
      const started = Date.now();
      // Not ready from now on (load balancers and the gateway stop sending); still live while draining.
      health.drain();
      await handler.drain(graceMs);
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, Math.max(100, graceMs - (Date.now() - started)));
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      health.close();
    })());

  return { host: options.host, port, url, close };
}
