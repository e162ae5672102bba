import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VectorMatrix } from '../../../../executors/indexers/vector-matrix.js';
import { assertExactOrder, exactTopK, randomDocs, randomVectors } from './vectors.js';

describe('VectorMatrix', () => {
  it('ranks exactly like float64 cosine, across growth, replacement and swap-removes', () => {
    const docs = randomDocs(500, 24, 1);
    const m = new VectorMatrix(24, 4); // tiny capacity: grows by doubling many times
    for (const d of docs) m.put(d);
    // Replace some, remove some (swap-remove moves the last rows into the holes).
    const live = new Map(docs.map((d) => [d.id, d]));
    for (const [i, v] of randomVectors(50, 24, 2).entries()) {
      const d = { ...docs[i * 7]!, embedding: v };
      m.put(d);
      live.set(d.id, d);
    }
    for (let i = 0; i < 500; i += 5) {
      assert.equal(m.remove(`d${i}`), true);
      live.delete(`d${i}`);
    }
    assert.equal(m.remove('d0'), false);
    assert.equal(m.size, live.size);
    for (const q of randomVectors(20, 24, 3)) {
      const got = m.search(q, 15).map(({ row, distance }) => ({ id: m.idOf(row), distance }));
      assertExactOrder(got, exactTopK(q, [...live.values()], 15));
    }
  });

  it('gives back the indexed embedding and metadata, filters rows, and handles small and empty results', () => {
    const m = new VectorMatrix(3);
    m.put({ id: 'a', text: 'x', tags: { k: 1 }, embedding: Float32Array.of(3, 4, 0) });
    m.put({ id: 'b', uri: 'http://e/b.png', mimeType: 'image/png', tags: { k: 2 }, embedding: Float32Array.of(0, 0, 2) });
    const [hit] = m.search(Float32Array.of(1, 1, 0), 1);
    const doc = m.doc(hit!.row, true);
    assert.equal(doc.id, 'a');
    assert.deepEqual([...doc.embedding!].map((x) => Math.round(x * 1e5) / 1e5), [3, 4, 0]);
    assert.equal(m.doc(hit!.row, false).embedding, undefined);
    assert.equal(m.search(Float32Array.of(1, 1, 0), 10).length, 2, 'limit above size returns all');
    const only = m.search(Float32Array.of(1, 0, 0), 10, (row) => m.tagsOf(row).k === 2);
    assert.deepEqual(only.map((h) => m.idOf(h.row)), ['b']);
    assert.ok(Math.abs(only[0]!.distance - 1) < 1e-7, 'orthogonal: distance 1');
    assert.equal(m.search(Float32Array.of(1, 0, 0), 0).length, 0);
  });

  it('treats a zero vector as orthogonal to everything and breaks exact ties by id', () => {
    const m = new VectorMatrix(2);
    for (const id of ['c', 'a', 'b']) m.put({ id, tags: {}, embedding: Float32Array.of(1, 1) });
    m.put({ id: 'z', tags: {}, embedding: Float32Array.of(0, 0) });
    const hits = m.search(Float32Array.of(2, 2), 4).map((h) => [m.idOf(h.row), Math.round(h.distance * 1e6) / 1e6]);
    assert.deepEqual(hits, [['a', 0], ['b', 0], ['c', 0], ['z', 1]]);
    assert.throws(() => m.put({ id: 'x', tags: {}, embedding: Float32Array.of(1, 2, 3) }), /2-d/);
  });
});
