/**
 * Timing helpers shared by every bench section: a warm-up-then-measure loop
 * with a time budget, percentiles, and rounding for the report.
 */

/** Throughput of one measured point. */
export interface Throughput {
  /** Items (images or texts) per second over the measured window. */
  perSecond: number;
  /** Items processed in the window. */
  items: number;
  /** Calls (batches, requests) timed. */
  calls: number;
  /** Length of the measured window, in ms. */
  ms: number;
  /**
   * CPU time (user + system, all threads) the measuring process spent per item
   * in the window. Unlike items/s it barely moves when other work shares the
   * machine, so it is the steadier way to compare runs on a busy host (ORT's
   * spinning worker threads count too, so it overstates pure compute).
   */
  cpuMsPerItem: number;
}

/** Latency distribution of one measured point, in ms. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
  samples: number;
}

/** How long to measure: at least `minCalls` calls and at least `budgetMs` of wall time. */
export interface Budget {
  warmupCalls: number;
  minCalls: number;
  budgetMs: number;
}

/** The q-th quantile (0..1) of sorted values, interpolated linearly between ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Summarises latency samples (ms). */
export function latencyOf(samples: readonly number[]): Latency {
  const s = [...samples].sort((a, b) => a - b);
  return {
    p50: quantile(s, 0.5),
    p90: quantile(s, 0.9),
    p99: quantile(s, 0.99),
    mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length),
    min: s[0] ?? Number.NaN,
    max: s[s.length - 1] ?? Number.NaN,
    samples: s.length,
  };
}

/**
 * Runs `call` `warmupCalls` times untimed, then back to back until both
 * `minCalls` and `budgetMs` are reached. Each call reports how many items it
 * processed. Sequential on purpose: this is the ceiling of one caller with
 * nothing else in flight, which is what the raw ORT numbers mean.
 */
export async function timeLoop(budget: Budget, call: () => Promise<number>): Promise<Throughput & { latency: Latency }> {
  for (let i = 0; i < budget.warmupCalls; i++) await call();
  const samples: number[] = [];
  let items = 0;
  const cpuStart = cpuMs();
  const started = performance.now();
  let now = started;
  while (samples.length < budget.minCalls || now - started < budget.budgetMs) {
    const t0 = performance.now();
    items += await call();
    now = performance.now();
    samples.push(now - t0);
  }
  const ms = now - started;
  const cpuMsPerItem = (cpuMs() - cpuStart) / Math.max(1, items);
  return { perSecond: (items * 1000) / ms, items, calls: samples.length, ms, cpuMsPerItem, latency: latencyOf(samples) };
}

/** CPU time this process has used so far (user + system, every thread), in ms. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Rounds for display and JSON: 3 significant digits, integers kept whole. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  // maxRSS is in kilobytes on every platform Node supports.
  return process.resourceUsage().maxRSS / 1024;
}
