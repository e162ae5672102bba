// examples/search-rerank: two flows in one script, the second re-ranking through the first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runExample } from './example-runner.js';

describe('examples/search-rerank', () => {
  it('prints matches ordered by the ranker\'s clip_score, each keeping the indexer\'s cosine distance', async () => {
    const lines = await runExample('search-rerank', ['a photo of a dog playing in the snow', '--limit', '4']);
    assert.equal(lines.length, 4);
    const clip = lines.map((l) => l.clip_score as number);
    assert.deepEqual([...clip].sort((a, b) => b - a), clip, 'ordered by clip_score');
    assert.ok(Math.abs(clip.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'a softmax over the four matches');
    for (const l of lines) assert.equal(typeof l.cosine_distance, 'number');
    assert.equal(lines[0]!.text, 'a photo of a dog playing in the snow', 'the identical sentence ranks first');
  });
});
