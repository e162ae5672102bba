// Soak: good and bad requests mixed on every protocol for a fixed time, with
// RSS and heap (after GC) sampled ten times. Every good request
// must succeed, every bad one must be refused the way BAD_INPUT.md says, and the
// process must not keep what the requests left behind.
//
// The default run soaks for 20 s; CLIPFLOW_SOAK=1 soaks for 150 s (the long run
// would push `npm test` well past its budget, so it is opt-in).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROTOCOLS, serveHardening, settledRssMiB, type Served } from './harness.js';
import { prng } from '../../../bench/prng.js';
import { CASES } from './soak-cases.js';

const LONG = process.env.CLIPFLOW_SOAK === '1';
const SECONDS = LONG ? 150 : 20;
const WORKERS = 12;
/**
 * RSS growth allowed from the warm-up peak (the highest of the samples in the
 * first 30 % of the run) to the end (the median of the last three samples).
 * Native allocators (libvips, onnxruntime, glibc arenas) keep RSS swinging by
 * up to ~50 MiB between settled samples while the JS heap stays flat, so peaks
 * are compared, not single points; a leak shows as a climb past the early peak.
 * Measured here: -20 to +5 MiB over 150 s (about 47 000 requests).
 */
const RSS_BOUND_MIB = 64;
/** The JS heap after GC must stay flat: measured within 2 MiB. */
const HEAP_BOUND_MIB = 16;

describe(`soak: ${SECONDS} s of mixed good and bad requests on every protocol`, () => {
  let s: Served;
  before(async () => {
    s = await serveHardening({ gateway: '  max_docs_per_request: 50' });
  });
  after(() => s.close(1000));

  it('every good request succeeds, every bad one is refused, memory stays flat', { timeout: (SECONDS + 60) * 1000 }, async () => {
    const random = prng(20240607);
    const counts = new Map<string, { good: number; refused: number }>();
    const failures: string[] = [];
    const started = Date.now();
    const end = started + SECONDS * 1000;
    let n = 0;
    const worker = async () => {
      while (Date.now() < end) {
        const i = n++;
        const c = CASES[Math.floor(random() * CASES.length)]!;
        const protocol = PROTOCOLS[Math.floor(random() * PROTOCOLS.length)]!;
        const seen = await c.run(s, protocol, i);
        const tally = counts.get(c.name) ?? { good: 0, refused: 0 };
        tally[seen.ok ? 'good' : 'refused']++;
        counts.set(c.name, tally);
        if (seen.ok !== c.good) failures.push(`${c.name} on ${protocol}: ${JSON.stringify(seen).slice(0, 200)}`);
        if (!seen.ok) assert.doesNotMatch(seen.message, /\n\s+at /, 'no stack traces');
      }
    };
    // Ten settled samples over the run: the first three give the warm-up peak, the last three the end.
    const samples: Array<{ at: number; rss: number; heap: number }> = [];
    const sampler = (async () => {
      for (let k = 1; k <= 10 && Date.now() < end; k++) {
        await new Promise((r) => setTimeout(r, Math.max(0, started + (k * SECONDS * 1000) / 10 - Date.now())));
        const rss = await settledRssMiB();
        samples.push({ at: Math.round((Date.now() - started) / 1000), rss, heap: process.memoryUsage().heapUsed / 1048576 });
      }
    })();
    await Promise.all([...Array.from({ length: WORKERS }, worker), sampler]);
    const early = samples.slice(0, 3);
    const late = samples.slice(-3).sort((a, b) => a.rss - b.rss);
    const growth = late[1]!.rss - Math.max(...early.map((x) => x.rss));
    const heapGrowth = Math.max(...samples.slice(-3).map((x) => x.heap)) - Math.max(...early.map((x) => x.heap));
    assert.deepEqual(failures.slice(0, 5), []);
    for (const c of CASES) assert.ok((counts.get(c.name)?.good ?? 0) + (counts.get(c.name)?.refused ?? 0) > 0, `${c.name} ran`);
    assert.equal(samples.length, 10);
    assert.ok(growth < RSS_BOUND_MIB, `RSS grew ${growth.toFixed(1)} MiB past the warm-up peak (bound ${RSS_BOUND_MIB} MiB): ${JSON.stringify(samples)}`);
    assert.ok(heapGrowth < HEAP_BOUND_MIB, `JS heap grew ${heapGrowth.toFixed(1)} MiB (bound ${HEAP_BOUND_MIB} MiB): ${JSON.stringify(samples)}`);
    const live = (await (await fetch(`${s.url('http')}/health/live`)).json()) as { status: string };
    assert.equal(live.status, 'alive');
    const trace = samples.map((x) => `${x.at}s:${x.rss.toFixed(0)}/${x.heap.toFixed(0)}`).join(' ');
    process.stdout.write(`# soak: ${n} requests in ${SECONDS} s, RSS growth past the warm-up peak ${growth.toFixed(1)} MiB, heap ${heapGrowth.toFixed(1)} MiB (RSS/heap MiB: ${trace})\n`);
  });
});
