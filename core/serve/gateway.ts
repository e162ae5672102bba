import type { Logger } from 'pino';
import type { FlowConfig, Protocol } from '../flow/config.js';
import { Flow, type FlowOptions } from '../flow/flow.js';
import { childLogger } from '../telemetry/logger.js';
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
  /** Stops every transport (letting in-flight calls finish), then the executors. */
  close(graceMs?: number): Promise<void>;
}

/** Starts one transport per (protocol, port) pair of the gateway config in front of `handler`. */
export async function startTransports(handler: GatewayHandler, config: FlowConfig, logger: Logger): Promise<RunningServer[]> {
  const gw = config.gateway;
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
  return {
    flow,
    servers,
    async close(graceMs = 30_000) {
      await Promise.allSettled(servers.map((s) => s.close(graceMs)));
      await flow.close(graceMs);
    },
  };
}
