import type { Protocol } from '../flow/config.js';
import type { DataRequest, RequestStatus } from '../request/data-request.js';
import { TransportError } from './errors.js';

/** What every transport needs to know, resolved from the URL and the client's options. */
export interface ConnectionOptions {
  host: string;
  port: number;
  /** A path prefix from the URL (HTTP/WebSocket behind a proxy), without trailing slash; usually ''. */
  basePath: string;
  tls: boolean;
  /** Extra trusted CA (PEM) for TLS schemes; node's default CAs otherwise. */
  ca?: string | Buffer;
  /** Raw `Authorization` value (token or `Bearer ...`), sent as-is. */
  authorization?: string;
  /** Per-request wait for a reply (and for dry runs), in ms; undefined = no limit. */
  timeoutMs?: number;
  /** Largest message sent or accepted, in bytes. */
  maxMessageSize: number;
}

/**
 * One `post` call's channel to the server: a gRPC bidi stream, a WebSocket, or a
 * series of HTTP requests. Replies may come back in any order; `send` resolves
 * with the reply carrying the same request id.
 */
export interface RequestStream {
  send(request: DataRequest): Promise<DataRequest>;
  /** Graceful end, after every reply arrived. */
  end(): Promise<void>;
  /** Gives up: pending sends reject, the channel is torn down. */
  abort(reason?: Error): void;
}

/** A transport to one server. */
export interface Connection {
  open(): Promise<RequestStream>;
  /** The gateway's dry-run status; rejects when the server cannot be reached. */
  dryRun(): Promise<RequestStatus>;
  close(): Promise<void>;
}

interface Pending {
  resolve(reply: DataRequest): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

/**
 * Pairs replies with the sends that caused them by `header.request_id`, for the
 * streaming transports (gRPC, WebSocket) where replies arrive out of order.
 */
export class ReplyRouter {
  private readonly pending = new Map<string, Pending>();
  private failure: Error | undefined;

  constructor(private readonly timeoutMs?: number) {}

  get size(): number {
    return this.pending.size;
  }

  /** Registers a request about to be sent; the promise settles with its reply. */
  expect(requestId: string): Promise<DataRequest> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<DataRequest>((resolve, reject) => {
      const entry: Pending = { resolve, reject };
      if (this.timeoutMs) {
        const ms = this.timeoutMs;
        entry.timer = setTimeout(() => {
          this.pending.delete(requestId);
          reject(new TransportError(`no reply to request ${requestId} within ${ms} ms`));
        }, ms);
      }
      this.pending.set(requestId, entry);
    });
  }

  /** Delivers a reply; replies nobody waits for (late, after a timeout) are dropped. */
  deliver(reply: DataRequest): void {
    const entry = this.pending.get(reply.requestId);
    if (!entry) {
      // A gateway that answers without echoing the id (non-Jina servers) still works when one request is pending.
      if (this.pending.size !== 1) return;
      const [id] = this.pending.keys();
      this.settle(id!)?.resolve(reply);
      return;
    }
    this.settle(reply.requestId)?.resolve(reply);
  }

  /** Rejects one request (e.g. its frame could not be sent). */
  fail(requestId: string, error: Error): void {
    this.settle(requestId)?.reject(error);
  }

  /** Rejects every pending request and any later `expect`. */
  failAll(error: Error): void {
    this.failure ??= error;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
  }

  private settle(requestId: string): Pending | undefined {
    const entry = this.pending.get(requestId);
    if (!entry) return undefined;
    this.pending.delete(requestId);
    if (entry.timer) clearTimeout(entry.timer);
    return entry;
  }
}

/** The `Authorization` value from the client's `credential` option (or `CLIP_AUTH_TOKEN`, as clip_client reads). */
export function authorizationOf(credential: { Authorization: string } | string | undefined): string | undefined {
  if (typeof credential === 'string') return credential || undefined;
  if (credential && typeof credential.Authorization === 'string') return credential.Authorization || undefined;
  return process.env.CLIP_AUTH_TOKEN || undefined;
}

const SCHEMES: Record<string, { protocol: Protocol; tls: boolean }> = {
  grpc: { protocol: 'grpc', tls: false }, grpcs: { protocol: 'grpc', tls: true },
  http: { protocol: 'http', tls: false }, https: { protocol: 'http', tls: true },
  ws: { protocol: 'websocket', tls: false }, wss: { protocol: 'websocket', tls: true },
  websocket: { protocol: 'websocket', tls: false }, websockets: { protocol: 'websocket', tls: true },
};

/**
 * Reads a server URL (`grpc://host:port`, `https://host/prefix`, `wss://...`) into
 * connection options; a port-less URL gets 443 with TLS, 80 without.
 * @throws TypeError on anything that is not a URL with a known scheme and a host.
 */
export function parseServerUrl(
  server: string,
  rest: Omit<ConnectionOptions, 'host' | 'port' | 'basePath' | 'tls'>,
): ConnectionOptions & { protocol: Protocol } {
  if (typeof server !== 'string') throw new TypeError(`server must be a URL string like grpc://127.0.0.1:51000, got ${typeof server}`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TypeError(`invalid server URL "${server}": expected scheme://host:port, e.g. grpc://127.0.0.1:51000`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const kind = SCHEMES[scheme];
  if (!kind) throw new TypeError(`unsupported scheme "${scheme}" in "${server}": use one of ${Object.keys(SCHEMES).join(', ')}`);
  if (!url.hostname) throw new TypeError(`invalid server URL "${server}": no host`);
  if (!Number.isInteger(rest.maxMessageSize) || rest.maxMessageSize <= 0) {
    throw new TypeError(`maxMessageSize must be a positive integer, got ${rest.maxMessageSize}`);
  }
  return {
    ...rest,
    protocol: kind.protocol,
    host: url.hostname,
    port: url.port ? Number(url.port) : kind.tls ? 443 : 80,
    basePath: url.pathname.replace(/\/+$/, ''),
    tls: kind.tls,
  };
}
