import type { Logger } from 'pino';
import type { DocumentArray } from '../document/document-array.js';

/** What the flow tells an executor about where it runs. */
export interface ExecutorContext {
  /** The flow's name for this executor (`executors[].name`). */
  name: string;
  /** A folder for the executor's state, when the flow sets `workspace`. */
  workspace?: string;
  /** `metas:` from flow.yml, minus what the framework consumed. */
  metas: Record<string, unknown>;
  /** Which replica this instance is (0-based) and how many there are. */
  replicaId: number;
  replicas: number;
  logger: Logger;
  /** Where the executor reports its own timings (e.g. `encode_images_seconds`); absent outside a flow. */
  metrics?: ExecutorMetrics;
}

/**
 * Timings an executor reports to the flow's Prometheus registry. Each name becomes a
 * histogram `clipflow_<name>` labelled with the executor's name; names are
 * snake_case and should end in `_seconds`.
 */
export interface ExecutorMetrics {
  /** Records one duration in seconds. */
  observe(name: string, seconds: number, help?: string): void;
  /** Starts a timer; calling the result records and returns the elapsed seconds. */
  startTimer(name: string, help?: string): () => number;
}

/** The one argument every endpoint handler receives. */
export interface HandlerArgs {
  docs: DocumentArray;
  parameters: Record<string, unknown>;
  /** Per-upstream document arrays when several `needs` were joined. */
  docsMatrix?: DocumentArray[];
  /** The endpoint being served, e.g. `/encode`. */
  endpoint: string;
  /** Fires when the caller is gone or the request timed out. */
  signal?: AbortSignal;
}

/** What a handler may return: new docs, a result object for `parameters.__results__`, or nothing. */
export type HandlerResult = DocumentArray | Record<string, unknown> | void | undefined;

/**
 * Base class for executors. The constructor receives flow.yml's `with:` arguments;
 * `init()` loads heavy state (the flow is ready only after every init), `close()`
 * releases it. Bind methods to endpoints with `@requests`.
 */
export class Executor {
  readonly args: Record<string, unknown>;
  readonly context: ExecutorContext | undefined;

  constructor(args: Record<string, unknown> = {}, context?: ExecutorContext) {
    this.args = args;
    this.context = context;
  }

  get name(): string {
    return this.context?.name ?? this.constructor.name;
  }

  get workspace(): string | undefined {
    return this.context?.workspace;
  }

  get logger(): Logger | undefined {
    return this.context?.logger;
  }

  async init(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Any class usable as an executor: our base class or a plain JS class. */
export type ExecutorClass = new (args: Record<string, unknown>, context: ExecutorContext) => object;
