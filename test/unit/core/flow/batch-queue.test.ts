// The batch queue's scheduling, driven by a runner whose calls the test finishes
// by hand: which requests share a call, and when a call may start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { BatchQueue } from '../../../../core/flow/batch-queue.js';
import type { DynamicBatchingConfig } from '../../../../core/flow/config.js';
import type { NodeOutput } from '../../../../core/flow/node.js';

/** A runner that records each call's document texts and finishes calls when told to. */
function harness(config: DynamicBatchingConfig, replicas = 1) {
  const calls: Array<{ texts: string[]; finish: () => void }> = [];
  const queue = new BatchQueue(config, replicas, (docs) =>
    new Promise<NodeOutput>((resolve) => {
      calls.push({ texts: docs.map((d) => d.text!), finish: () => resolve({ docs }) });
    }),
  );
  const submit = (...texts: string[]) => queue.submit(new DocumentArray(texts.map((text) => ({ text }))), {});
  const settle = () => new Promise((r) => setImmediate(r));
  return { calls, submit, settle };
}

describe('BatchQueue lookahead', () => {
  it('without lookahead, queued requests wait for the running call, however many there are', async () => {
    const h = harness({ preferredBatchSize: 2, timeout: 0 });
    const first = h.submit('a');
    const rest = [h.submit('b', 'c'), h.submit('d', 'e')];
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a']]);
    h.calls[0]!.finish();
    await first;
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a'], ['b', 'c']]);
    h.calls[1]!.finish();
    await h.settle();
    h.calls[2]!.finish();
    await Promise.all(rest);
  });

  it('starts a full batch while the replica is busy, up to lookahead calls ahead', async () => {
    const h = harness({ preferredBatchSize: 2, timeout: 0, lookahead: 1 });
    const replies = [h.submit('a'), h.submit('b', 'c'), h.submit('d', 'e')];
    await h.settle();
    // 'a' runs; the full batch b+c starts ahead; d+e is full too but the one lookahead slot is taken.
    assert.deepEqual(h.calls.map((c) => c.texts), [['a'], ['b', 'c']]);
    h.calls[0]!.finish();
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a'], ['b', 'c'], ['d', 'e']]);
    h.calls[1]!.finish();
    h.calls[2]!.finish();
    const out = await Promise.all(replies);
    assert.deepEqual(out.map((o) => o.docs.map((d) => d.text)), [['a'], ['b', 'c'], ['d', 'e']]);
  });

  it('a partial batch is not started ahead: it waits for a free replica and fills meanwhile', async () => {
    const h = harness({ preferredBatchSize: 3, timeout: 0, lookahead: 1 });
    const replies = [h.submit('a'), h.submit('b')];
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a']], 'b alone is not a full batch');
    replies.push(h.submit('c'));
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a']], 'b+c is still short of 3');
    h.calls[0]!.finish();
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a'], ['b', 'c']]);
    h.calls[1]!.finish();
    await Promise.all(replies);
  });

  it('lookahead adds to the replicas: two replicas and lookahead 1 run at most three calls', async () => {
    const h = harness({ preferredBatchSize: 1, timeout: 0, lookahead: 1 }, 2);
    const replies = ['a', 'b', 'c', 'd', 'e'].map((t) => h.submit(t));
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a'], ['b'], ['c']]);
    h.calls[1]!.finish();
    await h.settle();
    assert.deepEqual(h.calls.map((c) => c.texts), [['a'], ['b'], ['c'], ['d']]);
    for (const c of h.calls) c.finish();
    await h.settle();
    h.calls[4]!.finish();
    await Promise.all(replies);
  });
});
