import type { Document, NamedScore } from '../document/document.js';
import { DocumentArray } from '../document/document-array.js';
import { mergeByDocId } from './merge.js';
import type { NodeOutput } from './node.js';

/** Jina's polling: ANY sends a request to one shard, ALL to every shard. */
export type Polling = 'ANY' | 'ALL';

/**
 * Endpoints that go to every shard when the flow says nothing about them:
 * a search must see every shard's documents, and an update or delete by id
 * must reach the shard holding the id (the others ignore ids they lack).
 * Everything else, `/index` included, goes to one shard: Jina's default ANY.
 */
export const DEFAULT_ALL_ENDPOINTS: readonly string[] = ['/search', '/update', '/delete'];

/**
 * The polling of `endpoint` under flow.yml's `polling:` — one value for every
 * endpoint, or Jina's per-endpoint map (`{ /index: ANY, /search: ALL, '*': ANY }`,
 * where `*` covers the endpoints not listed). Without a value for it, the
 * endpoint gets clipflow's default (see {@link DEFAULT_ALL_ENDPOINTS}).
 */
export function pollingFor(polling: string | Record<string, string> | undefined, endpoint: string): Polling {
  const norm = (v: string | undefined): Polling | undefined => (v?.toUpperCase() === 'ALL' ? 'ALL' : v?.toUpperCase() === 'ANY' ? 'ANY' : undefined);
  if (typeof polling === 'string') return norm(polling) ?? 'ANY';
  if (polling) {
    const bare = endpoint.replace(/^\//, '');
    const chosen = norm(polling[endpoint]) ?? norm(polling[bare]) ?? (endpoint === '/' ? norm(polling['/default']) : undefined) ?? norm(polling['*']);
    if (chosen) return chosen;
  }
  return DEFAULT_ALL_ENDPOINTS.includes(endpoint) ? 'ALL' : 'ANY';
}

// Score names that are distances (smaller is nearer), as docarray names its metrics.
const DISTANCES = new Set(['cosine', 'euclidean', 'sqeuclidean', 'l2', 'l1', 'manhattan', 'distance', 'jaccard', 'hamming']);

/**
 * Joins the outputs of every shard of an ALL call. Documents merge by id
 * (Jina's reduce); each document's `matches` from all shards are then sorted
 * by score and cut to `parameters.limit` (without a limit, to the most any
 * single shard returned for that document).
 *
 * The score is `cosine` when matches carry it (a distance: ascending), else the
 * first score name the matches carry, ordered the way the shards ordered their
 * own lists, or by its name (distances ascending, anything else descending)
 * when that says nothing.
 */
export function reduceShards(outputs: NodeOutput[], parameters: Record<string, unknown>): NodeOutput {
  const perShard = new Map<string, number>();
  for (const o of outputs) for (const d of o.docs) if (d.matches.length) perShard.set(d.id, Math.max(perShard.get(d.id) ?? 0, d.matches.length));
  const key = scoreKey(outputs);
  const ascending = key ? direction(outputs, key) : true;
  const docs = mergeByDocId(outputs.map((o) => o.docs));
  const limit = Number(parameters.limit);
  for (const d of docs) {
    if (!key || d.matches.length < 2) continue;
    const keep = Number.isInteger(limit) && limit > 0 ? limit : perShard.get(d.id) ?? d.matches.length;
    d.matches = sortMatches(d.matches, key, ascending).slice(0, keep) as DocumentArray;
  }
  const results = outputs.map((o) => o.result);
  const anyResult = results.some((r) => r !== undefined);
  // Each shard's result stays its own: there is no general way to add two results up.
  const result = anyResult ? Object.fromEntries(results.map((r, i) => [`shard-${i}`, r ?? null])) : undefined;
  return { docs, ...(result ? { result } : {}) };
}

function scoreOf(m: Document, key: string): number | undefined {
  const s: NamedScore | undefined = m.scores[key];
  return typeof s?.value === 'number' && Number.isFinite(s.value) ? s.value : undefined;
}

/** `cosine` when present on some match, else the first score name any match carries. */
function scoreKey(outputs: NodeOutput[]): string | undefined {
  let first: string | undefined;
  for (const o of outputs) {
    for (const d of o.docs) {
      for (const m of d.matches) {
        if (m.scores.cosine) return 'cosine';
        first ??= Object.keys(m.scores)[0];
      }
    }
  }
  return first;
}

/** True for ascending: read from the shards' own orderings when they agree, else from the name. */
function direction(outputs: NodeOutput[], key: string): boolean {
  let up = 0;
  let down = 0;
  for (const o of outputs) {
    for (const d of o.docs) {
      const values = d.matches.map((m) => scoreOf(m, key)).filter((v): v is number => v !== undefined);
      for (let i = 1; i < values.length; i++) {
        if (values[i]! > values[i - 1]!) up++;
        else if (values[i]! < values[i - 1]!) down++;
      }
    }
  }
  if (up && !down) return true;
  if (down && !up) return false;
  return DISTANCES.has(key);
}

/** Stable sort by score; matches without the score go last. */
function sortMatches(matches: DocumentArray, key: string, ascending: boolean): DocumentArray {
  const ranked = [...matches].map((m, i) => ({ m, i, v: scoreOf(m, key) }));
  ranked.sort((a, b) => {
    if (a.v === undefined || b.v === undefined) return a.v === undefined ? (b.v === undefined ? a.i - b.i : 1) : -1;
    return (ascending ? a.v - b.v : b.v - a.v) || a.i - b.i;
  });
  return new DocumentArray(ranked.map((r) => r.m));
}
