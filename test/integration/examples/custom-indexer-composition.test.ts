// examples/custom-indexer-composition: a tag enricher before the indexer, a cutoff after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runExample } from './example-runner.js';

describe('examples/custom-indexer-composition', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-cic-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('filters on tags the enricher added and drops matches beyond the cutoff', async () => {
    const query = 'a small dog sleeping next to a fireplace on a cold evening';
    const lines = await runExample('custom-indexer-composition', [query, '--filter', '{"length":"long"}', '--max-distance', '0.001', '--workspace', join(dir, 'ws')]);
    // Only the identical sentence is within 0.001; the filter kept long sentences only.
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.text, query);
    assert.deepEqual(lines[0]!.tags, { words: 12, length: 'long', topic: 'dog' });
    assert.ok((lines[0]!.distance as number) < 1e-3);
  });
});
