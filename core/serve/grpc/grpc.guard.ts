import { ServerInterceptingCall, type Deadline, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { STATUS_MAP } from '../../errors.js';
import { UNAUTHENTICATED_MESSAGE, type AuthGuard } from '../auth.js';
import type { GatewayHandler } from '../handler.js';

/** The standard health service: its probes must work while we drain (they are how we say so). */
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** `/pkg.Service/Method` -> `pkg.Service`. */
export function serviceOf(path: string): string {
  const slash = path.indexOf('/', 1);
  return slash > 0 ? path.slice(1, slash) : path.replace(/^\//, '');
}

/** A gRPC deadline as epoch ms; undefined when the caller set none (grpc-js says Infinity). */
export function deadlineMs(deadline: Deadline): number | undefined {
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(ms) ? ms : undefined;
}

function authorizationOf(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : undefined;
}

/**
 * One server interceptor for what every call must pass before its handler runs,
 * so no service can forget it:
 * - the token (`authorization` metadata, raw or `Bearer`), except on services
 *   listed open (by default the health service) -> UNAUTHENTICATED;
 * - shutdown: while draining, new calls get UNAVAILABLE (health excepted, so
 *   probes read NOT_SERVING) and a retrying client moves to another replica.
 * The check runs when the call's metadata arrives, before any message is read.
 */
export function gatewayInterceptor(handler: GatewayHandler, auth: AuthGuard | undefined, draining: () => boolean): ServerInterceptor {
  return (method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) => {
        const service = serviceOf(method.path);
        next({
          onReceiveMetadata: (metadata, proceed) => {
            if (auth && !auth.isOpen(service) && !auth.accepts(authorizationOf(metadata))) {
              handler.recordRejection?.('grpc', 'UNAUTHENTICATED');
              call.sendStatus({ code: STATUS_MAP.UNAUTHENTICATED.grpc, details: UNAUTHENTICATED_MESSAGE });
              return;
            }
            if (draining() && service !== HEALTH_SERVICE) {
              handler.recordRejection?.('grpc', 'UNAVAILABLE');
              call.sendStatus({ code: STATUS_MAP.UNAVAILABLE.grpc, details: 'server is shutting down; retry on another replica' });
              return;
            }
            proceed(metadata);
          },
        });
      },
    });
}
