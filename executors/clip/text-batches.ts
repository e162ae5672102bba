/**
 * Splitting texts sorted by length into text-graph runs when each run is padded
 * only to its longest text (graphs with a dynamic sequence axis).
 *
 * Cutting a sorted list into equal-count minibatches pads short captions to the
 * longest text of their chunk; cutting where lengths jump saves padded tokens but
 * costs runs, and a run has a fixed price (each one streams all the weights; small
 * matrices use the cores badly). On the ViT-B/32 text tower with 2 cores a run
 * costs about 4 ms plus 0.4-0.5 ms per padded token at 5-12 tokens, i.e. 8-10
 * tokens' worth of fixed price, plus the served path's per-run work (feeds, the
 * hop to the session thread). Timing the bench's caption sets (32 captions of
 * 5..12 tokens, three seeds) planned with prices from 0 to 24 put 12 at or
 * within 1 % of the fastest plan for each: 1.19-1.28x one run padded to 12,
 * where 24 gave 1.18-1.27x and 0 (cut at every length) only 1.14-1.16x.
 */
import type { ExecutionProvider } from '../../runtimes/index.js';

/** The price of one extra run on the CPU, in padded tokens. */
export const RUN_OVERHEAD_TOKENS = 12;

/**
 * On a GPU a run's fixed price dwarfs its padding. The ViT-B/32 text tower on
 * WebGPU (H200) took 7.7 ms for one 11-token text, 8.1 ms for 32 texts of 12
 * tokens and 17.8 ms for 32 of 77: ~7.5 ms a run against ~0.005 ms a padded
 * token, ~1500 tokens. Cutting the bench's captions into CPU-priced runs served
 * them at 0.31x of one padded run there. CUDA and TensorRT were not measured; a
 * launch-bound run is assumed to cost the same order there.
 */
export const GPU_RUN_OVERHEAD_TOKENS = 1500;

/** The run price for sessions on this provider. */
export function runOverheadTokens(provider: ExecutionProvider): number {
  return provider === 'cpu' ? RUN_OVERHEAD_TOKENS : GPU_RUN_OVERHEAD_TOKENS;
}

/**
 * Cut points for `lengths` (ascending): returns the end index (exclusive) of each
 * run, minimising the sum over runs of `overhead + count * longest` with at most
 * `maxRun` texts per run. O(n * maxRun).
 */
export function planTextRuns(lengths: ArrayLike<number>, maxRun: number, overhead = RUN_OVERHEAD_TOKENS): number[] {
  const n = lengths.length;
  if (n === 0) return [];
  const limit = Math.max(1, Math.floor(maxRun));
  // best[i]: cheapest cost of the first i texts; from[i]: where its last run starts.
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let end = 1; end <= n; end++) {
    // Sorted ascending, so a run ending at `end` is padded to lengths[end - 1].
    const longest = lengths[end - 1]!;
    for (let start = Math.max(0, end - limit); start < end; start++) {
      const cost = best[start]! + overhead + (end - start) * longest;
      if (cost < best[end]!) {
        best[end] = cost;
        from[end] = start;
      }
    }
  }
  const ends: number[] = [];
  for (let end = n; end > 0; end = from[end]!) ends.push(end);
  return ends.reverse();
}
