import type { Server } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { GatewayHandler } from '../handler.js';

/** How often the handler's readiness is mirrored into the health service. */
const SYNC_INTERVAL_MS = 200;

/**
 * The standard `grpc.health.v1.Health` service (from grpc-health-check) kept in
 * step with the gateway: SERVING for `''` and every listed service while
 * `handler.ready()`, NOT_SERVING before that and from the moment the server
 * starts closing. The package stores statuses rather than asking for them, so
 * readiness is polled; a cheap boolean read, on an unref'd timer.
 */
export class GrpcHealth {
  private readonly impl: HealthImplementation;
  private readonly timer: NodeJS.Timeout;
  private serving: boolean | undefined;
  private closing = false;

  constructor(
    private readonly handler: GatewayHandler,
    private readonly services: readonly string[],
  ) {
    this.impl = new HealthImplementation();
    this.sync();
    this.timer = setInterval(() => this.sync(), SYNC_INTERVAL_MS).unref();
  }

  /** Adds the Health service (Check and Watch) to `server`. */
  addTo(server: Server): void {
    // The package types its Server parameter structurally against proto-loader's
    // ServiceDefinition; grpc-js's Server satisfies it at runtime.
    this.impl.addToServer(server as unknown as Parameters<HealthImplementation['addToServer']>[0]);
  }

  /** Reports NOT_SERVING from now on, whatever the handler says. */
  close(): void {
    this.closing = true;
    clearInterval(this.timer);
    this.sync();
  }

  private sync(): void {
    const serving = !this.closing && this.handler.ready();
    if (serving === this.serving) return;
    this.serving = serving;
    const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...this.services]) this.impl.setStatus(name, status);
  }
}
