import type { Client } from '../core/client/client.js';
import { RemoteError, TransportError } from '../core/client/errors.js';
import type { Document } from '../core/document/document.js';
import { DocumentArray } from '../core/document/document-array.js';
import { BadRequestError, ClipflowError, FlowConfigError, UnavailableError, errorMessage } from '../core/errors.js';
import { requests } from '../core/executor/decorators.js';
import { Executor, type ExecutorContext, type HandlerArgs } from '../core/executor/executor.js';

/** The scores a remote `/rank` adds to each match. */
const RANK_SCORES = ['clip_score', 'clip_score_cosine'] as const;

/**
 * Re-ranks matches with a remote clipflow (or clip-server): sends the documents
 * that carry `matches` to the server's `/rank` and writes back the order and the
 * `clip_score` / `clip_score_cosine` scores, keeping every other field of each
 * match (tags, uri, text, the indexer's `cosine`, ...). The DALL·E Flow pattern:
 * a search flow asks a shared CLIP server to rank its candidates.
 *
 * `with: { server: 'grpc://host:port', batch_size?: 8, timeout_ms?, credential? }`.
 * Serves `/rank` and, as the default handler, any endpoint (so after an indexer
 * it re-ranks `/search` results); documents without matches pass untouched.
 */
export class RerankerClient extends Executor {
  readonly server: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number | undefined;
  private readonly credential: string | undefined;
  private client: Client | undefined;

  constructor(args: Record<string, unknown> = {}, context?: ExecutorContext) {
    super(args, context);
    if (typeof args.server !== 'string' || !args.server.trim()) {
      throw new FlowConfigError('required: the clipflow server that ranks, e.g. grpc://127.0.0.1:51000', 'uses.with.server');
    }
    this.server = args.server.trim();
    if (!/^(grpcs?|https?|wss?|websocket):\/\//i.test(this.server)) {
      throw new FlowConfigError(`expected a URL like grpc://host:port (grpc, grpcs, http, https, ws, wss), got "${this.server}"`, 'uses.with.server');
    }
    this.batchSize = positive(args.batch_size ?? 8, 'batch_size');
    this.timeoutMs = args.timeout_ms === undefined ? undefined : positive(args.timeout_ms, 'timeout_ms');
    if (args.credential !== undefined && typeof args.credential !== 'string' && !isAuthObject(args.credential)) {
      throw new FlowConfigError('expected a token string or { Authorization: token }', 'uses.with.credential');
    }
    this.credential = isAuthObject(args.credential) ? args.credential.Authorization : (args.credential as string | undefined);
  }

  override async init(): Promise<void> {
    // Connecting is lazy in the client; the first request finds out whether the server is up,
    // so a flow can start before (or without) its ranker. Loaded here so flows without a
    // reranker do not pay for the client's transports.
    const { Client } = await import('../core/client/client.js');
    this.client = new Client(this.server, {
      ...(this.credential ? { credential: this.credential } : {}),
      ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
    });
  }

  override async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }

  @requests('/rank')
  @requests()
  async rerank({ docs }: HandlerArgs): Promise<void> {
    const queries = docs.filter((d) => d.matches.length > 0);
    if (!queries.length) return;
    if (!this.client) throw new Error('RerankerClient used before init()');
    for (const q of queries) for (const d of [q, ...q.matches]) refuseLocalUri(d, q);
    let ranked: DocumentArray;
    try {
      ranked = await this.client.rank(queries, { batchSize: this.batchSize });
    } catch (e) {
      throw this.remoteFailure(e);
    }
    const byId = new Map<string, Document[]>();
    for (const r of ranked) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
    for (const query of queries) {
      const reply = byId.get(query.id)?.shift();
      if (!reply) throw new ClipflowError('EXECUTOR_FAILED', `reranker at ${this.server} returned no result for document ${query.id}`);
      applyRanking(query, reply, this.server);
    }
  }

  /** A remote failure as this executor's error: the caller's mistakes stay 4xx, the rest say which server failed. */
  private remoteFailure(e: unknown): Error {
    const where = `reranker at ${this.server}`;
    if (e instanceof RemoteError) {
      const message = `${where} refused the request: ${e.description}`;
      return e.response.status?.errorCode === 'INVALID_ARGUMENT' || e.code === 'BadRequestError' ? new BadRequestError(message) : new ClipflowError('EXECUTOR_FAILED', message);
    }
    if (e instanceof TransportError) return new UnavailableError(`${where} is unreachable: ${e.message}`);
    return new ClipflowError('EXECUTOR_FAILED', `${where}: ${errorMessage(e)}`);
  }
}

/**
 * Puts the server's order and rank scores onto the query's own matches (matched
 * by id, in order for repeated ids), so nothing else about a match changes.
 */
export function applyRanking(query: Document, reply: Document, server: string): void {
  const pending = new Map<string, Document[]>();
  for (const m of query.matches) pending.set(m.id, [...(pending.get(m.id) ?? []), m]);
  const ordered = new DocumentArray();
  for (const r of reply.matches) {
    const original = pending.get(r.id)?.shift();
    if (!original) throw new ClipflowError('EXECUTOR_FAILED', `reranker at ${server} returned a match ${r.id} that document ${query.id} did not send`);
    for (const key of RANK_SCORES) if (r.scores[key]) original.scores[key] = { ...r.scores[key] };
    ordered.push(original);
  }
  const missing = [...pending.values()].flat();
  if (missing.length) throw new ClipflowError('EXECUTOR_FAILED', `reranker at ${server} dropped matches ${missing.map((m) => m.id).join(', ')} of document ${query.id}`);
  query.matches = ordered;
}

/**
 * Our Client reads local-file uris into blobs, which is right in a user's process
 * and wrong inside a server: a document must not make the server read its own
 * files. Such a document is refused, as the ClipEncoder refuses it.
 */
function refuseLocalUri(d: Document, query: Document): void {
  if (d.text || (d.blob && d.blob.byteLength) || d.tensor || !d.uri) return;
  if (/^(https?|data):/i.test(d.uri)) return;
  const which = d === query ? `document ${d.id}` : `match ${d.id} of document ${query.id}`;
  throw new BadRequestError(`${which} has a local uri (${d.uri.slice(0, 200)}); the server does not read local files: send a blob, text or an http(s)/data: uri`);
}

function isAuthObject(v: unknown): v is { Authorization: string } {
  return typeof v === 'object' && v !== null && typeof (v as { Authorization?: unknown }).Authorization === 'string';
}

function positive(v: unknown, key: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new FlowConfigError(`must be a positive integer, got ${JSON.stringify(v)}`, `uses.with.${key}`);
  return v;
}
