import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_AUTH_OPEN_PATHS, type GatewayConfig } from '../flow/config.js';

const BEARER = /^bearer\s+/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The gateway's shared-token check, the same on every protocol.
 *
 * The presented value is hashed and compared with `timingSafeEqual` against the
 * hash of the token: both digests are 32 bytes whatever was sent, so neither the
 * comparison time nor an early length mismatch tells an attacker how much of a
 * guess was right. A value is accepted raw (`Authorization: <token>`, what Jina's
 * clients send) or as `Bearer <token>`.
 */
export class AuthGuard {
  private readonly expected: Buffer;
  private readonly open: ReadonlySet<string>;

  constructor(token: string, openPaths: readonly string[] = DEFAULT_AUTH_OPEN_PATHS) {
    if (!token) throw new TypeError('an auth token must not be empty');
    this.expected = digest(token);
    this.open = new Set(openPaths);
  }

  /** A guard for the gateway's `auth_token`, or undefined when the gateway is open to all. */
  static fromConfig(gateway: Pick<GatewayConfig, 'authToken' | 'authOpenPaths'>): AuthGuard | undefined {
    return gateway.authToken ? new AuthGuard(gateway.authToken, gateway.authOpenPaths ?? DEFAULT_AUTH_OPEN_PATHS) : undefined;
  }

  /** True when `authorization` (a header or metadata value, or a `?token=`) carries the token. */
  accepts(authorization: string | undefined | null): boolean {
    if (typeof authorization !== 'string' || authorization === '') return false;
    const raw = authorization.trim();
    const stripped = raw.replace(BEARER, '');
    // Both forms are always compared, so the time taken does not reveal which form was used.
    const a = timingSafeEqual(digest(raw), this.expected);
    const b = timingSafeEqual(digest(stripped), this.expected);
    return a || b;
  }

  /** True for an HTTP path (`/health`) or gRPC service (`grpc.health.v1.Health`) reachable without the token. */
  isOpen(pathOrService: string): boolean {
    return this.open.has(pathOrService);
  }
}

/** What every transport says when the token is missing or wrong (it never says which). */
export const UNAUTHENTICATED_MESSAGE = 'missing or invalid credentials: send the token as the Authorization header (raw or "Bearer <token>")';
