/**
 * VectorIndexer backends benchmarked directly (no gateway): index and search
 * latency/throughput over random vectors, memory vs lancedb, the resident
 * memory each adds, and the recall@10 of LanceDB's ANN index against its own
 * exact scan. Each (backend, size) runs in a fresh child process so RSS deltas
 * do not leak between cases.
 *
 * Run: npx tsx bench/indexer.bench.ts [--sizes 10000,100000] [--dim 512]
 *        [--queries 100] [--backends memory,lancedb] [--no-ann] [--data uniform|clustered]
 *        [--json FILE]
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AnnIndexOptions, IndexBackend, StoredDoc } from '../executors/indexers/index-backend.js';
import { randomVectors as vectors } from './prng.js';

/** What to measure. */
export interface IndexerBenchOptions {
  sizes: number[];
  dim: number;
  /** Held-out queries, run one at a time. */
  queries: number;
  limit: number;
  /** Documents per upsert (one `/index` request). */
  batch: number;
  backends: Array<'memory' | 'lancedb'>;
  /** Build an IVF_PQ index on lancedb after indexing and measure its recall. */
  ann: boolean;
  seed: number;
  /**
   * `uniform`: independent uniform vectors (no structure: the worst case for IVF);
   * `clustered`: points around 256 random centres, closer to how CLIP embeddings group.
   */
  data: 'uniform' | 'clustered';
  /** One child process per case (default true); false runs in this process. */
  isolate: boolean;
}

/** One (backend, size) measurement. */
export interface IndexerBenchCase {
  backend: 'memory' | 'lancedb';
  size: number;
  dim: number;
  indexSeconds: number;
  indexedPerSecond: number;
  search: LatencySummary;
  /** Resident memory the opened, filled index added (after GC when available). */
  rssDeltaMb: number;
  diskMb: number;
  /** Time to reopen the workspace and answer one query. */
  reopenSeconds: number;
  ann?: { type: string; partitions: number; subVectors: number; buildSeconds: number; points: AnnPoint[] };
}

/** ANN search at one setting: its latency and its recall against the exact scan. */
export interface AnnPoint extends LatencySummary {
  nprobes: number;
  refineFactor: number;
  /** Share of the exact top-`limit` the ANN search returned. */
  recallAt10: number;
}

export interface LatencySummary {
  p50Ms: number;
  p95Ms: number;
  queriesPerSecond: number;
}

export interface IndexerBenchResult {
  options: IndexerBenchOptions;
  machine: { cpu: string; cores: number; node: string };
  cases: IndexerBenchCase[];
}

export const DEFAULT_INDEXER_BENCH: IndexerBenchOptions = {
  sizes: [10_000, 100_000],
  dim: 512,
  queries: 100,
  limit: 10,
  batch: 1000,
  backends: ['memory', 'lancedb'],
  ann: true,
  seed: 7,
  data: 'uniform',
  isolate: true,
};

/** Runs every case and returns the measurements. */
export async function runIndexerBench(options: Partial<IndexerBenchOptions> = {}): Promise<IndexerBenchResult> {
  const opts = { ...DEFAULT_INDEXER_BENCH, ...options };
  const cases: IndexerBenchCase[] = [];
  for (const size of opts.sizes) {
    for (const backend of opts.backends) {
      cases.push(opts.isolate ? await inChild(backend, size, opts) : await runCase(backend, size, opts));
    }
  }
  return { options: opts, machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version }, cases };
}

function inChild(backend: string, size: number, opts: IndexerBenchOptions): Promise<IndexerBenchCase> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--case', JSON.stringify({ backend, size, opts })], {
      execArgv: [...process.execArgv, '--expose-gc'],
      env: { ...process.env, CLIPFLOW_LOG_LEVEL: 'silent' },
    });
    let result: IndexerBenchCase | undefined;
    child.on('message', (m) => (result = m as IndexerBenchCase));
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`bench case ${backend}/${size} exited with ${code}`))));
  });
}

/** The bench's vectors: the same seed gives the same data in every process. */
function dataset(n: number, dim: number, seed: number, kind: IndexerBenchOptions['data']): Float32Array[] {
  if (kind === 'uniform') return vectors(n, dim, seed);
  const centres = vectors(256, dim, 12345);
  const noise = vectors(n, dim, seed);
  // Noise at 0.35 of the spread: neighbours are mostly in the same group, as with real embeddings.
  return noise.map((v, i) => v.map((x, j) => centres[i % centres.length]![j]! + 0.35 * x));
}

async function openBackend(backend: 'memory' | 'lancedb', dir: string): Promise<IndexBackend> {
  const b =
    backend === 'memory'
      ? new (await import('../executors/indexers/memory.backend.js')).MemoryBackend({ dir: join(dir, 'docs.memory') })
      : new (await import('../executors/indexers/lancedb.backend.js')).LanceDbBackend({ dir, table: 'docs' });
  await b.open();
  return b;
}

async function timeQueries(b: IndexBackend, queries: Float32Array[], limit: number, extra: { exact?: boolean; nprobes?: number; refineFactor?: number } = {}) {
  const times: number[] = [];
  const results: string[][] = [];
  const started = performance.now();
  for (const q of queries) {
    const t = performance.now();
    const [hits] = await b.search({ queries: [q], limit, includeEmbeddings: false, ...extra });
    times.push(performance.now() - t);
    results.push(hits!.map((h) => h.doc.id));
  }
  const total = (performance.now() - started) / 1000;
  times.sort((x, y) => x - y);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
  return { summary: { p50Ms: at(0.5), p95Ms: at(0.95), queriesPerSecond: queries.length / total }, results };
}

const rssMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
};

/** One case, in this process. */
export async function runCase(backend: 'memory' | 'lancedb', size: number, opts: IndexerBenchOptions): Promise<IndexerBenchCase> {
  const dir = mkdtempSync(join(tmpdir(), `clipflow-bench-${backend}-`));
  try {
    const data = dataset(size, opts.dim, opts.seed, opts.data);
    const queries = dataset(opts.queries, opts.dim, opts.seed + 1, opts.data);
    const docs: StoredDoc[] = data.map((embedding, i) => ({ id: `d${i}`, text: `document ${i}`, tags: { shard: i % 8 }, embedding }));
    const rss0 = rssMb();
    const b = await openBackend(backend, dir);
    const t0 = performance.now();
    for (let i = 0; i < docs.length; i += opts.batch) await b.upsert(docs.slice(i, i + opts.batch));
    const indexSeconds = (performance.now() - t0) / 1000;
    const exact = await timeQueries(b, queries, opts.limit, { exact: true });
    const rssDeltaMb = rssMb() - rss0;
    const out: IndexerBenchCase = {
      backend, size, dim: opts.dim, indexSeconds, indexedPerSecond: size / indexSeconds, search: exact.summary, rssDeltaMb,
      diskMb: Number(execFileSync('du', ['-sm', dir], { encoding: 'utf8' }).split('\t')[0]),
      reopenSeconds: 0,
    };
    if (backend === 'lancedb' && opts.ann) {
      const ann: AnnIndexOptions = { type: 'IVF_PQ', numPartitions: Math.max(1, Math.round(Math.sqrt(size))), numSubVectors: opts.dim / 16 };
      const tb = performance.now();
      await b.buildAnnIndex(ann);
      const buildSeconds = (performance.now() - tb) / 1000;
      const points: AnnPoint[] = [];
      // A sweep: LanceDB's default probes, more probes, and re-ranking PQ candidates with full vectors.
      for (const [nprobes, refineFactor] of [[20, 1], [20, 10], [Math.ceil(ann.numPartitions! / 4), 10]] as const) {
        const approx = await timeQueries(b, queries, opts.limit, { nprobes, refineFactor });
        const hits = approx.results.reduce((n, r, i) => n + r.filter((id) => exact.results[i]!.includes(id)).length, 0);
        points.push({ nprobes, refineFactor, ...approx.summary, recallAt10: hits / (opts.queries * opts.limit) });
      }
      out.ann = { type: 'IVF_PQ', partitions: ann.numPartitions!, subVectors: ann.numSubVectors!, buildSeconds, points };
    }
    await b.close();
    const tr = performance.now();
    const again = await openBackend(backend, dir);
    await again.search({ queries: [queries[0]!], limit: opts.limit, includeEmbeddings: false });
    out.reopenSeconds = (performance.now() - tr) / 1000;
    await again.close();
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fixed-width table of the cases. */
export function formatIndexerBench(result: IndexerBenchResult): string {
  const rows = [['backend', 'size', 'index docs/s', 'index s', 'exact p50 ms', 'p95 ms', 'q/s', 'RSS +MB', 'disk MB', 'reopen s']];
  for (const c of result.cases) {
    rows.push([
      c.backend, String(c.size), c.indexedPerSecond.toFixed(0), c.indexSeconds.toFixed(2), c.search.p50Ms.toFixed(2), c.search.p95Ms.toFixed(2),
      c.search.queriesPerSecond.toFixed(1), c.rssDeltaMb.toFixed(0), String(c.diskMb), c.reopenSeconds.toFixed(2),
    ]);
  }
  const ann = [['size', 'index', 'partitions', 'build s', 'nprobes', 'refine', 'p50 ms', 'p95 ms', 'q/s', 'recall@10']];
  for (const c of result.cases) {
    for (const p of c.ann?.points ?? []) {
      ann.push([
        String(c.size), c.ann!.type, String(c.ann!.partitions), c.ann!.buildSeconds.toFixed(1), String(p.nprobes), String(p.refineFactor),
        p.p50Ms.toFixed(2), p.p95Ms.toFixed(2), p.queriesPerSecond.toFixed(1), p.recallAt10.toFixed(3),
      ]);
    }
  }
  return ann.length > 1 ? `${table(rows)}\n\nlancedb ANN vs its exact scan\n${table(ann)}` : table(rows);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((v, i) => v.padStart(widths[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      case: { type: 'string' },
      sizes: { type: 'string' },
      dim: { type: 'string' },
      queries: { type: 'string' },
      backends: { type: 'string' },
      'no-ann': { type: 'boolean' },
      data: { type: 'string' },
      json: { type: 'string' },
    },
  });
  if (values.case) {
    const { backend, size, opts } = JSON.parse(values.case) as { backend: 'memory' | 'lancedb'; size: number; opts: IndexerBenchOptions };
    process.send!(await runCase(backend, size, opts));
    return;
  }
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean);
  const result = await runIndexerBench({
    ...(values.sizes ? { sizes: list(values.sizes)!.map(Number) } : {}),
    ...(values.dim ? { dim: Number(values.dim) } : {}),
    ...(values.queries ? { queries: Number(values.queries) } : {}),
    ...(values.backends ? { backends: list(values.backends) as IndexerBenchOptions['backends'] } : {}),
    ...(values['no-ann'] ? { ann: false } : {}),
    ...(values.data ? { data: values.data === 'clustered' ? 'clustered' : 'uniform' } : {}),
  });
  console.log(formatIndexerBench(result));
  if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
  else console.log(JSON.stringify(result));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
