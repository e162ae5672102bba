// A burst of 3000 small text encodes with the tiny CLIP, 1000 per protocol, all
// three protocols at once, about 64 requests in flight: zero errors, every reply
// the right shape, and RSS growth (server and clients together, after GC) under
// a stated bound. Loopback only; it stops by itself.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../../core/client/client.js';
import { DIM, PROTOCOLS, serveHardening, settledRssMiB, type Served } from './harness.js';

const PER_PROTOCOL = 1000;
/** 21 + 21 + 22 requests in flight across the three protocols. */
const PREFETCH = [21, 21, 22];
/**
 * Bound on RSS growth across the burst, after warm-up and GC. Measured here at
 * 10-40 MiB (allocator and JIT settling, socket buffers); a per-request leak of
 * even 40 KB would add 120 MiB over 3000 requests.
 */
const RSS_BOUND_MIB = 100;

async function burst(s: Served, perProtocol: number): Promise<number> {
  let ok = 0;
  await Promise.all(
    PROTOCOLS.map(async (protocol, p) => {
      const client = new Client(s.url(protocol));
      try {
        const texts = Array.from({ length: perProtocol }, (_, i) => `${protocol} caption number ${i}`);
        // batchSize 1: one request per text, `prefetch` of them in flight at a time.
        const vectors = (await client.encode(texts, { batchSize: 1, prefetch: PREFETCH[p]! })) as Float32Array[];
        assert.equal(vectors.length, perProtocol);
        for (const v of vectors) if (v.length === DIM && v.every(Number.isFinite)) ok++;
      } finally {
        await client.close();
      }
    }),
  );
  return ok;
}

function okCount(text: string): number {
  return [...text.matchAll(/^clipflow_requests_total\{[^}]*status="OK"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

function errorCount(text: string): number {
  return [...text.matchAll(/^clipflow_requests_total\{[^}]*status="(?!OK")[^"]*"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('load: a burst of 3000 requests across protocols', () => {
  let s: Served;
  before(async () => {
    s = await serveHardening();
  });
  after(() => s.close(1000));

  it('3000 text encodes at concurrency 64: zero errors, bounded memory', async () => {
    await burst(s, 100); // warm-up: JIT, pools, batch sizes
    const before = await settledRssMiB();
    const metricsBefore = (await s.flow.metrics()).body;
    const started = performance.now();
    const ok = await burst(s, PER_PROTOCOL);
    const seconds = (performance.now() - started) / 1000;
    const growth = (await settledRssMiB()) - before;
    const metrics = (await s.flow.metrics()).body;
    assert.equal(ok, 3 * PER_PROTOCOL);
    assert.equal(okCount(metrics) - okCount(metricsBefore), 3 * PER_PROTOCOL);
    assert.equal(errorCount(metrics), 0);
    assert.ok(growth < RSS_BOUND_MIB, `RSS grew ${growth.toFixed(1)} MiB (bound ${RSS_BOUND_MIB} MiB)`);
    process.stdout.write(`# load: ${3 * PER_PROTOCOL} requests in ${seconds.toFixed(1)} s (${Math.round((3 * PER_PROTOCOL) / seconds)}/s), RSS growth ${growth.toFixed(1)} MiB\n`);
  });
});
