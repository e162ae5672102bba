import type { Server } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { GatewayHandler } from '../handler.js';

/** How often the handler's readiness and liveness are mirrored into the health service. */
const SYNC_INTERVAL_MS = 200;

/** Health service names with a meaning of their own (besides `''` and the Jina services). */
export const HEALTH_NAMES = {
  /** SERVING while the process makes progress: no executor work stuck past the threshold. */
  liveness: 'liveness',
  /** Same as `''`: SERVING once every executor is initialised, until shutdown starts. */
  readiness: 'readiness',
} as const;

/**
 * The standard `grpc.health.v1.Health` service (from grpc-health-check) kept in
 * step with the gateway:
 * - `''`, `readiness` and every listed service: SERVING while `handler.ready()`,
 *   NOT_SERVING before that and from the moment shutdown starts (drain);
 * - `liveness`: SERVING unless `handler.liveness()` reports stuck work, also
 *   while draining (a draining process is alive; killing it would lose the
 *   requests it is finishing). Everything is NOT_SERVING once the server closes.
 * The package stores statuses rather than asking for them, so they are polled
 * on an unref'd timer; both reads are cheap.
 */
export class GrpcHealth {
  private readonly impl: HealthImplementation;
  private readonly timer: NodeJS.Timeout;
  private readonly last = new Map<string, ServingStatus>();
  private draining = false;
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

  /** Reports not ready from now on (liveness keeps being reported). */
  drain(): void {
    this.draining = true;
    this.sync();
  }

  /** Reports NOT_SERVING for everything from now on, whatever the handler says. */
  close(): void {
    this.closing = true;
    clearInterval(this.timer);
    this.sync();
  }

  private sync(): void {
    const ready = !this.closing && !this.draining && this.handler.ready();
    const live = !this.closing && (this.handler.liveness?.().live ?? true);
    for (const name of ['', HEALTH_NAMES.readiness, ...this.services]) this.set(name, ready);
    this.set(HEALTH_NAMES.liveness, live);
  }

  private set(name: string, serving: boolean): void {
    const status: ServingStatus = serving ? 'SERVING' : 'NOT_SERVING';
    if (this.last.get(name) === status) return;
    this.last.set(name, status);
    this.impl.setStatus(name, status);
  }
}
