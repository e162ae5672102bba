/**
 * Where the served time goes: the server's own Prometheus histograms
 * (GET /metrics on its HTTP port), read before and after each point. The
 * stage timers ClipEncoder keeps (preprocess_images, encode_images,
 * preprocess_texts, encode_texts, ...) tell inference time inside the server
 * apart from everything around it, and batch_size says how well requests
 * were merged. Names are discovered, not hard-coded, so new stages show up.
 */

/** Seconds spent in one stage over a point, and how many times it ran. */
export interface StageTotal {
  seconds: number;
  count: number;
}

/** One point's breakdown. */
export interface StageBreakdown {
  /** Stage name (metric without `clipflow_` and `_seconds`) → totals over the point. */
  stages: Record<string, StageTotal>;
  /** Documents the executors encoded over the point (warm-up included). */
  documents: number;
  /** Documents per executor call, on average (dynamic batching merges requests). */
  avgBatchSize: number;
}

/** Summed-over-labels values of every `clipflow_*_sum` / `_count` / `_total` series, by metric name. */
export type MetricSnapshot = Record<string, number>;

const SERIES = /^(clipflow_[a-z0-9_]+?_(?:sum|count|total))(?:\{[^}]*\})?\s+(\S+)$/;

/** Reads the server's metrics; undefined when it has no HTTP port or /metrics fails. */
export async function scrapeMetrics(httpUrl: string | undefined): Promise<MetricSnapshot | undefined> {
  if (!httpUrl) return undefined;
  try {
    const res = await fetch(`${httpUrl.replace(/\/$/, '')}/metrics`);
    if (!res.ok) return undefined;
    const out: MetricSnapshot = {};
    for (const line of (await res.text()).split('\n')) {
      const m = SERIES.exec(line);
      if (m && !m[1]!.startsWith('clipflow_process_')) out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
    }
    return out;
  } catch {
    return undefined;
  }
}

/** The difference between two snapshots as a stage breakdown. */
export function stageDelta(before: MetricSnapshot, after: MetricSnapshot): StageBreakdown {
  const delta = (key: string) => (after[key] ?? 0) - (before[key] ?? 0);
  const stages: Record<string, StageTotal> = {};
  for (const key of Object.keys(after)) {
    const m = /^clipflow_(.+)_seconds_sum$/.exec(key);
    if (!m) continue;
    const count = delta(`clipflow_${m[1]}_seconds_count`);
    if (count > 0) stages[m[1]!] = { seconds: delta(key), count };
  }
  const batches = delta('clipflow_batch_size_count');
  return { stages, documents: delta('clipflow_documents_total'), avgBatchSize: batches > 0 ? delta('clipflow_batch_size_sum') / batches : 0 };
}
