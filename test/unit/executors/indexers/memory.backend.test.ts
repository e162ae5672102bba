import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BadRequestError } from '../../../../core/errors.js';
import { MemoryBackend } from '../../../../executors/indexers/memory.backend.js';
import { parseFilter } from '../../../../executors/indexers/tag-filter.js';
import { assertExactOrder, exactTopK, randomDocs, randomVectors } from './vectors.js';

const hits = async (b: MemoryBackend, q: Float32Array, limit: number, filter?: unknown) =>
  (await b.search({ queries: [q], limit, includeEmbeddings: false, filter: parseFilter(filter) }))[0]!.map((h) => ({ id: h.doc.id, distance: h.distance }));

/** Backends a test "crashed" (never closed): kept referenced so their files are not closed by GC mid-run. */
const crashed: MemoryBackend[] = [];

describe('MemoryBackend', () => {
  const root = mkdtempSync(join(tmpdir(), 'clipflow-membackend-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('searches exactly, with tag filters, without any files when it has no folder', async () => {
    const b = new MemoryBackend();
    await b.open();
    assert.equal(b.dim(), undefined);
    assert.deepEqual(await hits(b, Float32Array.of(1, 0), 3), []);
    const docs = randomDocs(200, 16, 11);
    await b.upsert(docs);
    const q = randomVectors(1, 16, 12)[0]!;
    assertExactOrder(await hits(b, q, 10), exactTopK(q, docs, 10));
    const odd = docs.filter((d) => d.tags.parity === 'odd' && d.tags.group === 1);
    assertExactOrder(await hits(b, q, 50, { parity: 'odd', group: 1 }), exactTopK(q, odd, 50));
    await assert.rejects(b.search({ queries: [q], limit: 1, includeEmbeddings: false, filter: parseFilter("text = 'a'") }), BadRequestError);
    await assert.rejects(b.buildAnnIndex(), /always searches exactly/);
    assert.equal(await b.delete(['d1', 'd1', 'nope']), 1);
    assert.deepEqual([...(await b.existing(['d1', 'd2']))], ['d2']);
    await b.close();
  });

  it('replays its log after a crash (no close) and drops a torn tail', async () => {
    const dir = join(root, 'crash');
    const docs = randomDocs(100, 8, 21);
    const b = new MemoryBackend({ dir });
    await b.open();
    await b.upsert(docs.slice(0, 60));
    await b.upsert(docs.slice(60));
    await b.delete(['d3', 'd4']);
    await b.upsert([{ ...docs[5]!, text: 'replaced', tags: { new: true } }]);
    // No close(): like a SIGKILL. Then a half-written record, as a crash mid-append leaves.
    crashed.push(b);
    const log = readdirSync(dir).find((n) => n.endsWith('.log'))!;
    const size = statSync(join(dir, log)).size;
    appendFileSync(join(dir, log), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const again = new MemoryBackend({ dir });
    await again.open();
    assert.equal(await again.count(), 98);
    assert.equal(statSync(join(dir, log)).size, size, 'torn tail cut off');
    const [[top]] = [await again.search({ queries: [docs[5]!.embedding], limit: 1, includeEmbeddings: true })];
    assert.equal(top![0]!.doc.text, 'replaced');
    assert.deepEqual(top![0]!.doc.tags, { new: true });
    assert.ok(top![0]!.doc.embedding!.every((x, i) => Math.abs(x - docs[5]!.embedding[i]!) < 1e-6));
    const q = randomVectors(1, 8, 22)[0]!;
    const live = docs.filter((d) => d.id !== 'd3' && d.id !== 'd4');
    assertExactOrder(await hits(again, q, 20), exactTopK(q, live, 20));
    await again.close();
  });

  it('compacts into a snapshot (amortised), survives a half-written snapshot, and restarts from it', async () => {
    const dir = join(root, 'compact');
    const docs = randomDocs(300, 8, 31);
    const b = new MemoryBackend({ dir, compactBytes: 4096 });
    await b.open();
    for (let i = 0; i < 300; i += 10) await b.upsert(docs.slice(i, i + 10));
    await b.delete(docs.slice(0, 50).map((d) => d.id));
    const files = readdirSync(dir);
    assert.equal(files.filter((n) => n.endsWith('.snapshot')).length, 1, `one snapshot: ${files}`);
    assert.equal(files.filter((n) => n.endsWith('.log')).length, 1);
    // A compaction that died before its rename leaves only a .tmp: it must be ignored.
    writeFileSync(join(dir, 'vectors-999.snapshot.tmp'), 'garbage');
    const again = new MemoryBackend({ dir });
    await again.open();
    assert.equal(await again.count(), 250);
    assert.equal(again.dim(), 8);
    const q = randomVectors(1, 8, 32)[0]!;
    assertExactOrder(await hits(again, q, 25), exactTopK(q, docs.slice(50), 25));
    await again.close();
    // close() compacts: the next start has an empty log.
    const logs = readdirSync(dir).filter((n) => n.endsWith('.log'));
    assert.equal(logs.length, 1);
    assert.equal(statSync(join(dir, logs[0]!)).size, 0);
    assert.equal(readdirSync(dir).some((n) => n.endsWith('.tmp')), false);
  });

  it('keeps the dimension of an index emptied by deletes, across restarts', async () => {
    const dir = join(root, 'empty');
    const b = new MemoryBackend({ dir });
    await b.open();
    await b.upsert(randomDocs(3, 5, 41));
    await b.delete(['d0', 'd1', 'd2']);
    await b.close();
    const again = new MemoryBackend({ dir });
    await again.open();
    assert.equal(await again.count(), 0);
    assert.equal(again.dim(), 5);
    await again.close();
  });
});
