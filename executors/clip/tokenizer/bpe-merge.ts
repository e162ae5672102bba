/**
 * The BPE merge loop on symbol ids, two ways that give identical results.
 *
 * OpenAI's rule: find the adjacent pair with the lowest merge rank, merge every
 * occurrence of it left to right (non-overlapping), repeat until no pair has a rank.
 *
 * - {@link mergeWithScan} does exactly that: O(n) per round, O(n²) worst case; the
 *   fastest choice for ordinary words.
 * - {@link mergeWithHeap} pops pairs from a heap ordered by (rank, position) over a
 *   linked list: O(n log n), so a pathological 100k-character "word" costs
 *   milliseconds. It matches the scan whenever a merge's parts are only produced
 *   by lower-ranked merges (`rankOrderConsistent`, checked at load): then all
 *   occurrences of one rank are popped left to right before any pair they create,
 *   which is the scan's order.
 */

/** Merge rules indexed for id-level lookups. */
export interface MergeTable {
  /** (leftId * stride + rightId) → rank. */
  readonly rankOf: ReadonlyMap<number, number>;
  /** Per rank: left part, right part and merged id. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly result: Int32Array;
  readonly stride: number;
  readonly rankOrderConsistent: boolean;
}

/** OpenAI's loop, literally. */
export function mergeWithScan(symbols: number[], table: MergeTable): number[] {
  const { rankOf, stride } = table;
  let word = symbols;
  while (word.length > 1) {
    let best = -1;
    for (let i = 0; i < word.length - 1; i++) {
      const rank = rankOf.get((word[i] as number) * stride + (word[i + 1] as number));
      if (rank !== undefined && (best < 0 || rank < best)) best = rank;
    }
    if (best < 0) break;
    const a = table.left[best] as number;
    const b = table.right[best] as number;
    const merged = table.result[best] as number;
    const next: number[] = [];
    for (let i = 0; i < word.length; i++) {
      if (word[i] === a && i < word.length - 1 && word[i + 1] === b) {
        next.push(merged);
        i++;
      } else {
        next.push(word[i] as number);
      }
    }
    word = next;
  }
  return word;
}

// Heap keys pack (rank, position) into one double: rank * 2^32 + position stays exact
// below 2^53, i.e. for up to 2^21 merge rules.
const POSITION_SPAN = 2 ** 32;

class KeyHeap {
  private keys = new Float64Array(64);
  size = 0;

  push(key: number): void {
    if (this.size === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const k = this.keys;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((k[parent] as number) <= key) break;
      k[i] = k[parent] as number;
      i = parent;
    }
    k[i] = key;
  }

  pop(): number {
    const k = this.keys;
    const top = k[0] as number;
    const last = k[--this.size] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && (k[child + 1] as number) < (k[child] as number)) child++;
      if ((k[child] as number) >= last) break;
      k[i] = k[child] as number;
      i = child;
    }
    k[i] = last;
    return top;
  }
}

/** Same result as {@link mergeWithScan} when `table.rankOrderConsistent`; O(n log n). */
export function mergeWithHeap(symbols: number[], table: MergeTable): number[] {
  const { rankOf, stride } = table;
  const n = symbols.length;
  const sym = Int32Array.from(symbols);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new KeyHeap();
  const offer = (pos: number): void => {
    const right = next[pos] as number;
    if (right < 0) return;
    const rank = rankOf.get((sym[pos] as number) * stride + (sym[right] as number));
    if (rank !== undefined) heap.push(rank * POSITION_SPAN + pos);
  };
  for (let i = 0; i < n - 1; i++) offer(i);

  while (heap.size > 0) {
    const key = heap.pop();
    const rank = Math.floor(key / POSITION_SPAN);
    const pos = key - rank * POSITION_SPAN;
    const right = next[pos] as number;
    // Stale entry: this node was absorbed, or it or its neighbour has changed since.
    if (sym[pos] === -1 || right < 0 || sym[pos] !== table.left[rank] || sym[right] !== table.right[rank]) continue;
    sym[pos] = table.result[rank] as number;
    sym[right] = -1;
    const after = next[right] as number;
    next[pos] = after;
    if (after >= 0) prev[after] = pos;
    const before = prev[pos] as number;
    if (before >= 0) offer(before);
    offer(pos);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i] as number) out.push(sym[i] as number);
  return out;
}
