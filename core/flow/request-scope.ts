import { CancelledError, DeadlineExceededError } from '../errors.js';

/** Where a request's time budget comes from, for the message that names it. */
export interface Budget {
  ms: number;
  source: 'gateway timeout' | 'header.timeout' | 'gRPC deadline';
}

/**
 * The tightest of the gateway's `timeout`, the request's own `header.timeout`
 * (Jina's per-request timeout, ms; 0 = none) and the caller's gRPC deadline.
 * Undefined when none applies.
 */
export function requestBudget(gatewayMs: number | undefined, headerMs: number | undefined, deadline: number | undefined, now = Date.now()): Budget | undefined {
  const candidates: Budget[] = [];
  if (gatewayMs && gatewayMs > 0) candidates.push({ ms: gatewayMs, source: 'gateway timeout' });
  if (headerMs && headerMs > 0) candidates.push({ ms: headerMs, source: 'header.timeout' });
  if (deadline !== undefined && Number.isFinite(deadline)) candidates.push({ ms: Math.max(0, Math.floor(deadline - now)), source: 'gRPC deadline' });
  return candidates.reduce<Budget | undefined>((best, c) => (!best || c.ms < best.ms ? c : best), undefined);
}

/**
 * One request's cancellation: a signal the executors get, fired by the time
 * budget (DeadlineExceededError), by the caller going away (CancelledError) or
 * by shutdown (any reason given to `abort`). `race` stops waiting the moment it
 * fires, so a handler that ignores its signal delays nobody but itself.
 */
export class RequestScope {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort: (() => void) | undefined;

  constructor(
    budget: Budget | undefined,
    private readonly callerSignal?: AbortSignal,
  ) {
    if (budget) {
      const fire = () => this.abort(new DeadlineExceededError(`request exceeded its ${budget.ms} ms time limit (${budget.source}); its work was abandoned`));
      if (budget.ms <= 0) fire();
      else this.timer = setTimeout(fire, budget.ms);
    }
    if (callerSignal) {
      this.onCallerAbort = () => this.abort(new CancelledError());
      if (callerSignal.aborted) this.onCallerAbort();
      else callerSignal.addEventListener('abort', this.onCallerAbort, { once: true });
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Fires the signal once; later calls keep the first reason. */
  abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** `work`'s outcome, or the abort reason as soon as the signal fires, whichever comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) {
      work.catch(() => {}); // settled later by itself; nobody waits for it any more
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
        (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
      );
    });
  }

  /** Stops the timer and the caller listener; the signal stays as it is. */
  dispose(): void {
    clearTimeout(this.timer);
    if (this.onCallerAbort) this.callerSignal?.removeEventListener('abort', this.onCallerAbort);
  }
}
