import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planTextRuns, RUN_OVERHEAD_TOKENS, runOverheadTokens } from '../../../../executors/clip/text-batches.js';

/** Padded tokens plus run prices of a plan, the quantity the planner minimises. */
function cost(lengths: number[], ends: number[], overhead = RUN_OVERHEAD_TOKENS): number {
  let start = 0;
  let total = 0;
  for (const end of ends) {
    total += overhead + (end - start) * lengths[end - 1]!;
    start = end;
  }
  return total;
}

/** Every way to cut `n` sorted texts into runs of at most `max` (small n only). */
function* allPlans(n: number, max: number, start = 0): Generator<number[]> {
  if (start === n) {
    yield [];
    return;
  }
  for (let end = start + 1; end <= Math.min(n, start + max); end++) for (const rest of allPlans(n, max, end)) yield [end, ...rest];
}

describe('planTextRuns', () => {
  it('covers every text once, in order, with runs no longer than the minibatch', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => 5 + Math.floor((i * 7) / 200) * 10);
    const ends = planTextRuns(lengths, 32);
    assert.equal(ends[ends.length - 1], 200);
    let start = 0;
    for (const end of ends) {
      assert.ok(end > start && end - start <= 32, `run ${start}..${end}`);
      start = end;
    }
  });

  it('keeps equal lengths in as few runs as the minibatch allows', () => {
    assert.equal(planTextRuns(new Array(70).fill(77), 32).length, 3);
    assert.deepEqual(planTextRuns(new Array(20).fill(9), 32), [20]);
  });

  it('cuts a request of short captions where the lengths jump', () => {
    // 32 captions of 5..12 tokens, four of each: one run pads all of them to 12.
    const lengths = Array.from({ length: 32 }, (_, i) => 5 + Math.floor(i / 4));
    const ends = planTextRuns(lengths, 32);
    assert.ok(ends.length >= 2, `one run padded to 12: ${ends}`);
    assert.ok(cost(lengths, ends) < cost(lengths, [32]));
    // Two merged requests (64 captions) are cut finer than two equal halves.
    const merged = Array.from({ length: 64 }, (_, i) => 5 + Math.floor(i / 8));
    assert.ok(cost(merged, planTextRuns(merged, 32)) < cost(merged, [32, 64]));
  });

  it('never splits off a short run when the saving does not pay for it', () => {
    // Ten texts padded from 12 to 13 waste 10 tokens, less than a run costs; from 8 to 40, 320.
    assert.deepEqual(planTextRuns([...new Array(10).fill(12), 13], 32), [11]);
    assert.deepEqual(planTextRuns([...new Array(10).fill(8), 40], 32), [10, 11]);
  });

  it('finds the cheapest plan (checked against every plan on small inputs)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + Math.floor(rand() * 10);
      const max = 1 + Math.floor(rand() * 5);
      const lengths = Array.from({ length: n }, () => 3 + Math.floor(rand() * 40)).sort((a, b) => a - b);
      const best = Math.min(...[...allPlans(n, max)].map((p) => cost(lengths, p)));
      assert.equal(cost(lengths, planTextRuns(lengths, max)), best, `lengths ${lengths} max ${max}`);
    }
  });

  it('on a GPU provider keeps a minibatch of captions in one run, and cuts only for a long outlier among many short texts', () => {
    const captions = Array.from({ length: 32 }, (_, i) => 5 + Math.floor(i / 4));
    for (const provider of ['webgpu', 'cuda', 'tensorrt'] as const) assert.deepEqual(planTextRuns(captions, 32, runOverheadTokens(provider)), [32], provider);
    assert.ok(planTextRuns(captions, 32, runOverheadTokens('cpu')).length >= 2, 'the CPU still cuts them');
    // 31 five-token texts and one of 77: padding all to 77 wastes 2232 tokens, more than a GPU run costs.
    assert.deepEqual(planTextRuns([...new Array(31).fill(5), 77], 32, runOverheadTokens('webgpu')), [31, 32]);
  });

  it('returns nothing for no texts', () => {
    assert.deepEqual(planTextRuns([], 32), []);
  });
});
