import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIndexerBench, runIndexerBench } from '../../../../bench/indexer.bench.js';

describe('indexer bench', () => {
  it('measures both backends on a small set (in process) and formats a table', async () => {
    const result = await runIndexerBench({ sizes: [400], dim: 16, queries: 5, batch: 100, ann: false, isolate: false });
    assert.deepEqual(result.cases.map((c) => c.backend), ['memory', 'lancedb']);
    for (const c of result.cases) {
      assert.equal(c.size, 400);
      assert.ok(c.indexedPerSecond > 0 && c.search.p50Ms > 0 && c.search.queriesPerSecond > 0);
      assert.ok(Number.isFinite(c.rssDeltaMb) && c.diskMb >= 0 && c.reopenSeconds > 0);
    }
    assert.match(formatIndexerBench(result), /backend\s+size\s+index docs\/s/);
  });
});
