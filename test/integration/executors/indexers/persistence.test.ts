// The indexer served by the real CLI in a child process: whatever it acknowledged
// survives a SIGKILL, for both backends. (A clean restart is covered in-process by
// indexer-behaviour.test.ts.)
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { serve } from '../../../helpers/cli.js';
import { randomVectors } from '../../../unit/executors/indexers/vectors.js';
import { embeddedDocs, indexerStatus } from './indexer-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'clipflow-persist-'));
after(() => rmSync(root, { recursive: true, force: true }));

function flowFile(backend: string): string {
  const dir = mkdtempSync(join(root, `${backend}-`));
  const file = join(dir, 'flow.yml');
  // A small compaction threshold makes the memory backend snapshot mid-run, so the
  // SIGKILL lands after a compaction, with a log on top of the snapshot.
  writeFileSync(
    file,
    `jtype: Flow
version: '1'
with: { host: 127.0.0.1 }
executors:
  - name: indexer
    uses:
      jtype: VectorIndexer
      with: { backend: ${backend}${backend === 'memory' ? ', compact_bytes: 20000' : ''} }
    workspace: ./workspace
`,
  );
  return file;
}

async function storedIds(client: Client, dim: number): Promise<Set<string>> {
  const { count } = await indexerStatus(client);
  const [res] = await client.search([new Document({ embedding: new Float32Array(dim).fill(1) })], { limit: Math.max(count, 1) });
  return new Set(res!.matches.map((m) => m.id));
}

// The two backends run side by side: most of the time is child processes starting.
describe('VectorIndexer durability through the CLI', { concurrency: true }, () => {
  for (const backend of ['lancedb', 'memory'] as const) {
    it(`${backend}: every acknowledged index, update and delete survives a SIGKILL`, async () => {
      const args = [flowFile(backend), '--port', '0', '--protocol', 'http'];
      const vectors = randomVectors(220, 16, 201);
      let server = await serve(args, 1);
      let client = new Client(server.urls[0]!);
      const acked = new Set<string>();
      for (let b = 0; b < 10; b++) {
        const batch = embeddedDocs(vectors.slice(b * 20, b * 20 + 20), `b${b}-`);
        await client.index(batch, { batchSize: 20 });
        for (const d of batch) acked.add(d.id);
      }
      await client.post('/delete', [new Document({ id: 'b0-0' })]);
      acked.delete('b0-0');
      await client.post('/update', [new Document({ id: 'b1-1', tags: { updated: true }, embedding: vectors[0]! })]);
      // One more batch in flight when the process dies: it may or may not have landed.
      const inflight = client.index(embeddedDocs(vectors.slice(200, 220), 'late-'), { batchSize: 20 }).catch(() => undefined);
      server.child.kill('SIGKILL');
      assert.equal((await server.done).signal, 'SIGKILL');
      await inflight;
      await client.close();

      server = await serve(args, 1);
      client = new Client(server.urls[0]!);
      try {
        const ids = await storedIds(client, 16);
        for (const id of acked) assert.ok(ids.has(id), `acknowledged ${id} survived`);
        assert.ok(!ids.has('b0-0'), 'the acknowledged delete survived');
        assert.ok(ids.size === acked.size || ids.size === acked.size + 20, `${ids.size} stored: the acknowledged ones, plus at most the batch in flight`);
        const [res] = await client.search([new Document({ embedding: vectors[0]! })], { limit: 2 });
        assert.deepEqual(res!.matches.find((m) => m.id === 'b1-1')?.tags, { updated: true }, 'the acknowledged update survived');
      } finally {
        await client.close();
        server.child.kill('SIGTERM');
        assert.equal((await server.done).code, 0, 'clean shutdown after recovery');
      }
    });
  }
});
