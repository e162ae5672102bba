import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { onDevice } from '../../../runtimes/onnx/device-queue.js';
import type { ExecutionProvider } from '../../../runtimes/runtime.js';

/** Starts `n` pieces of work on `provider` that each stay open until released; reports how many ran at once. */
function overlap(provider: ExecutionProvider, n: number, failAt = -1) {
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const gates: Array<() => void> = [];
  const results = Array.from({ length: n }, (_, i) =>
    onDevice(provider, async () => {
      running++;
      most = Math.max(most, running);
      order.push(i);
      await new Promise<void>((open) => gates.push(open));
      running--;
      if (i === failAt) throw new Error(`work ${i} failed`);
      return i;
    }),
  );
  // Open each gate as its work arrives, a tick later, until all have run.
  const drain = (async () => {
    for (let opened = 0; opened < n; ) {
      await new Promise((r) => setImmediate(r));
      while (gates.length) (gates.shift()!(), opened++);
    }
  })();
  return { results, drain, most: () => most, order };
}

describe('onDevice', () => {
  it('webgpu work takes turns, in the order it came, and a failure does not stop the queue', async () => {
    const q = overlap('webgpu', 5, 1);
    const settled = await Promise.allSettled(q.results);
    await q.drain;
    assert.equal(q.most(), 1, 'never two pieces of work on the shared device at once');
    assert.deepEqual(q.order, [0, 1, 2, 3, 4]);
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
  });

  it('cpu and cuda work runs at once', async () => {
    for (const provider of ['cpu', 'cuda'] as const) {
      const q = overlap(provider, 4);
      await Promise.all([...q.results, q.drain]);
      assert.equal(q.most(), 4, provider);
    }
  });
});
