import { Piscina } from 'piscina';
import { BadRequestError } from '../../../core/errors.js';
import type { Normalization } from './preprocess.js';
import type { PreprocessResult, PreprocessTask } from './preprocess.worker.js';

/** The compiled worker next to this module (`.js` in dist, `.ts` under a TS loader). */
const WORKER_URL = new URL(`./preprocess.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * Tasks one thread holds at once. A task spends most of its time waiting for its
 * decode, which runs on the libuv pool (sharp, zlib), so one task per thread
 * leaves the thread idle while it waits.
 */
export const TASKS_PER_THREAD = 4;

/**
 * Decode, crop and normalise on a pool of worker threads (piscina). Idle threads
 * hold the process open no longer than idle sockets do; `close()` ends them.
 */
export class PreprocessPool {
  private readonly pool: Piscina<PreprocessTask, PreprocessResult>;

  constructor(threads: number) {
    const n = Math.max(1, Math.floor(threads));
    this.pool = new Piscina({ filename: WORKER_URL.href, minThreads: n, maxThreads: n, concurrentTasksPerWorker: TASKS_PER_THREAD, idleTimeout: Infinity });
  }

  /**
   * The image as float32 CHW (3 x size x size), exactly as preprocessInto writes it,
   * or a BadRequestError with the decoder's reason (the caller names the document).
   * Takes no abort signal: piscina aborts a task by ending its thread, which costs
   * more than the few milliseconds the task has left.
   */
  async pixels(source: Uint8Array | string, size: number, maxPixels: number, norm: Normalization): Promise<Float32Array> {
    // Cloning a view would copy its whole backing buffer (for a gRPC or JSON request, the
    // request's): the image's own bytes are copied once and moved to the thread. Not
    // with slice(): on a Node Buffer that is a view, and moving it would detach the request's.
    const own = typeof source === 'string' ? source : new Uint8Array(source);
    const transferList = typeof own === 'string' ? [] : [own.buffer as ArrayBuffer];
    const result = await this.pool.run({ source: own, size, maxPixels, mean: norm.mean, std: norm.std }, { transferList });
    if (!(result instanceof Float32Array)) throw new BadRequestError(result.invalid);
    return result;
  }

  /** Tasks waiting for a thread with room: all hold TASKS_PER_THREAD already. */
  get queued(): number {
    return this.pool.queueSize;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
