// Shards: in-process (one ExecutorNode per shard, each with its own workspace folder) and
// remote (one `clipflow executor --shard i` worker per shard), with Jina's polling:
// ANY sends a request to one shard, ALL to all of them, and /search results from every
// shard are merged by score.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packagePath } from '../../../core/config/paths.js';
import { DocumentArray } from '../../../core/document/document-array.js';
import { Flow } from '../../../core/flow/flow.js';
import { DataRequest } from '../../../core/request/data-request.js';
import { hashEmbedding } from '../../fixtures/executors/basic.js';
import { BASIC_EXECUTORS } from '../../helpers/flows.js';
import { freePort, startWorker, type Running } from '../../helpers/workers.js';

const SHARDS = packagePath('dist', 'test', 'fixtures', 'executors', 'shards.js');
const TEXTS = Array.from({ length: 20 }, (_, i) => `document number ${i} ${'xyz'.repeat(i % 4)}`);
const QUERIES = ['document number 3', 'number 17 xyzxyz', 'zzz'];

const encoder = `  - name: encoder\n    uses: { jtype: HashEncoder, with: { dim: 8 }, metas: { modules: [${JSON.stringify(BASIC_EXECUTORS)}] } }\n`;
const indexer = (extra: string) => `  - name: indexer\n    uses: { jtype: TinyIndexer, metas: { modules: [${JSON.stringify(SHARDS)}] } }\n${extra}`;

async function post(flow: Flow, endpoint: string, texts: string[], parameters: Record<string, unknown> = {}, ids?: string[]): Promise<DataRequest> {
  const docs = new DocumentArray(texts.map((text, i) => ({ id: ids?.[i] ?? `doc-${TEXTS.indexOf(text)}`, text })));
  const reply = await flow.process(new DataRequest({ endpoint, parameters, docs }), { protocol: 'grpc' });
  assert.equal(reply.status?.code, 'SUCCESS', reply.status?.description);
  return reply;
}

/** Indexes TEXTS two per request: ANY spreads the requests over the shards. */
async function indexAll(flow: Flow): Promise<void> {
  for (let i = 0; i < TEXTS.length; i += 2) await post(flow, '/index', TEXTS.slice(i, i + 2));
}

/** The ids brute force ranks nearest to `query`, by cosine distance over every text. */
function nearest(query: string, k: number): string[] {
  const q = hashEmbedding(query, 8);
  const cos = (a: Float32Array, b: Float32Array) => {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i]! * b[i]!, na + a[i]! ** 2, nb + b[i]! ** 2];
    return dot / Math.sqrt(na * nb);
  };
  return TEXTS.map((t, i) => ({ id: `doc-${i}`, d: 1 - cos(q, hashEmbedding(t, 8)) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((x) => x.id);
}

/** Search with polling ALL: every query's matches come from both shards, sorted ascending, cut to the limit. */
async function assertMergedSearch(flow: Flow): Promise<void> {
  const reply = await post(flow, '/search', QUERIES, { limit: 5 }, QUERIES.map((_, i) => `q${i}`));
  const shardsSeen = new Set<unknown>();
  reply.docs.forEach((q, i) => {
    const values = q.matches.map((m) => m.scores.cosine!.value!);
    assert.deepEqual(values, [...values].sort((a, b) => a - b), 'ascending cosine distance');
    assert.deepEqual(q.matches.map((m) => m.id), nearest(QUERIES[i]!, 5), `query ${i}: the global top 5`);
    for (const m of q.matches) shardsSeen.add(m.tags.shard);
  });
  assert.deepEqual([...shardsSeen].sort(), ['shard-0', 'shard-1']);
  // Without a limit: each shard's own 10, merged, cut back to 10.
  const all = await post(flow, '/search', [QUERIES[0]!], {}, ['q']);
  assert.equal(all.docs[0]!.matches.length, 10);
  assert.deepEqual(all.docs[0]!.matches.map((m) => m.id), nearest(QUERIES[0]!, 10));
}

describe('in-process shards', () => {
  let dir: string;
  let flow: Flow;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clipflow-shards-'));
    flow = await Flow.fromYaml(`executors:\n${encoder}${indexer(`    shards: 2\n    workspace: ${join(dir, 'ws')}\n    polling: { /count: ALL }\n`)}`, dir).start();
    await indexAll(flow);
  });
  after(async () => {
    await flow.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each shard its own workspace folder and spreads ANY writes over the shards', async () => {
    assert.ok(existsSync(join(dir, 'ws', 'shard-0')) && existsSync(join(dir, 'ws', 'shard-1')));
    const reply = await post(flow, '/count', []);
    const counts = (reply.parameters.__results__ as Record<string, Record<string, { count: number; shard: string }>>).indexer!;
    assert.deepEqual(counts, { 'shard-0': { count: 10, shard: 'shard-0' }, 'shard-1': { count: 10, shard: 'shard-1' } });
  });

  it('/search (ALL by default) merges every shard by score and keeps parameters.limit', async () => {
    await assertMergedSearch(flow);
  });

  it('/delete (ALL by default) reaches the shard that holds each id', async () => {
    await post(flow, '/delete', [TEXTS[0]!, TEXTS[1]!]);
    const counts = (await post(flow, '/count', [])).parameters.__results__ as Record<string, Record<string, { count: number }>>;
    assert.equal(counts.indexer!['shard-0']!.count + counts.indexer!['shard-1']!.count, 18);
    await post(flow, '/index', [TEXTS[0]!, TEXTS[1]!]);
  });

  it('polling: ANY on /search asks one shard only', async () => {
    const local = await Flow.fromYaml(`executors:\n${encoder}${indexer('    shards: 2\n    polling: { /search: ANY }\n')}`, dir).start();
    try {
      await indexAll(local);
      const reply = await post(local, '/search', [QUERIES[0]!], { limit: 20 }, ['q']);
      const shards = new Set(reply.docs[0]!.matches.map((m) => m.tags.shard));
      assert.equal(shards.size, 1);
      assert.equal(reply.docs[0]!.matches.length, 10, 'one shard holds half of the 20 documents');
    } finally {
      await local.close();
    }
  });
});

describe('remote shards: one worker per shard', () => {
  let dir: string;
  const workers: Running[] = [];
  let flow: Flow;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clipflow-rshards-'));
    const workerFlow = join(dir, 'workers.yml');
    writeFileSync(workerFlow, `jtype: Flow\nexecutors:\n${indexer(`    shards: 2\n    workspace: ${join(dir, 'ws')}\n`)}`);
    const ports = [await freePort(), await freePort()];
    workers.push(...(await Promise.all(ports.map((p, i) => startWorker(workerFlow, 'indexer', p, { extra: ['--shard', String(i)] })))));
    flow = await Flow.fromYaml(
      `executors:\n${encoder}  - name: indexer\n    uses: TinyIndexer\n    external: true\n    shards: 2\n    host: 127.0.0.1\n    port: [${ports.join(', ')}]\n`,
      dir,
    ).start();
    await indexAll(flow);
  });
  after(async () => {
    await flow?.close();
    await Promise.all(workers.map((w) => w.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('each port is a shard; /search merges both workers by score', async () => {
    assert.ok(existsSync(join(dir, 'ws', 'shard-0')) && existsSync(join(dir, 'ws', 'shard-1')), 'each worker uses its shard folder');
    await assertMergedSearch(flow);
  });
});
