// Runs sent to a graph while it is busy queue behind the running one (batching
// lookahead relies on it), and the encode stage timers cover the model's work only,
// not the wait in that queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClipModel } from '../../../../executors/clip/clip-model.js';
import { resolveModelDir } from '../../../../executors/clip/models/model-dir.js';
import { inferenceRuntime } from '../../../../runtimes/index.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';

/** A stage timer that records when each timed stage started and ended. */
function recorder() {
  const spans: Array<{ start: number; end?: number }> = [];
  const timer = () => {
    const span: { start: number; end?: number } = { start: performance.now() };
    spans.push(span);
    return () => void (span.end = performance.now());
  };
  return { spans, timer };
}

function assertOneAfterAnother(spans: Array<{ start: number; end?: number }>, count: number): void {
  assert.equal(spans.length, count);
  spans.forEach((s, i) => {
    assert.ok(s.end !== undefined && s.end >= s.start, `stage ${i} ended`);
    if (i > 0) assert.ok(s.start >= spans[i - 1]!.end!, `stage ${i} started at ${s.start}, before stage ${i - 1} ended at ${spans[i - 1]!.end}`);
  });
}

describe('ClipModel: queued runs and their stage timers', () => {
  let model: ClipModel;
  before(async () => {
    model = await ClipModel.load(await resolveModelDir(tinyModelDir('hf')), await inferenceRuntime(), { provider: 'cpu' });
  });
  after(() => model.release());

  const pixels = (seed: number) => Float32Array.from({ length: 2 * 3 * model.imageSize * model.imageSize }, (_, i) => Math.sin(seed * 1000 + i));

  it('image runs sent together time one after another and give the results of runs sent one at a time', async () => {
    const alone = [];
    for (let k = 0; k < 3; k++) alone.push(await model.encodeImages(pixels(k), 2));
    const { spans, timer } = recorder();
    const together = await Promise.all([0, 1, 2].map((k) => model.encodeImages(pixels(k), 2, timer)));
    assertOneAfterAnother(spans, 3);
    assert.deepEqual(together, alone);
  });

  it('text runs of concurrent requests are timed the same way', async () => {
    const { spans, timer } = recorder();
    const texts = [['a photo of a cat'], ['two dogs on a beach at dawn'], ['a red car']];
    const together = await Promise.all(texts.map((t) => model.encodeTexts(t, 32, { encode: () => timer() })));
    assertOneAfterAnother(spans, 3);
    for (let k = 0; k < texts.length; k++) assert.deepEqual(together[k], await model.encodeTexts(texts[k]!));
  });
});
