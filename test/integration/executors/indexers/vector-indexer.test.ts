// ClipEncoder -> VectorIndexer served for real (tiny generated model) on every protocol,
// for both backends: index, search, update, delete and status through the Client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../../../core/client/client.js';
import { packagePath } from '../../../../core/config/paths.js';
import { loadFlowFile } from '../../../../core/flow/load.js';
import { serveFlow } from '../../../../core/serve/gateway.js';
import { Document } from '../../../../core/document/document.js';
import { flowYaml, serveYaml } from '../../../helpers/flows.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';
import { indexerStatus } from './indexer-helpers.js';

const PROTOCOLS = ['grpc', 'http', 'websocket'] as const;
const SENTENCES = ['a red square', 'a blue circle', 'a green triangle', 'two yellow stars', 'a photo of a dog', 'a photo of a cat'];

for (const backend of ['lancedb', 'memory'] as const) {
  describe(`ClipEncoder -> VectorIndexer (${backend}) over every protocol`, () => {
    let serving: Awaited<ReturnType<typeof serveYaml>>;
    let workspace: string;
    before(async () => {
      workspace = mkdtempSync(join(tmpdir(), `clipflow-vi-${backend}-`));
      serving = await serveYaml(
        flowYaml(`  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${tinyModelDir('clip-server')}' }
  - name: indexer
    uses:
      jtype: VectorIndexer
      with: { backend: ${backend} }
    workspace: '${workspace}'
`),
      );
    });
    after(async () => {
      await serving.close(1000);
      rmSync(workspace, { recursive: true, force: true });
    });

    for (const protocol of PROTOCOLS) {
      it(`${protocol}: index, search (nearest first, cosine distance), update, delete, status`, async () => {
        const client = new Client(serving.url(protocol));
        try {
          // Each protocol keeps to its own documents through a tag filter.
          const only = { parameters: { filter: { protocol } } };
          const indexed = await client.index(SENTENCES.map((text, i) => new Document({ id: `${protocol}-${i}`, text, tags: { protocol, i } })));
          assert.deepEqual(indexed.map((d) => d.id), SENTENCES.map((_, i) => `${protocol}-${i}`));

          const [hit] = await client.search([new Document({ id: 'q', text: 'a green triangle' })], { limit: 4, ...only });
          assert.equal(hit!.id, 'q');
          const matches = hit!.matches;
          assert.equal(matches.length, 4);
          assert.equal(matches[0]!.id, `${protocol}-2`, 'the identical sentence is nearest');
          assert.equal(matches[0]!.text, 'a green triangle');
          assert.deepEqual(matches[0]!.tags, { protocol, i: 2 });
          assert.ok(Math.abs(matches[0]!.scores.cosine!.value!) < 1e-5, 'distance 0 to itself');
          const distances = matches.map((m) => m.scores.cosine!.value!);
          assert.deepEqual([...distances].sort((a, b) => a - b), distances, 'ascending distance');
          for (const m of matches) {
            assert.equal(m.scores.cosine!.opName, 'cosine');
            assert.equal(m.embedding, undefined, 'no embeddings unless asked');
            assert.equal(m.tags.protocol, protocol);
          }
          const [withVectors] = await client.search(['a red square'], { limit: 1, parameters: { filter: { protocol }, include_embeddings: true } });
          assert.equal(withVectors!.matches[0]!.embedding!.length, 16);

          await client.post('/update', [new Document({ id: `${protocol}-2`, text: 'a purple hexagon', tags: { protocol, i: 2, edited: true } })]);
          const [after] = await client.search(['a purple hexagon'], { limit: 1, ...only });
          assert.equal(after!.matches[0]!.id, `${protocol}-2`);
          assert.equal(after!.matches[0]!.text, 'a purple hexagon');
          assert.equal(after!.matches[0]!.tags.edited, true);
          await assert.rejects(client.post('/update', [new Document({ id: `${protocol}-nope`, text: 'x' })]), new RegExp(`not indexed: ${protocol}-nope`));

          let deleted: unknown;
          await client.post('/delete', [new Document({ id: `${protocol}-0` }), new Document({ id: `${protocol}-zzz` })], {
            onDone: (r) => (deleted = (r.parameters.__results__ as Record<string, unknown>).indexer),
          });
          assert.deepEqual(deleted, { deleted: 1 });
          const [gone] = await client.search(['a red square'], { limit: 10, ...only });
          assert.equal(gone!.matches.length, SENTENCES.length - 1);
          assert.ok(!gone!.matches.some((m) => m.id === `${protocol}-0`));

          const status = await indexerStatus(client);
          assert.equal(status.backend, backend);
          assert.equal(status.dim, 16);
          assert.ok(status.count >= SENTENCES.length - 1);
        } finally {
          await client.close();
        }
      });
    }
  });
}

describe('flows/search.yml', () => {
  it('loads as shipped and serves index + search (model and workspace swapped for test ones)', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'clipflow-searchyml-'));
    const loaded = await loadFlowFile(packagePath('flows', 'search.yml'), { port: [0], host: '127.0.0.1', executorWith: { model_path: tinyModelDir('clip-server') } });
    assert.deepEqual(loaded.executors.map((e) => e.uses.jtype), ['ClipEncoder', 'VectorIndexer']);
    assert.equal(loaded.executors[1]!.workspace, packagePath('flows', 'workspace'));
    const serving = await serveFlow({ ...loaded, executors: loaded.executors.map((e) => (e.name === 'indexer' ? { ...e, workspace } : e)) });
    const client = new Client(serving.servers[0]!.url);
    try {
      await client.index(SENTENCES.map((text) => new Document({ text })));
      const [res] = await client.search(['a photo of a cat'], { limit: 2 });
      assert.equal(res!.matches[0]!.text, 'a photo of a cat');
      assert.deepEqual(await indexerStatus(client), { count: SENTENCES.length, dim: 16, backend: 'lancedb' });
    } finally {
      await client.close();
      await serving.close(1000);
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
