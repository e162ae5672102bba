import { DEFAULT_MAX_MESSAGE_SIZE, type Protocol } from '../flow/config.js';
import type { Document } from '../document/document.js';
import { DocumentArray } from '../document/document-array.js';
import { DataRequest } from '../request/data-request.js';
import { authorizationOf, parseServerUrl, type Connection } from './connection.js';
import { RemoteError } from './errors.js';
import { GrpcConnection } from './grpc.connection.js';
import { HttpConnection } from './http.connection.js';
import {
  countInputs, iterateInputs, prepareDocument, prepareInput, prepareRankDocument,
  type ClientInput, type ClientInputs, type PreparedInput,
} from './inputs.js';
import { Progress } from './progress.js';
import { WebSocketConnection } from './ws.connection.js';

/** Options of `new Client(url, options)`. */
export interface ClientOptions {
  /** Sent as gRPC metadata `authorization` / the `Authorization` header; defaults to `CLIP_AUTH_TOKEN`. */
  credential?: { Authorization: string } | string;
  /** For grpcs/https/wss: an extra CA to trust (PEM); node's default CAs otherwise. */
  tls?: { ca?: string | Buffer };
  /** How long to wait for each reply (and for `dryRun`), in ms; no limit by default (dry runs: 10 s). */
  timeoutMs?: number;
  /** Largest message sent or accepted, in bytes (default 64 MB). */
  maxMessageSize?: number;
}

/** Options shared by every sending method. */
export interface RequestOptions {
  parameters?: Record<string, unknown>;
  /** Documents per request (default 8). */
  batchSize?: number;
  /** Requests in flight at once (default 4). */
  prefetch?: number;
  /** A progress bar on stderr (only when stderr is a TTY). */
  showProgress?: boolean;
  /** Only executors whose name matches this regex run (Jina's `target_executor`). */
  targetExecutor?: string;
}

/** Options of `post`: Jina's callbacks, each called once per reply. */
export interface PostOptions extends RequestOptions {
  onDone?: (response: DataRequest) => void;
  /** Given, a failed reply goes here instead of rejecting the call. */
  onError?: (response: DataRequest) => void;
  onAlways?: (response: DataRequest) => void;
}

export interface SearchOptions extends RequestOptions {
  /** How many matches per query (default 10); sent as `parameters.limit`. */
  limit?: number;
}

/** Latency breakdown of one request, in ms (clip_client's `profile()`). */
export interface ProfileResult {
  roundtrip: number;
  server: number;
  executor: number;
  clientServerNetwork: number;
  gatewayExecutorNetwork: number;
}

interface Slot {
  input: PreparedInput;
  result?: Document;
}

/**
 * Talks to a clipflow (or Jina) gateway over gRPC, HTTP or WebSocket, chosen by
 * the URL's scheme. Inputs are streamed in batches with a bounded number of
 * requests in flight; results come back in input order whatever order the
 * replies arrive in.
 */
export class Client {
  readonly protocol: Protocol;
  private readonly connection: Connection;

  constructor(readonly server: string, options: ClientOptions = {}) {
    const { protocol, ...resolved } = parseServerUrl(server, {
      ca: options.tls?.ca,
      authorization: authorizationOf(options.credential),
      timeoutMs: options.timeoutMs,
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    });
    this.protocol = protocol;
    this.connection = protocol === 'grpc' ? new GrpcConnection(resolved) : protocol === 'http' ? new HttpConnection(resolved) : new WebSocketConnection(resolved);
  }

  /**
   * Embeds sentences and images on `/encode`. String inputs give one
   * Float32Array per input, in order; Document inputs give those Documents
   * back with `embedding` set.
   */
  encode(inputs: ClientInputs<string>, options?: RequestOptions): Promise<Float32Array[]>;
  encode(inputs: ClientInputs<Exclude<ClientInput, string>>, options?: RequestOptions): Promise<DocumentArray>;
  encode(inputs: ClientInputs, options?: RequestOptions): Promise<Float32Array[] | DocumentArray>;
  async encode(inputs: ClientInputs, options: RequestOptions = {}): Promise<Float32Array[] | DocumentArray> {
    const { slots } = await this.run('/encode', inputs, dropImageContent(options));
    const embedding = (s: Slot, i: number): Float32Array => {
      if (s.result?.embedding) return s.result.embedding;
      throw new Error(`the server returned no embedding for input ${i} (document ${s.input.doc.id}); is an encoder serving /encode?`);
    };
    if (slots.length && slots.every((s) => s.input.source !== undefined)) return slots.map(embedding);
    return new DocumentArray(
      slots.map((s, i) => {
        const target = s.input.original ?? s.input.doc;
        target.embedding = embedding(s, i);
        return target;
      }),
    );
  }

  /** Ranks each document's `matches` on `/rank`; returns the server's documents, in input order. */
  async rank(docs: ClientInputs<Exclude<ClientInput, string>>, options: RequestOptions = {}): Promise<DocumentArray> {
    return this.results(await this.run('/rank', docs, dropImageContent(options), prepareRankDocument));
  }

  /** Encodes and stores documents on `/index`; returns the server's documents, in input order. */
  async index(inputs: ClientInputs, options: RequestOptions = {}): Promise<DocumentArray> {
    return this.results(await this.run('/index', inputs, dropImageContent(options)));
  }

  /** Queries on `/search`; each returned document carries its `matches`. */
  async search(inputs: ClientInputs, options: SearchOptions = {}): Promise<DocumentArray> {
    const { limit = 10, ...rest } = options;
    return this.results(await this.run('/search', inputs, dropImageContent({ ...rest, parameters: { ...rest.parameters, limit } })));
  }

  /** Sends inputs to any endpoint; the reply documents, in input order (unknown ids last). */
  async post(endpoint: string, inputs: ClientInputs, options: PostOptions = {}): Promise<DocumentArray> {
    return this.results(await this.run(endpoint, inputs, options));
  }

  /**
   * Times one request to `/` and splits it like clip_client's `profile()`:
   * routes[0] is the gateway, routes[1] the first executor. The default empty
   * content sends a request without documents, which measures the network.
   */
  async profile(content = ''): Promise<ProfileResult> {
    const docs = content === '' ? [] : [(await prepareInput(content, 0)).doc];
    const stream = await this.connection.open();
    let reply: DataRequest;
    const started = performance.now();
    try {
      reply = await stream.send(new DataRequest({ endpoint: '/', docs: new DocumentArray(docs) }));
    } catch (e) {
      stream.abort();
      throw e;
    }
    const roundtrip = performance.now() - started;
    await stream.end();
    if (reply.failed) throw new RemoteError(reply);
    const span = (i: number) => {
      const r = reply.routes[i];
      return r?.startTime !== undefined && r.endTime !== undefined ? r.endTime - r.startTime : 0;
    };
    const server = span(0);
    const executor = span(1);
    return { roundtrip, server, executor, clientServerNetwork: roundtrip - server, gatewayExecutorNetwork: server - executor };
  }

  /** True when the gateway answers its dry run with SUCCESS; false when it fails or cannot be reached. */
  async dryRun(): Promise<boolean> {
    try {
      return (await this.connection.dryRun()).code === 'SUCCESS';
    } catch {
      return false;
    }
  }

  /** Like `dryRun`, but rejects with the reason (transport error or the server's description). */
  async ensureReady(): Promise<void> {
    const status = await this.connection.dryRun();
    if (status.code !== 'SUCCESS') throw new Error(status.description || 'the server reported an error on dry run');
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private results({ slots, extras }: { slots: Slot[]; extras: Document[] }): DocumentArray {
    const out = new DocumentArray();
    for (const s of slots) if (s.result) out.push(s.result);
    out.push(...extras);
    return out;
  }

  /** The streaming core: batches inputs, keeps up to `prefetch` requests in flight, matches replies by doc id. */
  private async run(endpoint: string, inputs: ClientInputs, options: PostOptions, prepare = prepareDocument): Promise<{ slots: Slot[]; extras: Document[] }> {
    const batchSize = positiveInt(options.batchSize ?? 8, 'batchSize');
    const prefetch = positiveInt(options.prefetch ?? 4, 'prefetch');
    const slots: Slot[] = [];
    const extras: Document[] = [];
    const inflight = new Set<Promise<void>>();
    const stream = await this.connection.open();
    const progress = options.showProgress ? Progress.create(countInputs(inputs)) : undefined;
    let failure: unknown;

    const receive = (reply: DataRequest, batch: Slot[]) => {
      progress?.received(batch.length);
      if (reply.failed) {
        if (options.onError) options.onError(reply);
        else failure ??= new RemoteError(reply);
      } else {
        // Ids, not positions: executors may reorder documents within a reply.
        const byId = new Map<string, Slot[]>();
        for (const s of batch) byId.set(s.input.doc.id, [...(byId.get(s.input.doc.id) ?? []), s]);
        for (const d of reply.docs) {
          const slot = byId.get(d.id)?.shift();
          if (slot) slot.result = d;
          else extras.push(d);
        }
        options.onDone?.(reply);
      }
      options.onAlways?.(reply);
    };
    const dispatch = (batch: Slot[]) => {
      const docs = new DocumentArray(batch.map((s) => s.input.doc));
      const request = new DataRequest({ endpoint, parameters: options.parameters ?? {}, docs, targetExecutor: options.targetExecutor });
      progress?.sent(batch.length);
      const p: Promise<void> = stream
        .send(request)
        .then((reply) => receive(reply, batch))
        .catch((e: unknown) => void (failure ??= e))
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };
    try {
      let batch: Slot[] = [];
      for await (const item of iterateInputs(inputs)) {
        const slot: Slot = { input: await prepareInput(item, slots.length, prepare) };
        slots.push(slot);
        batch.push(slot);
        if (batch.length < batchSize) continue;
        dispatch(batch);
        batch = [];
        while (inflight.size >= prefetch && !failure) await Promise.race(inflight);
        if (failure) break;
      }
      // No inputs at all still makes one request (Jina's client does too): endpoints such as
      // /build_index or /status work on parameters alone.
      if ((batch.length || !slots.length) && !failure) dispatch(batch);
      while (inflight.size && !failure) await Promise.race(inflight);
    } catch (e) {
      failure ??= e;
    } finally {
      progress?.stop();
    }
    if (failure) {
      stream.abort(failure instanceof Error ? failure : new Error(String(failure)));
      throw failure;
    }
    await stream.end();
    return { slots, extras };
  }
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * clip_client's default for encode, rank, index and search: the server drops the
 * image bytes from what it sends back (the caller has them), unless the caller's
 * parameters say otherwise. It saves sending every image back over the wire.
 */
function dropImageContent<T extends RequestOptions>(options: T): T {
  return { ...options, parameters: { drop_image_content: true, ...options.parameters } };
}
