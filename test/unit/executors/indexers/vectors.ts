// Shared data for the indexer tests: seeded random vectors and exact cosine ranking.
import { randomVectors } from '../../../../bench/prng.js';
import { cosine } from '../../../../executors/clip/rank.js';
import type { StoredDoc } from '../../../../executors/indexers/index-backend.js';

export { randomVectors };

export function randomDocs(n: number, dim: number, seed: number, prefix = 'd'): Array<StoredDoc & { embedding: Float32Array }> {
  return randomVectors(n, dim, seed).map((embedding, i) => ({
    id: `${prefix}${i}`,
    text: `text ${i}`,
    tags: { group: i % 3, parity: i % 2 ? 'odd' : 'even' },
    embedding,
  }));
}

/** Cosine distance, 1 - cosine similarity. */
export function cosineDistance(a: Float32Array, b: Float32Array): number {
  return 1 - cosine(a, b);
}

/** The exact top-k ids and distances of a query, ascending. */
export function exactTopK(query: Float32Array, docs: Array<{ id: string; embedding: Float32Array }>, k: number): Array<{ id: string; distance: number }> {
  return docs
    .map((d) => ({ id: d.id, distance: cosineDistance(query, d.embedding) }))
    .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1))
    .slice(0, k);
}

/**
 * Asserts a result list equals the exact ranking: same distances (to float32
 * precision) in the same order, and the same ids except where two exact
 * distances are too close for float32 to order.
 */
export function assertExactOrder(got: Array<{ id: string; distance: number }>, want: Array<{ id: string; distance: number }>, tolerance = 2e-6): void {
  if (got.length !== want.length) throw new Error(`expected ${want.length} hits, got ${got.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Math.abs(g.distance - w.distance) > tolerance) throw new Error(`hit ${i}: distance ${g.distance} != exact ${w.distance}`);
    if (g.id !== w.id) {
      const near = want.some((x, j) => j !== i && x.id === g.id && Math.abs(x.distance - w.distance) <= tolerance);
      if (!near) throw new Error(`hit ${i}: got ${g.id}, exact order has ${w.id}`);
    }
  }
}
