/**
 * The inference backend contract. Executors talk only to these types; each
 * backend (today: onnxruntime-node in runtimes/onnx) implements them.
 */

/** Where a model runs. `cpu` always exists; the others depend on the installed binaries and hardware. */
export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda' | 'tensorrt';
export const EXECUTION_PROVIDERS: readonly ExecutionProvider[] = ['cpu', 'webgpu', 'cuda', 'tensorrt'];

export type TensorType = 'float32' | 'float16' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool' | 'float64';

/** A graph input or output as the model declares it; string dims are symbolic (dynamic). */
export interface TensorSpec {
  name: string;
  type: TensorType;
  shape: ReadonlyArray<number | string>;
}

/**
 * A tensor handed to or returned by a session. Callers pass logical data
 * (float32 for floats, int32 for ids); the session converts to whatever dtype the
 * graph declares (float16, int64) so executors never care.
 */
export interface HostTensor {
  data: Float32Array | Int32Array;
  dims: number[];
}

export interface SessionOptions {
  provider: ExecutionProvider;
  /** Threads for one operator; default: physical cores / `replicas`. */
  intraOpThreads?: number;
  interOpThreads?: number;
  /** How many sessions share the machine (replicas); divides the default thread count. */
  replicas?: number;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** GPU ordinal for cuda/tensorrt/webgpu. */
  deviceId?: number;
  /**
   * The caller reads only pooled outputs (embeddings), never per-token states:
   * the runtime may drop those outputs and run the last layers on the pooled
   * token alone, once it has checked that the embeddings stay the same.
   */
  pooledOutputsOnly?: boolean;
  /**
   * With pooledOutputsOnly, on a causal text tower: the runtime may also let a
   * run take several texts end to end in one row (packed-texts.ts). A session
   * that does takes PACKED_INPUTS beside its ids, and says so in `packing`.
   */
  packedTexts?: boolean;
}

/** What loading made of {@link SessionOptions.packedTexts}. */
export type PackingReport = { applied: true } | { applied: false; reason: string };

/** What loading made of {@link SessionOptions.pooledOutputsOnly}. */
export type PooledCutReport =
  | { applied: true; /** Ops now run on one token per input. */ nodes: number; matMuls: number; droppedOutputs: string[] }
  | { applied: false; reason: string };

/** Per-call options of {@link InferenceSession.run}. */
export interface RunOptions {
  /**
   * The caller never reads the feeds again: a session running on another thread may
   * take their buffers instead of copying them (the caller's arrays are detached).
   */
  consumeFeeds?: boolean;
}

export interface InferenceSession {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The provider that really runs this session (never a silent CPU fallback). */
  readonly provider: ExecutionProvider;
  /** Set when a pooled-token cut was found: whether it serves, and if not, why. */
  readonly pooledCut?: PooledCutReport;
  /** Set when packedTexts was asked for: whether runs take packed texts, and if not, why. */
  readonly packing?: PackingReport;
  /** Runs the graph; returns the named outputs (all when `outputNames` is omitted) as float32. */
  run(feeds: Record<string, HostTensor>, outputNames?: string[], options?: RunOptions): Promise<Record<string, { data: Float32Array; dims: number[] }>>;
  release(): Promise<void>;
}

export interface InferenceRuntime {
  readonly name: string;
  /** Providers this installation can use, each with a reason when it cannot. */
  probe(): Promise<Record<ExecutionProvider, { available: boolean; reason?: string }>>;
  /** Loads a model file; an unavailable provider is a start-up error saying how to get it. */
  load(modelPath: string, options: SessionOptions): Promise<InferenceSession>;
}
