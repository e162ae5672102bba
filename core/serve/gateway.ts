import type { Logger } from 'pino';
import { DEFAULT_SHUTDOWN_GRACE_MS, type FlowConfig, type Protocol } from '../flow/config.js';
import { Flow, type FlowOptions } from '../flow/flow.js';
import { childLogger } from '../telemetry/logger.js';
import { AuthGuard } from './auth.js';
import { startGrpcServer } from './grpc/grpc.server.js';
import type { GatewayHandler } from './handler.js';
import { startHttpServer } from './http/http.server.js';
import type { RunningServer, TransportFactory, TransportOptions } from './transport.js';
import { startWebSocketServer } from './ws/ws.server.js';

/** The transport adapter for each protocol. */
export const TRANSPORTS: Record<Protocol, TransportFactory> = {
  grpc: startGrpcServer,
  http: startHttpServer,
  websocket: startWebSocketServer,
};

export interface ServingFlow {
  flow: Flow;
  servers: RunningServer[];
  /**
   * Graceful shutdown: report not ready and refuse new requests (503 /
   * UNAVAILABLE) while listening on, wait up to `graceMs` (default: the flow's
   * `shutdown_grace_ms`) for in-flight requests, abort what is left, close the
   * transports, then the executors.
   */
  close(graceMs?: number): Promise<void>;
}

/** Starts one transport per (protocol, port) pair of the gateway config in front of `handler`. */
export async function startTransports(handler: GatewayHandler, config: FlowConfig, logger: Logger): Promise<RunningServer[]> {
  const gw = config.gateway;
  const auth = AuthGuard.fromConfig(gw);
  const servers: RunningServer[] = [];
  try {
    for (const [i, protocol] of gw.protocols.entries()) {
      const options: TransportOptions = {
        host: gw.host,
        port: gw.ports[i]!,
        maxMessageSize: gw.maxMessageSize,
        tls: gw.tls,
        compression: gw.compression,
        cors: gw.cors,
        title: gw.title,
        description: gw.description,
        noDebugEndpoints: gw.noDebugEndpoints,
        noCrudEndpoints: gw.noCrudEndpoints,
        logger: logger.child({ protocol }),
        ...(auth ? { auth } : {}),
      };
      servers.push(await TRANSPORTS[protocol](handler, options));
    }
  } catch (e) {
    await Promise.allSettled(servers.map((s) => s.close(0)));
    throw e;
  }
  return servers;
}

/**
 * Serves a flow: initialises its executors (the flow is ready only after every
 * `init()`), then opens every transport. Start-up failures close what was opened.
 */
export async function serveFlow(config: FlowConfig, options: FlowOptions = {}): Promise<ServingFlow> {
  const logger = options.logger ?? childLogger('gateway', { flow: config.name });
  const flow = new Flow(config, { ...options, logger });
  await flow.start();
  let servers: RunningServer[];
  try {
    servers = await startTransports(flow, config, logger);
  } catch (e) {
    await flow.close(0);
    throw e;
  }
  for (const s of servers) logger.info({ url: s.url }, 'listening');
  let closing: Promise<void> | undefined;
  const close = async (graceMs: number): Promise<void> => {
    const deadline = Date.now() + graceMs;
    // Not ready first, on every protocol at once, so balancers stop sending before anything closes.
    flow.drain();
    for (const s of servers) s.drain?.();
    logger.info({ inFlight: flow.inFlight, graceMs }, 'shutting down: draining in-flight requests');
    const idle = await flow.whenIdle(graceMs);
    // Past the grace period the flow aborts what is left (callers get UNAVAILABLE) ...
    if (!idle) await flow.close(0);
    // ... and the transports get what remains to flush replies, then cut connections.
    await Promise.allSettled(servers.map((s) => s.close(Math.max(1_000, deadline - Date.now()))));
    await flow.close(0);
    logger.info('shut down');
  };
  return {
    flow,
    servers,
    close(graceMs = config.gateway.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS) {
      return (closing ??= close(graceMs));
    },
  };
}
