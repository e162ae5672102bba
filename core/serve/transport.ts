import type { Logger } from 'pino';
import type { Protocol, TlsConfig } from '../flow/config.js';
import type { GatewayHandler } from './handler.js';
import type { AuthGuard } from './auth.js';

/** Settings every transport adapter receives (from the flow's gateway config). */
export interface TransportOptions {
  host: string;
  /** 0 picks a free port; the running server reports the real one. */
  port: number;
  /** Largest accepted/sent message in bytes. */
  maxMessageSize: number;
  tls?: TlsConfig;
  /** Compress responses where the protocol supports it (gzip / permessage-deflate). */
  compression: boolean;
  cors: boolean;
  title?: string;
  description?: string;
  noDebugEndpoints: boolean;
  noCrudEndpoints: boolean;
  logger: Logger;
  /** When set, every data/metrics call must carry the gateway's token (open paths aside). */
  auth?: AuthGuard;
}

/** A listening transport. */
export interface RunningServer {
  protocol: Protocol;
  host: string;
  port: number;
  /** e.g. `grpc://127.0.0.1:51000`, `https://...`, `wss://...`. */
  url: string;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then forces. */
  close(graceMs?: number): Promise<void>;
  /**
   * First step of a graceful shutdown: keep listening (so probes see not-ready)
   * but answer new requests 503 / UNAVAILABLE while in-flight ones finish.
   */
  drain?(): void;
}

export type TransportFactory = (handler: GatewayHandler, options: TransportOptions) => Promise<RunningServer>;

/** The scheme a client uses for a protocol, with or without TLS. */
export function schemeOf(protocol: Protocol, tls: boolean): string {
  if (protocol === 'grpc') return tls ? 'grpcs' : 'grpc';
  if (protocol === 'http') return tls ? 'https' : 'http';
  return tls ? 'wss' : 'ws';
}
