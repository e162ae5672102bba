/** mulberry32: a small seeded PRNG, uniform floats in [0, 1). The same seed gives the same stream in every process. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` seeded vectors of `dim` uniform values in [-1, 1). */
export function randomVectors(n: number, dim: number, seed: number): Float32Array[] {
  const next = prng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => next() * 2 - 1));
}
