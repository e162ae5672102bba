import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Logger } from 'pino';
import { WORKER_METHODS } from '../../serve/worker/worker.protocol.js';
import { formatAddress, type WorkerAddress } from './addresses.js';

/** What a replica's health check said. */
export type ReplicaHealth = 'SERVING' | 'NOT_SERVING' | 'UNREACHABLE';

/** The end of one unary call: the reply bytes or grpc-js's error, plus the trailers. */
export interface UnaryOutcome {
  value?: Buffer;
  error?: grpc.ServiceError;
  trailers?: grpc.Metadata;
}

/** Channel settings shared by every replica of a gateway. */
export interface ReplicaOptions {
  tls: boolean;
  maxMessageSize: number;
  /** Channels (HTTP/2 connections) per replica; calls rotate over them. */
  poolSize: number;
  logger: Logger;
}

const asIs = (b: Buffer): Buffer => b;
const toBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const { READY, TRANSIENT_FAILURE, SHUTDOWN } = grpc.connectivityState;

/**
 * grpc-js channel options for gateway -> worker traffic. Pings every 10 s find
 * a worker that vanished without closing its sockets; reconnect backoff is
 * capped at 2 s so a restarted worker is reached quickly (grpc's default grows
 * to 120 s); a local subchannel pool makes each pooled channel its own
 * connection; round_robin spreads calls over every address a name resolves to
 * (all pods of a headless Service).
 */
export function replicaChannelOptions(maxMessageSize: number): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageSize,
    'grpc.max_send_message_length': maxMessageSize,
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.min_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 2_000,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  };
}

/**
 * One worker address as the gateway sees it: a small pool of grpc-js
 * channels, the count of requests in flight on it, and its ejection state.
 */
export class Replica {
  readonly address: string;
  /** Requests sent and not answered; the balancer picks the lowest. */
  outstanding = 0;
  /** Taken out of rotation after a connection failure, until a health check passes. */
  ejected = false;
  private readonly pool: grpc.Client[];
  private next = 0;
  private probe: NodeJS.Timeout | undefined;

  constructor(
    where: WorkerAddress,
    private readonly options: ReplicaOptions,
  ) {
    this.address = formatAddress(where);
    const creds = options.tls ? grpc.credentials.createSsl() : grpc.credentials.createInsecure();
    const channelOptions = replicaChannelOptions(options.maxMessageSize);
    this.pool = Array.from({ length: Math.max(1, options.poolSize) }, () => new grpc.Client(this.address, creds, channelOptions));
  }

  /** The next pooled channel, round-robin. */
  client(): grpc.Client {
    const c = this.pool[this.next % this.pool.length]!;
    this.next++;
    return c;
  }

  /**
   * Waits until `client`'s channel is connected, up to `timeoutMs`. False means
   * nothing was sent: the connection was refused, failed, or not made in time.
   */
  async connected(client: grpc.Client, timeoutMs: number): Promise<boolean> {
    const channel = client.getChannel();
    const deadline = Date.now() + timeoutMs;
    let state = channel.getConnectivityState(true);
    for (;;) {
      if (state === READY) return true;
      if (state === TRANSIENT_FAILURE || state === SHUTDOWN || Date.now() >= deadline) return false;
      const from = state;
      const changed = await new Promise<boolean>((resolve) => channel.watchConnectivityState(from, deadline, (err) => resolve(!err)));
      if (!changed) return false;
      state = channel.getConnectivityState(true);
    }
  }

  /** One unary call; never rejects: failures come back as `error`. An abort cancels the call. */
  unary(client: grpc.Client, path: string, request: Uint8Array, deadlineMs?: number, signal?: AbortSignal): Promise<UnaryOutcome> {
    return new Promise((resolve) => {
      const outcome: UnaryOutcome = {};
      const options: grpc.CallOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
      const call = client.makeUnaryRequest(path, toBuffer, asIs, request, new grpc.Metadata(), options, (err, value) => {
        if (err) outcome.error = err;
        else outcome.value = value;
      });
      const onAbort = (): void => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      // grpc-js emits 'status' (with the trailers) right after the callback; settle there.
      call.on('status', (status: grpc.StatusObject) => {
        signal?.removeEventListener('abort', onAbort);
        outcome.trailers = status.metadata;
        resolve(outcome);
      });
    });
  }

  /** `grpc.health.v1.Health/Check` for the whole server (service ''). */
  async health(timeoutMs: number): Promise<ReplicaHealth> {
    const { value, error } = await this.unary(this.client(), WORKER_METHODS.health, new Uint8Array(0), timeoutMs);
    if (error || !value) return 'UNREACHABLE';
    // HealthCheckResponse { ServingStatus status = 1; } where SERVING = 1.
    const reader = protobuf.Reader.create(value);
    let status = 0;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1) status = reader.int32();
      else reader.skipType(tag & 7);
    }
    return status === 1 ? 'SERVING' : 'NOT_SERVING';
  }

  /**
   * Takes the replica out of rotation and probes its health every `intervalMs`
   * until a probe finds it SERVING, which re-admits it.
   */
  eject(reason: string, intervalMs: number): void {
    if (this.ejected) return;
    this.ejected = true;
    this.options.logger.warn({ replica: this.address, reason }, 'replica ejected; probing its health until it passes');
    let probing = false;
    this.probe = setInterval(() => {
      if (probing) return;
      probing = true;
      void this.health(Math.max(250, intervalMs)).then((h) => {
        probing = false;
        if (h === 'SERVING' && this.ejected) this.readmit();
      });
    }, intervalMs);
    this.probe.unref();
  }

  /** Back in rotation (a health check passed, or a call succeeded). */
  readmit(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
    if (!this.ejected) return;
    this.ejected = false;
    this.options.logger.info({ replica: this.address }, 'replica re-admitted');
  }

  close(): void {
    if (this.probe) clearInterval(this.probe);
    this.probe = undefined;
    for (const c of this.pool) c.close();
  }
}
