import { DocumentArray } from '../document/document-array.js';
import type { DynamicBatchingConfig } from './config.js';
import { cloneDocs } from './merge.js';
import type { NodeOutput } from './node.js';

/** Optional hooks for metrics; called synchronously, must not throw. */
export interface BatchQueueObserver {
  /** Requests waiting in the queue, after every change. */
  onDepth?(requests: number): void;
}

/** Runs one (merged) call on some replica. */
export type BatchRunner = (docs: DocumentArray, parameters: Record<string, unknown>, signal?: AbortSignal) => Promise<NodeOutput>;

interface Pending {
  docs: DocumentArray;
  parameters: Record<string, unknown>;
  key: string;
  signal?: AbortSignal;
  resolve(out: NodeOutput): void;
  reject(e: unknown): void;
}

/**
 * Cross-request dynamic batching for one endpoint of one executor (Jina's
 * `uses_dynamic_batching`). Requests with the same parameters are merged into one
 * handler call of up to `preferredBatchSize` documents. With `timeout: 0` a batch
 * leaves as soon as a replica is free, so an idle server adds no latency and a
 * busy one fills its batches; with `timeout > 0` a batch waits up to that long to
 * fill. When a merged call fails, its requests are retried one by one so only the
 * request that caused the failure fails.
 *
 * With `lookahead: n`, up to n more calls may start while every replica is busy,
 * but only for a full batch: the handler prepares it (decode, pack) while the
 * running call holds the model, and its model run queues right behind. A partial
 * batch still waits for a free replica, where it may yet fill up.
 */
export class BatchQueue {
  private readonly queue: Pending[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: DynamicBatchingConfig,
    /** Calls that may run at once (the executor's replicas). */
    private readonly concurrency: number,
    private readonly run: BatchRunner,
    private readonly observer: BatchQueueObserver = {},
  ) {}

  submit(docs: DocumentArray, parameters: Record<string, unknown>, signal?: AbortSignal): Promise<NodeOutput> {
    return new Promise((resolve, reject) => {
      this.queue.push({ docs, parameters, key: JSON.stringify(parameters), signal, resolve, reject });
      this.pump();
      this.observer.onDepth?.(this.queue.length);
    });
  }

  private queuedDocs(): number {
    return this.queue.reduce((n, p) => n + p.docs.length, 0);
  }

  private pump(): void {
    while (this.queue.length) {
      const full = this.queuedDocs() >= this.config.preferredBatchSize;
      // Only a full batch may take a lookahead slot once every replica is busy.
      if (this.running >= this.concurrency + (full ? (this.config.lookahead ?? 0) : 0)) return;
      if (!full && this.config.timeout > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.flush();
          this.pump();
        }, this.config.timeout);
        return;
      }
      this.flush();
    }
  }

  /** Takes the oldest request plus every later one with the same parameters that fits. */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const first = this.queue.shift();
    if (!first) return;
    const batch = [first];
    let size = first.docs.length;
    for (let i = 0; i < this.queue.length && size < this.config.preferredBatchSize; ) {
      const p = this.queue[i]!;
      if (p.key === first.key && size + p.docs.length <= this.config.preferredBatchSize) {
        batch.push(p);
        size += p.docs.length;
        this.queue.splice(i, 1);
      } else i++;
    }
    const live = batch.filter((p) => {
      if (!p.signal?.aborted) return true;
      p.reject(p.signal.reason ?? new Error('request aborted'));
      return false;
    });
    this.observer.onDepth?.(this.queue.length);
    if (!live.length) return;
    this.running++;
    void this.execute(live).finally(() => {
      this.running--;
      this.pump();
    });
  }

  private async execute(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const p = batch[0]!;
      await this.run(p.docs, p.parameters, p.signal).then(p.resolve, p.reject);
      return;
    }
    // The merged call works on copies: if it fails half-way, the retries below must
    // start from each request's untouched documents.
    const copies = batch.map((p) => cloneDocs(p.docs));
    const merged = new DocumentArray();
    for (const c of copies) for (const d of c) merged.push(d);
    let out: NodeOutput;
    try {
      out = await this.run(merged, batch[0]!.parameters);
    } catch {
      // Isolate the culprit: every request gets its own outcome.
      for (const p of batch) await this.run(p.docs, p.parameters, p.signal).then(p.resolve, p.reject);
      return;
    }
    splitBack(batch, copies, merged, out);
  }
}

/** Hands each request its share of a merged result (its copies, or by id when replaced). */
function splitBack(batch: Pending[], copies: DocumentArray[], merged: DocumentArray, out: NodeOutput): void {
  const extra = out.result ? { result: out.result } : {};
  if (out.docs === merged) {
    batch.forEach((p, i) => p.resolve({ docs: copies[i]!, ...extra }));
    return;
  }
  const byId = out.docs.indexById();
  for (const p of batch) {
    const docs = new DocumentArray();
    for (const d of p.docs) {
      const replaced = byId.get(d.id);
      if (replaced) docs.push(replaced);
    }
    p.resolve({ docs, ...extra });
  }
}
