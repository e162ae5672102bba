// Cross-request dynamic batching in a real flow: concurrent requests share handler
// calls, each gets its own documents back, and a bad request fails alone.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DocumentArray } from '../../../core/document/document-array.js';
import { Flow } from '../../../core/flow/flow.js';
import { DataRequest } from '../../../core/request/data-request.js';
import { BatchRecorder, OverlapRecorder } from '../../fixtures/executors/basic.js';
import { BASIC_EXECUTORS } from '../../helpers/flows.js';

function flowWith(extra = '', jtype = 'BatchRecorder'): Flow {
  return Flow.fromYaml(
    `executors:
  - name: rec
    uses: { jtype: ${jtype}, metas: { modules: ['${BASIC_EXECUTORS}'] } }
${extra}`,
    process.cwd(),
  );
}

function request(text: string, parameters: Record<string, unknown> = {}): DataRequest {
  return new DataRequest({ endpoint: '/batched', docs: new DocumentArray([{ id: `id-${text}`, text }]), parameters });
}

// The flow loads the compiled fixture module itself; its class is the same module instance as ours.
const calls = BatchRecorder.calls;

describe('dynamic batching', () => {
  let flow: Flow;
  before(async () => {
    flow = await flowWith().start();
  });
  after(() => flow.close());
  beforeEach(() => calls.splice(0));

  it('merges concurrent requests into batches of at most the preferred size; each gets its own docs', async () => {
    const texts = Array.from({ length: 20 }, (_, i) => `t${i}`);
    const replies = await Promise.all(texts.map((t) => flow.process(request(t), { protocol: 'http' })));
    replies.forEach((r, i) => {
      assert.equal(r.status?.code, 'SUCCESS');
      assert.deepEqual(r.docs.map((d) => [d.id, d.text]), [[`id-t${i}`, `t${i}!`]]);
    });
    assert.ok(calls.length < texts.length, `expected fewer calls than requests, got ${calls}`);
    assert.ok(Math.max(...calls) <= 8 && Math.max(...calls) > 1, `batch sizes ${calls}`);
    assert.equal(calls.reduce((a, b) => a + b, 0), texts.length);
  });

  it('an idle executor runs a lone request at once, unbatched', async () => {
    const started = performance.now();
    const r = await flow.process(request('solo', { delay_ms: 1 }), { protocol: 'grpc' });
    assert.equal(r.docs[0]!.tags.batch_size, 1);
    assert.ok(performance.now() - started < 200);
  });

  it('a failing request fails alone; the requests batched with it succeed', async () => {
    const texts = ['a', 'b', 'poison', 'c', 'd', 'e'];
    const replies = await Promise.all(texts.map((t) => flow.process(request(t), { protocol: 'http' })));
    replies.forEach((r, i) => {
      if (texts[i] === 'poison') {
        assert.equal(r.status?.code, 'ERROR');
        assert.match(r.status!.description, /poisoned document id-poison/);
      } else {
        assert.equal(r.status?.code, 'SUCCESS', r.status?.description);
        assert.equal(r.docs[0]!.text, `${texts[i]}!`);
      }
    });
  });

  it('requests with different parameters never share a batch', async () => {
    await flow.process(request('warm', { delay_ms: 60 }), { protocol: 'http' }); // nothing queued behind it
    calls.splice(0);
    const blocker = flow.process(request('blocker', { delay_ms: 60 }), { protocol: 'http' });
    const mixed = ['x', 'y', 'z', 'w'].map((t, i) => flow.process(request(t, { delay_ms: 10 + (i % 2) }), { protocol: 'http' }));
    const replies = await Promise.all([blocker, ...mixed]);
    assert.deepEqual(replies.slice(1).map((r) => r.docs[0]!.tags.batch_size), [2, 2, 2, 2]);
  });
});

describe('dynamic batching from flow.yml (Jina syntax) with a fill timeout', () => {
  it('waits up to the timeout to fill a batch', async () => {
    const flow = await flowWith(`    uses_dynamic_batching: { /batched: { preferred_batch_size: 4, timeout: 150 } }`).start();
    try {
      calls.splice(0);
      const replies = await Promise.all(['p', 'q', 'r'].map((t) => flow.process(request(t, { delay_ms: 1 }), { protocol: 'http' })));
      assert.deepEqual(calls, [3], 'three requests arriving together waited and ran as one batch');
      assert.ok(replies.every((r) => r.docs[0]!.tags.batch_size === 3));
    } finally {
      await flow.close();
    }
  });
});

describe('lookahead: a full batch starts while the replica is busy', () => {
  /** Seven one-doc requests (one, then three full batches of two) at once to an OverlapRecorder flow; how many calls ran together. */
  async function maxOverlap(batching = ''): Promise<number> {
    const flow = await flowWith(batching, 'OverlapRecorder').start();
    try {
      OverlapRecorder.maxRunning = 0;
      const docs = (i: number) => new DocumentArray([{ id: `o${i}`, text: `o${i}` }]);
      const replies = await Promise.all(
        Array.from({ length: 7 }, (_, i) => flow.process(new DataRequest({ endpoint: '/overlap', docs: docs(i) }), { protocol: 'http' })),
      );
      assert.ok(replies.every((r) => r.status?.code === 'SUCCESS'));
      assert.ok(replies.slice(1).every((r) => r.docs[0]!.tags.batch_size === 2), 'the requests queued behind the first ran in full batches');
      return OverlapRecorder.maxRunning;
    } finally {
      await flow.close();
    }
  }

  it("the decorator's lookahead lets a second call run beside the first, and survives a flow.yml override of the batch size", async () => {
    assert.equal(await maxOverlap(), 2);
    assert.equal(await maxOverlap(`    uses_dynamic_batching: { /overlap: { preferred_batch_size: 2, timeout: 0 } }`), 2);
  });

  it("flow.yml's lookahead: 0 turns it off", async () => {
    assert.equal(await maxOverlap(`    uses_dynamic_batching: { /overlap: { preferred_batch_size: 2, timeout: 0, lookahead: 0 } }`), 1);
  });
});
