import { Worker } from 'node:worker_threads';
import { ModelLoadError, ProviderUnavailableError } from '../errors.js';
import type { ExecutionProvider, HostTensor, InferenceSession, PackingReport, PooledCutReport, RunOptions, SessionOptions, TensorSpec } from '../runtime.js';
import { onDevice } from './device-queue.js';

/** What the worker is started with. */
export interface WorkerInit {
  modelPath: string;
  options: SessionOptions;
}

/** A typed error crossing the thread boundary (class instances do not survive postMessage). */
export type SessionFailure =
  | { kind: 'provider'; provider: ExecutionProvider; reason: string }
  | { kind: 'load'; path: string; reason: string }
  | { kind: 'error'; message: string };

type Outputs = Record<string, { data: Float32Array; dims: number[] }>;

/** Main thread → worker. */
export type ToSession =
  | { type: 'run'; id: number; feeds: Record<string, HostTensor>; outputNames?: string[] }
  | { type: 'release' };

/** Worker → main thread. */
type FromSession =
  | { type: 'ready'; inputs: TensorSpec[]; outputs: TensorSpec[]; provider: ExecutionProvider; pooledCut?: PooledCutReport; packing?: PackingReport }
  | { type: 'open-failed'; error: SessionFailure }
  | { type: 'result'; id: number; outputs: Outputs }
  | { type: 'run-failed'; id: number; error: SessionFailure }
  | { type: 'released' };

function toError(f: SessionFailure): Error {
  if (f.kind === 'provider') return new ProviderUnavailableError(f.provider, f.reason);
  if (f.kind === 'load') return new ModelLoadError(f.path, f.reason);
  return new Error(f.message);
}

/** The compiled worker entry next to this module (`.js` in dist, `.ts` under a TS loader). */
const WORKER_URL = new URL(`./session.worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * An ORT session on a worker thread of its own, behind the same InferenceSession
 * contract. Feeds are copied to the worker (callers may reuse their buffers) unless
 * the caller hands them over with `consumeFeeds`; outputs are transferred back. The worker holds the process open only while a
 * run is pending.
 */
export class WorkerSession implements InferenceSession {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (o: Outputs) => void; reject: (e: Error) => void }>();
  /** Set once the worker is gone: every later call fails with it. */
  private stopped: Error | undefined;
  private released: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
    readonly provider: ExecutionProvider,
    readonly pooledCut: PooledCutReport | undefined,
    readonly packing: PackingReport | undefined,
  ) {
    worker.on('message', (msg: FromSession) => this.onMessage(msg));
    worker.on('error', (e) => this.stop(new Error(`inference worker failed: ${e.message}`)));
    worker.on('exit', (code) => this.stop(new Error(`inference worker exited (code ${code})`)));
    worker.unref();
  }

  /**
   * Starts a worker and loads `modelPath` there; rejects with the same typed errors as an inline load.
   * Loads, runs and releases on a provider with one shared device take turns across sessions (onDevice).
   */
  static open(modelPath: string, options: SessionOptions): Promise<WorkerSession> {
    return onDevice(options.provider, () => WorkerSession.start(modelPath, options));
  }

  private static start(modelPath: string, options: SessionOptions): Promise<WorkerSession> {
    const worker = new Worker(WORKER_URL, { workerData: { modelPath, options } satisfies WorkerInit });
    return new Promise((resolve, reject) => {
      // Only our own listeners come off: Worker keeps internal ones on itself.
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const fail = (e: Error) => {
        settle();
        void worker.terminate();
        reject(e);
      };
      // After a failed load the worker has nothing left to do and exits by itself. Rejecting only
      // once it has gone matters: a caller that then exits the process would otherwise tear the
      // thread down mid-cleanup of a native provider (seen with WebGPU's Dawn: an abort).
      const failAfterExit = (e: Error) => {
        settle();
        const forced = setTimeout(() => void worker.terminate(), 5000);
        worker.once('exit', () => {
          clearTimeout(forced);
          reject(e);
        });
      };
      const onMessage = (msg: FromSession) => {
        if (msg.type === 'open-failed') return failAfterExit(toError(msg.error));
        if (msg.type !== 'ready') return fail(new Error(`inference worker sent ${msg.type} before ready`));
        settle();
        resolve(new WorkerSession(worker, msg.inputs, msg.outputs, msg.provider, msg.pooledCut, msg.packing));
      };
      const onError = (e: Error) => fail(new ModelLoadError(modelPath, `inference worker failed: ${e.message}`));
      const onExit = (code: number) => fail(new ModelLoadError(modelPath, `inference worker exited (code ${code}) while loading`));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  run(feeds: Record<string, HostTensor>, outputNames?: string[], options: RunOptions = {}): Promise<Outputs> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.released) return Promise.reject(new Error('inference session already released'));
    const id = this.nextId++;
    return onDevice(this.provider, () => this.post(id, feeds, outputNames, options));
  }

  private post(id: number, feeds: Record<string, HostTensor>, outputNames: string[] | undefined, options: RunOptions): Promise<Outputs> {
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise<Outputs>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      const transfer = options.consumeFeeds ? ownedBuffers(feeds) : [];
      this.worker.postMessage({ type: 'run', id, feeds, outputNames } satisfies ToSession, transfer);
    });
  }

  release(): Promise<void> {
    // Runs accepted before this are ahead of it on a shared device's queue, so they are sent first.
    this.released ??= onDevice(this.provider, () => new Promise<void>((resolve) => {
      if (this.stopped) return resolve();
      this.worker.ref();
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'release' } satisfies ToSession);
    }));
    return this.released;
  }

  private onMessage(msg: FromSession): void {
    if (msg.type === 'released') {
      // The worker closes its port and exits by itself; terminate only one that lingers.
      setTimeout(() => void this.worker.terminate(), 5000).unref();
      return;
    }
    if (msg.type !== 'result' && msg.type !== 'run-failed') return;
    const call = this.pending.get(msg.id);
    if (!call) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0 && !this.released) this.worker.unref();
    if (msg.type === 'result') call.resolve(msg.outputs);
    else call.reject(toError(msg.error));
  }

  private stop(error: Error): void {
    this.stopped ??= error;
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }
}

/**
 * Buffers that can move to the worker without a copy: each wholly spanned by one
 * feed (a view into a larger or shared buffer is copied instead: detaching it would
 * take the rest of it away from its owner).
 */
function ownedBuffers(feeds: Record<string, HostTensor>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of Object.values(feeds)) {
    const buffer = data.buffer;
    if (buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength) buffers.add(buffer);
  }
  return [...buffers];
}
