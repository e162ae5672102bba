import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BadRequestError } from '../../../../core/errors.js';
import { LanceDbBackend } from '../../../../executors/indexers/lancedb.backend.js';
import { parseFilter } from '../../../../executors/indexers/tag-filter.js';
import { assertExactOrder, exactTopK, randomDocs, randomVectors } from './vectors.js';

const hits = async (b: LanceDbBackend, q: Float32Array, limit: number, filter?: unknown, exact = false) =>
  (await b.search({ queries: [q], limit, includeEmbeddings: false, filter: parseFilter(filter), exact }))[0]!.map((h) => ({ id: h.doc.id, distance: h.distance }));

describe('LanceDbBackend', () => {
  const root = mkdtempSync(join(tmpdir(), 'clipflow-lance-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('searches exactly (flat), filters by tags and where strings, and reopens what it stored', async () => {
    const dir = join(root, 'a');
    const docs = randomDocs(300, 16, 51);
    const b = new LanceDbBackend({ dir, table: 'docs' });
    await b.open();
    assert.equal(b.dim(), undefined);
    assert.deepEqual(await hits(b, docs[0]!.embedding, 5), []);
    await b.upsert(docs.slice(0, 150));
    await b.upsert([...docs.slice(150), { ...docs[0]!, text: 'dup, first' }, { ...docs[0]!, text: 'dup, last' }]);
    assert.equal(await b.count(), 300);
    assert.equal(b.dim(), 16);
    const q = randomVectors(1, 16, 52)[0]!;
    assertExactOrder(await hits(b, q, 10), exactTopK(q, docs, 10), 1e-5);
    const sub = docs.filter((d) => d.tags.group === 2 && d.tags.parity === 'even');
    assertExactOrder(await hits(b, q, 40, { group: 2, parity: 'even' }), exactTopK(q, sub, 40), 1e-5);
    const where = await hits(b, q, 300, "text = 'text 7' OR text = 'dup, last'");
    assert.deepEqual(where.map((h) => h.id).sort(), ['d0', 'd7']);
    await assert.rejects(hits(b, q, 3, 'no_such_column = 1'), (e: Error) => e instanceof BadRequestError && /parameters\.filter/.test(e.message));
    const [[first]] = [await b.search({ queries: [docs[0]!.embedding], limit: 1, includeEmbeddings: true })];
    assert.equal(first![0]!.doc.text, 'dup, last');
    assert.deepEqual([...first![0]!.doc.embedding!], [...docs[0]!.embedding]);
    await b.close();
    const again = new LanceDbBackend({ dir, table: 'docs' });
    await again.open();
    assert.equal(await again.count(), 300);
    assert.equal(again.dim(), 16);
    assertExactOrder(await hits(again, q, 10), exactTopK(q, docs, 10), 1e-5);
    await again.close();
  });

  it('deletes and finds ids that are hostile SQL (quotes, backslashes, newlines)', async () => {
    const b = new LanceDbBackend({ dir: join(root, 'ids'), table: 'docs' });
    await b.open();
    const ids = ["it's", "x') OR (1=1", 'back\\slash\\', 'line\nbreak', '%_*', 'ünï"cödé', "'; DROP TABLE docs; --"];
    const vectors = randomVectors(ids.length + 1, 4, 61);
    await b.upsert([...ids, 'innocent'].map((id, i) => ({ id, tags: {}, embedding: vectors[i]! })));
    assert.deepEqual([...(await b.existing([...ids, 'missing']))].sort(), [...ids].sort());
    assert.equal(await b.delete([ids[1]!, ids[6]!]), 2);
    assert.equal(await b.count(), 6, 'only the two named rows went');
    assert.equal(await b.delete(ids), 5);
    assert.deepEqual([...(await b.existing(['innocent']))], ['innocent']);
    await b.close();
  });

  it('builds an IVF index on request; exact search still bypasses it', async () => {
    const b = new LanceDbBackend({ dir: join(root, 'ann'), table: 'docs' });
    await b.open();
    await assert.rejects(b.buildAnnIndex({ type: 'IVF_FLAT' }), /needs indexed documents/);
    const docs = randomDocs(600, 8, 71);
    await b.upsert(docs);
    const built = await b.buildAnnIndex({ type: 'IVF_FLAT', numPartitions: 4 });
    assert.equal(built.index, 'IVF_FLAT');
    const q = randomVectors(1, 8, 72)[0]!;
    assertExactOrder(await hits(b, q, 10, undefined, true), exactTopK(q, docs, 10), 1e-5);
    const approx = await b.search({ queries: [q], limit: 10, includeEmbeddings: false, nprobes: 4 });
    const exact = new Set(exactTopK(q, docs, 10).map((h) => h.id));
    assert.equal(approx[0]!.filter((h) => exact.has(h.doc.id)).length, 10, 'probing every partition of IVF_FLAT is exact');
    await b.close();
  });

  it('with ann options, builds the index by itself once the table is big enough, and finds it on reopen', async () => {
    const dir = join(root, 'auto');
    const ann = { type: 'IVF_FLAT' as const, numPartitions: 2, minRows: 300 };
    const b = new LanceDbBackend({ dir, table: 'docs', ann });
    await b.open();
    const docs = randomDocs(400, 8, 81);
    await b.upsert(docs.slice(0, 200));
    assert.equal(b.annIndexType(), undefined);
    await b.upsert(docs.slice(200));
    assert.equal(b.annIndexType(), 'IVF_FLAT');
    await b.close();
    const again = new LanceDbBackend({ dir, table: 'docs' });
    await again.open();
    assert.equal(again.annIndexType(), 'IVF_FLAT');
    await again.close();
  });
});
