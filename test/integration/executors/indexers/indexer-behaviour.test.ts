// VectorIndexer on its own (documents arrive with embeddings), served for real:
// exact ranking before and after a restart, caller errors, concurrency, start-up refusals.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { serveYaml } from '../../../helpers/flows.js';
import { assertExactOrder, exactTopK, randomVectors } from '../../../unit/executors/indexers/vectors.js';
import { embeddedDocs, indexerOnlyFlow, indexerStatus } from './indexer-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'clipflow-vib-'));
after(() => rmSync(root, { recursive: true, force: true }));

for (const backend of ['lancedb', 'memory'] as const) {
  describe(`VectorIndexer (${backend}) ranking`, () => {
    it('orders matches exactly by cosine on held-out queries, before and after a restart', async () => {
      const workspace = join(root, `order-${backend}`);
      const stored = randomVectors(400, 32, 101);
      const docs = embeddedDocs(stored);
      const queries = randomVectors(6, 32, 102);
      const truth = queries.map((q) => exactTopK(q, docs.map((d, i) => ({ id: d.id, embedding: stored[i]! })), 12));
      const check = async (client: Client) => {
        const results = await client.search(queries.map((embedding, i) => new Document({ id: `q${i}`, embedding })), { limit: 12 });
        results.forEach((r, i) => assertExactOrder(r.matches.map((m) => ({ id: m.id, distance: m.scores.cosine!.value! })), truth[i]!, 1e-5));
      };
      let serving = await serveYaml(indexerOnlyFlow(`{ backend: ${backend} }`, workspace));
      let client = new Client(serving.url('grpc'));
      await client.index(docs, { batchSize: 50 });
      await check(client);
      await client.close();
      await serving.close(1000);
      serving = await serveYaml(indexerOnlyFlow(`{ backend: ${backend} }`, workspace));
      client = new Client(serving.url('websocket'));
      try {
        assert.deepEqual(await indexerStatus(client), { count: 400, dim: 32, backend });
        await check(client);
      } finally {
        await client.close();
        await serving.close(1000);
      }
    });

    it('reports caller errors naming the document; concurrent index and search all succeed', async () => {
      const serving = await serveYaml(indexerOnlyFlow(`{ backend: ${backend} }`, join(root, `errors-${backend}`)));
      const client = new Client(serving.url('grpc'));
      try {
        await client.index(embeddedDocs(randomVectors(3, 8, 111), 'first'));
        await assert.rejects(client.index([new Document({ id: 'short', embedding: new Float32Array(4) })]), /expected 8-d embeddings, document short has 4/);
        await assert.rejects(client.index([new Document({ id: 'bare', text: 'no vector' })]), /document bare \(index 0\) has no embedding/);
        await assert.rejects(client.search([new Document({ id: 'qq', embedding: new Float32Array(3) })]), /expected 8-d embeddings, query document qq has 3/);
        await assert.rejects(client.search([new Document({ embedding: new Float32Array(8) })], { parameters: { filter: [1] } }), /parameters\.filter/);
        await assert.rejects(client.search([new Document({ embedding: new Float32Array(8) })], { limit: -1 }), /parameters\.limit/);
        const res = await fetch(`${serving.url('http')}/post`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ execEndpoint: '/index', data: [{ id: 'wide', embedding: [1, 2, 3, 4, 5, 6, 7, 8, 9] }] }),
        });
        assert.equal(res.status, 400);
        assert.match(((await res.json()) as { header: { status: { description: string } } }).header.status.description, /indexer: expected 8-d embeddings, document wide has 9/);

        const vectors = randomVectors(200, 8, 112);
        const writers = Array.from({ length: 10 }, (_, w) => client.index(embeddedDocs(vectors.slice(w * 20, w * 20 + 20), `w${w}-`), { batchSize: 5 }));
        const readers = Array.from({ length: 10 }, (_, r) => client.search([new Document({ embedding: vectors[r]! })], { limit: 5 }));
        const results = await Promise.all([...writers, ...readers]);
        assert.equal(results.length, 20);
        assert.equal((await indexerStatus(client)).count, 203);
      } finally {
        await client.close();
        await serving.close(1000);
      }
    });
  });
}

describe('VectorIndexer start-up and filters', () => {
  it('refuses a second replica (or a second flow) on one workspace, and lancedb without a workspace', async () => {
    // Its own workspace: the framework does not close replica 0 when replica 1 fails its init.
    await assert.rejects(serveYaml(indexerOnlyFlow('{ backend: lancedb }', join(root, 'replicas'), '    replicas: 2\n')), /already open by another indexer.*replicas: 1/);
    const workspace = join(root, 'locked');
    const first = await serveYaml(indexerOnlyFlow('{ backend: memory }', workspace));
    try {
      await assert.rejects(serveYaml(indexerOnlyFlow('{ backend: memory }', workspace)), /workspace .*locked|already open/);
    } finally {
      await first.close(1000);
    }
    // Closed cleanly: the lock is gone and the workspace opens again.
    const again = await serveYaml(indexerOnlyFlow('{ backend: memory }', workspace));
    await again.close(1000);
    await assert.rejects(serveYaml(indexerOnlyFlow('{ backend: lancedb }')), /lancedb needs a workspace/);
    await assert.rejects(serveYaml(indexerOnlyFlow('{ backend: memory }', undefined, '    replicas: 2\n')), /in-memory VectorIndexer .* use replicas: 1/);
    await assert.rejects(serveYaml(indexerOnlyFlow('{ backend: faiss }')), /unknown backend "faiss"; known backends: lancedb, memory/);
  });

  it('memory without a workspace keeps data in memory; lancedb takes where strings and builds an ANN index on request', async () => {
    const mem = await serveYaml(indexerOnlyFlow('{ backend: memory }'));
    const lance = await serveYaml(indexerOnlyFlow('{ backend: lancedb }', join(root, 'where')));
    const a = new Client(mem.url('http'));
    const b = new Client(lance.url('http'));
    try {
      const docs = embeddedDocs(randomVectors(300, 8, 121));
      await a.index(docs, { batchSize: 100 });
      await b.index(docs, { batchSize: 100 });
      const query = [new Document({ embedding: docs[5]!.embedding! })];
      const [m] = await a.search(query, { limit: 3, parameters: { filter: { i: 5 } } });
      assert.deepEqual(m!.matches.map((x) => x.id), ['d5']);
      await assert.rejects(a.search(query, { parameters: { filter: "text = 'doc 5'" } }), /needs the lancedb backend/);
      const [w] = await b.search(query, { limit: 3, parameters: { filter: "text IN ('doc 5', 'doc 7')" } });
      assert.deepEqual(w!.matches.map((x) => x.id), ['d5', 'd7']);
      let built: Record<string, unknown> | undefined;
      await b.post('/build_index', [new Document()], {
        parameters: { type: 'IVF_FLAT', num_partitions: 2 },
        onDone: (r) => (built = (r.parameters.__results__ as Record<string, Record<string, unknown>>).indexer),
      });
      assert.equal(built?.index, 'IVF_FLAT');
      const [ann] = await b.search(query, { limit: 1, parameters: { nprobes: 2 } });
      assert.equal(ann!.matches[0]!.id, 'd5');
      await assert.rejects(a.post('/build_index', [new Document()]), /always searches exactly/);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([mem.close(1000), lance.close(1000)]);
    }
  });
});
