// The served points' arithmetic: a stream's steady state excludes its fill, and rounds merge by totals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeScenarios, streamResult } from '../../../bench/load.js';

test('a stream is measured from its first reply to its last; the window, fill included, is kept beside it', () => {
  // 150 ms of fill, then the first batch (1500 ms), then a reply every 1500 ms; the window closes 10 ms after the last.
  const replies = [1650, 3150, 4650, 6150].map((at) => ({ at, docs: 32 }));
  const r = streamResult(replies, 128, 6160, 0.5);
  assert.equal(r.items, 96);
  assert.equal(r.ms, 4500);
  assert.equal(r.perSecond, (96 * 1000) / 4500);
  assert.deepEqual(r.window, { items: 128, ms: 6160, perSecond: (128 * 1000) / 6160, firstReplyMs: 1650 });
  assert.ok(r.perSecond > r.window!.perSecond, 'the fill lowers the window rate, not the steady one');
  assert.deepEqual(r.timings, [1650, 1500, 1500, 1500]);
  assert.equal(r.calls, 4);
  // A last partial batch counts what it held.
  assert.equal(streamResult([{ at: 100, docs: 32 }, { at: 200, docs: 5 }], 37, 210, 0).items, 5);
});

test('a window too short for two replies stands in for the steady state', () => {
  const r = streamResult([{ at: 80, docs: 32 }], 32, 90, 0);
  assert.equal(r.perSecond, (32 * 1000) / 90);
  assert.equal(r.window!.firstReplyMs, 80);
  assert.equal(streamResult([], 0, 50, 0).window!.firstReplyMs, 50);
});

test('rounds merge by totals: steady items over steady time, windows over windows, CPU per document sent', () => {
  const a = streamResult([{ at: 1000, docs: 32 }, { at: 2000, docs: 32 }, { at: 3000, docs: 32 }], 96, 3100, 1);
  const b = streamResult([{ at: 500, docs: 32 }, { at: 2500, docs: 32 }], 64, 2600, 4);
  const m = mergeScenarios([a, b], true);
  assert.equal(m.items, 64 + 32);
  assert.equal(m.ms, 2000 + 2000);
  assert.equal(m.perSecond, (96 * 1000) / 4000);
  assert.deepEqual(m.window, { items: 160, ms: 5700, perSecond: (160 * 1000) / 5700, firstReplyMs: 750 });
  assert.equal(m.cpuMsPerItem, (1 * 96 + 4 * 64) / 160);
  assert.equal(m.timings.length, 5);
  // N clients carry no window.
  const clients = { perSecond: 10, items: 20, ms: 2000, calls: 20, cpuMsPerItem: 1, timings: [1, 2] };
  assert.equal(mergeScenarios([clients, clients], false).window, undefined);
});
