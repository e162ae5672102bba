import type { Route } from '../request/data-request.js';
import type { LivenessReport } from '../serve/handler.js';
import { GATEWAY } from './dag.js';

interface PendingRun {
  requestId: string;
  endpoint: string;
  /** performance.now() when the run started. */
  started: number;
  /** The request's routes: an executor whose route has no end time is still working on it. */
  routes: readonly Route[];
}

/** How many stuck requests a liveness reason names before summarising. */
const NAMED = 3;

/**
 * Tracks every request's executor work until it really settles, which for a
 * timed-out or cancelled request is later than its reply: the gateway answers
 * DEADLINE_EXCEEDED and moves on, but a handler that ignores its abort signal
 * (or never resolves) is still holding a replica, a batch-queue slot or the
 * model. Work pending past `stuckMs` is what "wedged" means here; the flow
 * reports it through liveness so an orchestrator restarts the process, since
 * nothing inside a JavaScript process can kill one stuck promise.
 */
export class RunTracker {
  private readonly pending = new Set<PendingRun>();

  constructor(readonly stuckMs: number) {}

  /** Watches `run` until it settles (either way); never rethrows its failure. */
  track(requestId: string, endpoint: string, routes: readonly Route[], run: Promise<unknown>): void {
    const entry: PendingRun = { requestId, endpoint, started: performance.now(), routes };
    this.pending.add(entry);
    const done = () => void this.pending.delete(entry);
    run.then(done, done);
  }

  /** Runs not yet settled, abandoned ones included. */
  get size(): number {
    return this.pending.size;
  }

  /** Requests pending longer than the threshold. */
  stuck(now = performance.now()): number {
    let n = 0;
    for (const p of this.pending) if (now - p.started > this.stuckMs) n++;
    return n;
  }

  /** The liveness verdict: live unless some work has been pending past the threshold. */
  report(now = performance.now()): LivenessReport {
    let oldestMs = 0;
    const stuck: PendingRun[] = [];
    for (const p of this.pending) {
      const age = now - p.started;
      oldestMs = Math.max(oldestMs, age);
      if (age > this.stuckMs) stuck.push(p);
    }
    const base = { pending: this.pending.size, oldestMs: Math.round(oldestMs) };
    if (!stuck.length) return { live: true, ...base };
    stuck.sort((a, b) => a.started - b.started);
    const named = stuck.slice(0, NAMED).map((p) => {
      const busy = p.routes.filter((r) => r.endTime === undefined && r.executor !== GATEWAY).map((r) => r.executor);
      return `${p.requestId} (${p.endpoint}${busy.length ? ` in ${busy.join(', ')}` : ''}, ${Math.round((now - p.started) / 1000)} s)`;
    });
    const more = stuck.length > NAMED ? ` and ${stuck.length - NAMED} more` : '';
    return { live: false, reason: `${stuck.length} request(s) stuck in executors for over ${this.stuckMs} ms: ${named.join('; ')}${more}`, ...base };
  }
}
