import type { Logger } from 'pino';
import type { DocumentArray } from '../document/document-array.js';
import { DeadlineExceededError, ExecutorError, UnavailableError, errorMessage } from '../errors.js';
import { decodeDataRequest, decodeEndpoints, decodeInfo, encodeDataRequest } from '../proto/request.codec.js';
import { DataRequest } from '../request/data-request.js';
import { DEFAULT_WRITE_ENDPOINTS, WORKER_METHODS } from '../serve/worker/worker.protocol.js';
import { DEFAULT_MAX_MESSAGE_SIZE, type ExecutorConfig } from './config.js';
import type { FlowNode, NodeOutput } from './node.js';
import { workerAddresses, type WorkerAddress } from './remote/addresses.js';
import { classify, inBandFailure, statusFailure } from './remote/failures.js';
import { Replica } from './remote/replica.js';

/** Tuning of a RemoteExecutorNode; every field has a default. */
export interface RemoteNodeOptions {
  /** How long `start()` keeps retrying endpoint_discovery before giving up (ms). */
  readyTimeoutMs?: number;
  /** How long one attempt may wait for a connection before it counts as not sent (ms). */
  connectTimeoutMs?: number;
  /** Health probe period of an ejected replica (ms). */
  probeIntervalMs?: number;
  /** gRPC channels per replica. */
  poolSize?: number;
  maxMessageSize?: number;
}

const env = (name: string, fallback: number): number => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An executor served by remote workers (`external: true`): one Replica per
 * address, each a small pool of grpc-js channels.
 *
 * - Start: endpoint_discovery is retried on every replica until one answers
 *   (up to `readyTimeoutMs`); replicas still silent a moment later start ejected.
 * - Balancing: least requests in flight, round-robin among ties.
 * - Retries (at most `retries`, default max(3, replicas)): a request the worker
 *   never got (connection refused / not made within `connectTimeoutMs`, or the
 *   worker refused it while starting or draining) is resent to another
 *   replica, writes included. A request that may have reached the worker
 *   before its connection broke is resent only for idempotent endpoints; a
 *   write (`/index`, `/update`, `/delete`, or any endpoint a worker lists in
 *   `write_endpoints`) then fails with UNAVAILABLE naming the replica, because
 *   it may or may not have been applied. Deadlines (`timeout_send`) and the
 *   worker's own errors are never retried.
 * - Ejection: a replica whose connection failed leaves the rotation and is
 *   health-checked every `probeIntervalMs`; SERVING re-admits it. With every
 *   replica ejected, they are tried anyway rather than failing outright.
 */
export class RemoteExecutorNode implements FlowNode {
  private readonly replicas: Replica[];
  private readonly options: Required<RemoteNodeOptions>;
  private discovered: { endpoints: string[]; writeEndpoints: string[] } = { endpoints: [], writeEndpoints: [] };
  private remoteStatus: Record<string, string> = {};
  private cursor = 0;
  private closed = false;

  constructor(
    readonly config: ExecutorConfig,
    private readonly logger: Logger,
    addresses: WorkerAddress[] = workerAddresses(config),
    options: RemoteNodeOptions = {},
  ) {
    this.options = {
      readyTimeoutMs: options.readyTimeoutMs ?? env('CLIPFLOW_EXTERNAL_READY_TIMEOUT_MS', 600_000),
      connectTimeoutMs: options.connectTimeoutMs ?? Math.min(config.timeoutSend ?? 3_000, env('CLIPFLOW_EXTERNAL_CONNECT_TIMEOUT_MS', 3_000)),
      probeIntervalMs: options.probeIntervalMs ?? env('CLIPFLOW_EXTERNAL_PROBE_INTERVAL_MS', 1_000),
      poolSize: options.poolSize ?? env('CLIPFLOW_EXTERNAL_POOL_SIZE', 2),
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    };
    const log = logger.child({ executor: config.name });
    this.replicas = addresses.map((a) => new Replica(a, { tls: config.tls, maxMessageSize: this.options.maxMessageSize, poolSize: this.options.poolSize, logger: log }));
  }

  get name(): string {
    return this.config.name;
  }

  /** Addresses of the replicas, and which are ejected right now (for tests and /status). */
  replicaStates(): { address: string; ejected: boolean; outstanding: number }[] {
    return this.replicas.map((r) => ({ address: r.address, ejected: r.ejected, outstanding: r.outstanding }));
  }

  /** Learns the endpoints from the first replica that answers endpoint_discovery; see the class notes. */
  async start(): Promise<void> {
    const deadline = Date.now() + this.options.readyTimeoutMs;
    const stop = new AbortController();
    const answered = new Set<Replica>();
    let lastError = 'no answer yet';
    // The first failure is logged after 2 s: workers started alongside usually answer by then.
    let lastLog = Date.now() - 8_000;
    const discover = async (r: Replica): Promise<Replica> => {
      while (!stop.signal.aborted && !this.closed && Date.now() < deadline) {
        const out = await r.unary(r.client(), WORKER_METHODS.discovery, new Uint8Array(0), 2_000);
        if (out.value) {
          this.discovered = decodeEndpoints(out.value);
          answered.add(r);
          return r;
        }
        lastError = `${r.address}: ${out.error?.details || out.error?.message}`;
        // A gateway waiting on a worker says so (every 10 s), rather than looking hung.
        if (Date.now() - lastLog >= 10_000) {
          lastLog = Date.now();
          this.logger.warn({ executor: this.name, replica: r.address, error: lastError }, 'waiting for the worker to answer endpoint_discovery');
        }
        await sleep(250);
      }
      throw new Error(lastError);
    };
    const attempts = this.replicas.map(discover);
    let first: Replica;
    try {
      first = await Promise.any(attempts);
    } catch {
      throw new UnavailableError(
        `external executor '${this.name}': no worker answered endpoint_discovery within ${this.options.readyTimeoutMs} ms (${this.replicas.map((r) => r.address).join(', ')}; last error: ${lastError})`,
      );
    }
    // Give the others a moment: workers started together answer within milliseconds of each other.
    await Promise.race([Promise.allSettled(attempts), sleep(Math.min(2_000, Math.max(0, deadline - Date.now())))]);
    stop.abort();
    for (const r of this.replicas) if (!answered.has(r)) this.eject(r, 'did not answer endpoint_discovery at start');
    const info = await first.unary(first.client(), WORKER_METHODS.status, new Uint8Array(0), 2_000);
    if (info.value) {
      const { jina } = decodeInfo(info.value);
      this.remoteStatus = Object.fromEntries(Object.entries(jina).filter(([k]) => k.startsWith('status.')).map(([k, v]) => [k.slice(7), v]));
    }
    this.logger.info({ executor: this.name, replicas: this.replicas.map((r) => r.address), endpoints: this.discovered.endpoints }, 'external executor connected');
  }

  handles(endpoint: string): boolean {
    const eps = this.discovered.endpoints;
    return eps.includes(endpoint) || eps.includes('/default');
  }

  endpoints(): string[] {
    return [...this.discovered.endpoints];
  }

  /** True for endpoints that must not be resent once they may have reached a worker. */
  isWrite(endpoint: string): boolean {
    return DEFAULT_WRITE_ENDPOINTS.includes(endpoint) || this.discovered.writeEndpoints.includes(endpoint);
  }

  status(): Record<string, string> {
    const ejected = this.replicas.filter((r) => r.ejected).map((r) => r.address);
    return { ...this.remoteStatus, workers: this.replicas.map((r) => r.address).join(','), ...(ejected.length ? { ejected: ejected.join(',') } : {}) };
  }

  /** Sends the request to a replica, retrying per the class notes; failures reject with ExecutorError. */
  async call(endpoint: string, docs: DocumentArray, parameters: Record<string, unknown>, signal: AbortSignal | undefined): Promise<NodeOutput> {
    const bytes = encodeDataRequest(new DataRequest({ endpoint, parameters, docs }));
    const write = this.isWrite(endpoint);
    const retries = this.config.retries === undefined || this.config.retries < 0 ? Math.max(3, this.replicas.length) : this.config.retries;
    const tried = new Set<Replica>();
    let last = 'no replica was tried';
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (signal?.aborted) throw new ExecutorError(this.name, signal.reason ?? new Error('request aborted'));
      const replica = this.pick(tried);
      // Coming back to a replica already tried: give a restart or a reconnect a moment.
      if (tried.has(replica)) await sleep(Math.min(50 * attempt, 500));
      tried.add(replica);
      const client = replica.client();
      if (!(await replica.connected(client, this.options.connectTimeoutMs))) {
        last = `${replica.address}: not connected (refused or not reachable within ${this.options.connectTimeoutMs} ms); the request was not sent`;
        this.eject(replica, 'connection failed');
        continue;
      }
      replica.outstanding++;
      const outcome = await replica.unary(client, WORKER_METHODS.process, bytes, this.config.timeoutSend, signal);
      replica.outstanding--;
      if (outcome.value) {
        if (replica.ejected) replica.readmit();
        return this.output(outcome.value, outcome);
      }
      const error = outcome.error!;
      const kind = classify(error, outcome.trailers);
      if (kind === 'rejected') {
        last = `${replica.address} refused it without running it (${error.details})`;
        this.eject(replica, 'worker is starting or draining');
        continue;
      }
      if (kind === 'unreachable') {
        this.eject(replica, `connection lost: ${error.details}`);
        if (write) {
          throw new ExecutorError(this.name, new UnavailableError(
            `replica ${replica.address} became unreachable while ${endpoint} was in flight (${error.details}); ` +
              `${endpoint} is a write, so it was not resent: it may or may not have been applied`,
          ));
        }
        last = `${replica.address}: ${error.details}`;
        continue;
      }
      if (kind === 'deadline') {
        throw new ExecutorError(this.name, new DeadlineExceededError(`replica ${replica.address} did not answer ${endpoint} within timeout_send (${this.config.timeoutSend} ms)`));
      }
      if (kind === 'cancelled') throw new ExecutorError(this.name, signal?.reason ?? new Error('request cancelled'));
      throw new ExecutorError(this.name, statusFailure(error, replica.address));
    }
    throw new ExecutorError(this.name, new UnavailableError(`no replica of '${this.name}' could take ${endpoint} after ${tried.size} replica(s), ${retries + 1} attempt(s); last: ${last}`));
  }

  /** Decodes a worker's reply; an in-band ERROR becomes an ExecutorError with the remote exception's name and code. */
  private output(bytes: Buffer, outcome: Parameters<typeof inBandFailure>[1]): NodeOutput {
    let reply: DataRequest;
    try {
      reply = decodeDataRequest(bytes);
    } catch (e) {
      throw new ExecutorError(this.name, new Error(`undecodable reply from a worker: ${errorMessage(e)}`));
    }
    if (reply.status?.code === 'ERROR') throw new ExecutorError(reply.status.exception?.executor || this.name, inBandFailure(reply, outcome));
    const results = reply.parameters.__results__ as Record<string, unknown> | undefined;
    const keys = results ? Object.keys(results) : [];
    const result = results?.[this.name] ?? (keys.length === 1 ? results![keys[0]!] : undefined);
    return { docs: reply.docs, ...(result && typeof result === 'object' ? { result: result as Record<string, unknown> } : {}) };
  }

  /** Least requests in flight among the best tier: admitted and untried, admitted, untried, any. */
  private pick(tried: Set<Replica>): Replica {
    const tiers: ((r: Replica) => boolean)[] = [(r) => !r.ejected && !tried.has(r), (r) => !r.ejected, (r) => !tried.has(r), () => true];
    const n = this.replicas.length;
    for (const ok of tiers) {
      let best: Replica | undefined;
      let bestIndex = 0;
      for (let i = 0; i < n; i++) {
        const index = (this.cursor + i) % n;
        const r = this.replicas[index]!;
        if (ok(r) && (!best || r.outstanding < best.outstanding)) [best, bestIndex] = [r, index];
      }
      if (best) {
        this.cursor = (bestIndex + 1) % n;
        return best;
      }
    }
    throw new UnavailableError(`external executor '${this.name}' has no replicas`);
  }

  private eject(replica: Replica, reason: string): void {
    if (this.closed) return;
    replica.eject(reason, this.options.probeIntervalMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.replicas) r.close();
  }
}
