import { Document } from '../../core/document/document.js';
import type { DocumentArray } from '../../core/document/document-array.js';
import { BadRequestError, FlowConfigError } from '../../core/errors.js';
import { Executor, type ExecutorContext, type ExecutorMetrics, type HandlerArgs } from '../../core/executor/executor.js';
import { tracer } from '../../core/telemetry/tracing.js';
import { physicalCores } from '../../core/config/cpu.js';
import { dynamicBatching, requests } from '../../core/executor/decorators.js';
import { EXECUTION_PROVIDERS, inferenceRuntime, type ExecutionProvider } from '../../runtimes/index.js';
import { ClipModel } from './clip-model.js';
import { buildImageBatch, stageImages, type ImageBatchOptions } from './image-batch.js';
import { PreprocessPool } from './preprocess/preprocess-pool.js';
import { DEFAULT_FETCH_POLICY, type FetchPolicy } from './image-fetch.js';
import { rankMatches } from './rank.js';
import { resolveEncoderModel } from './model-loader.js';

/** Parameters clip-server's CLIPEncoder takes, plus clipflow's. */
interface ClipEncoderArgs {
  name?: string;
  model_path?: string;
  minibatch_size?: number;
  num_worker_preprocess?: number;
  access_paths?: string;
  traversal_paths?: string;
  runtime?: string;
  device?: string;
  dtype?: string;
  intra_op_threads?: number;
  inter_op_threads?: number;
  max_image_pixels?: number;
  fetch_timeout_ms?: number;
  fetch_max_bytes?: number;
  uri_allowlist?: string[];
  /** Image preprocessing threads; 0 = on the event loop. Default: up to 4 (cores / replicas) on a GPU provider, 0 on cpu. */
  preprocess_threads?: number;
}

/**
 * Documents per merged call: one model minibatch at the default minibatch_size.
 * The next full batch is started while one runs (lookahead), so its images are
 * packed into their tensor before the model is free and the model never idles
 * between batches.
 */
const BATCH_SIZE = 32;
/** Requests of up to this many images are decoded and cropped before they join a batch. */
const STAGE_LIMIT = 64;
/** The default ceiling of `preprocess_threads` on GPU providers (see preprocessThreads). */
const MAX_DEFAULT_PREPROCESS_THREADS = 4;

/**
 * Encodes text and images with a CLIP model (clip-server's `CLIPEncoder`), and
 * ranks matches on `/rank`. It never touches onnxruntime: it gets an inference
 * runtime and a model spec, and feeds the graphs through ClipModel.
 */
export class ClipEncoder extends Executor {
  private readonly opts: Required<Pick<ClipEncoderArgs, 'minibatch_size' | 'access_paths' | 'max_image_pixels'>> & ClipEncoderArgs;
  private readonly provider: ExecutionProvider;
  private readonly fetchPolicy: FetchPolicy;
  private model: ClipModel | undefined;
  private preprocessPool: PreprocessPool | undefined;
  private warning: string | undefined;

  constructor(args: Record<string, unknown> = {}, context?: ExecutorContext) {
    super(args, context);
    const a = args as ClipEncoderArgs;
    this.opts = {
      ...a,
      minibatch_size: positiveInt(a.minibatch_size ?? 32, 'minibatch_size'),
      access_paths: a.access_paths ?? a.traversal_paths ?? '@r',
      max_image_pixels: positiveInt(a.max_image_pixels ?? 100_000_000, 'max_image_pixels'),
      ...(a.preprocess_threads !== undefined ? { preprocess_threads: nonNegativeInt(a.preprocess_threads, 'preprocess_threads') } : {}),
    };
    this.provider = providerOf(a.runtime, a.device);
    this.fetchPolicy = {
      ...DEFAULT_FETCH_POLICY,
      ...(a.fetch_timeout_ms ? { timeoutMs: positiveInt(a.fetch_timeout_ms, 'fetch_timeout_ms') } : {}),
      ...(a.fetch_max_bytes ? { maxBytes: positiveInt(a.fetch_max_bytes, 'fetch_max_bytes') } : {}),
      allow: a.uri_allowlist ?? [],
    };
  }

  override async init(): Promise<void> {
    const { spec, warning } = await resolveEncoderModel({ name: this.opts.name, modelPath: this.opts.model_path, provider: this.provider, logger: this.logger });
    this.warning = warning;
    const runtime = await inferenceRuntime();
    this.model = await ClipModel.load(spec, runtime, {
      provider: this.provider,
      replicas: this.context?.replicas,
      intraOpThreads: this.opts.intra_op_threads,
      interOpThreads: this.opts.inter_op_threads,
    });
    await this.model.warmUp();
    const threads = this.preprocessThreads();
    if (threads > 0) this.preprocessPool = new PreprocessPool(threads);
    this.logger?.info({ model: spec.name, layout: spec.layout, provider: this.model.provider, dir: spec.dir, pooledCut: this.model.pooledCuts, textPacking: this.model.textPacking }, 'CLIP model ready');
  }

  override async close(): Promise<void> {
    await Promise.all([this.model?.release(), this.preprocessPool?.close()]);
    this.model = undefined;
    this.preprocessPool = undefined;
  }

  /**
   * Threads that decode, crop and normalise images, so the event loop only copies
   * pixels into batches. They cost ~0.5-1.5 ms of CPU a document more than working on
   * the event loop (measured on 2 cores), which pays where the event loop is the
   * bottleneck. On a GPU (H200, WebGPU, 16 vCPUs) one client's 640x427 JPEGs went
   * from ~320/s with none to ~920/s with 4, each holding 4 images at once
   * (TASKS_PER_THREAD); 8 threads or 16 served no more. On the CPU provider ORT's
   * threads already fill the cores. At most 4 by default: each costs ~45 MB of RSS.
   */
  private preprocessThreads(): number {
    if (this.opts.preprocess_threads !== undefined) return this.opts.preprocess_threads;
    return this.provider === 'cpu' ? 0 : Math.min(MAX_DEFAULT_PREPROCESS_THREADS, Math.max(1, Math.floor(physicalCores() / Math.max(1, this.context?.replicas ?? 1))));
  }

  /** Facts for `/status` and the start-up banner: the model, the provider, and any warning. */
  status(): Record<string, string> {
    const out: Record<string, string> = {};
    if (this.model) {
      out.model = this.model.spec.name;
      out.provider = this.model.provider;
    }
    if (this.warning) out.warning = this.warning;
    return out;
  }

  @requests(['/', '/encode', '/index', '/search', '/update'])
  @dynamicBatching({ preferredBatchSize: BATCH_SIZE, timeout: 0, lookahead: 1, prepare: 'stage' })
  async encode({ docs, parameters, signal }: HandlerArgs): Promise<void> {
    await this.encodeDocs(docs.traverse(this.accessPaths(parameters)), docs, Boolean(parameters.drop_image_content), signal);
  }

  /**
   * Per request, before batching: remote images are fetched here, not inside a shared
   * batch, and the images of requests up to a batch in size are decoded and cropped
   * while the model runs the batch before (see stageImages).
   */
  async stage({ docs, parameters, signal }: HandlerArgs): Promise<void> {
    const position = new Map<Document, number>(docs.map((d, i) => [d, i]));
    await stageImages(docs.traverse(this.accessPaths(parameters)), (d) => position.get(d) ?? -1, this.imageOptions(signal), STAGE_LIMIT);
  }

  private imageOptions(signal?: AbortSignal): ImageBatchOptions {
    const model = this.model;
    if (!model) throw new Error('ClipEncoder used before init()');
    return {
      size: model.imageSize,
      mean: model.spec.mean,
      std: model.spec.std,
      fetch: this.fetchPolicy,
      maxPixels: this.opts.max_image_pixels,
      concurrency: this.opts.num_worker_preprocess ?? physicalCores(),
      ...(this.preprocessPool ? { pool: this.preprocessPool } : {}),
      signal,
    };
  }

  private accessPaths(parameters: Record<string, unknown>): string {
    return String(parameters.access_paths ?? parameters.traversal_paths ?? this.opts.access_paths);
  }

  @requests('/rank')
  async rank({ docs, parameters, signal }: HandlerArgs): Promise<void> {
    await this.encodeDocs(docs.traverse('@r,m'), docs, Boolean(parameters.drop_image_content), signal);
    for (const query of docs) rankMatches(query);
  }

  private async encodeDocs(targets: DocumentArray, root: DocumentArray, dropImageContent: boolean, signal?: AbortSignal): Promise<void> {
    const model = this.model;
    if (!model) throw new Error('ClipEncoder used before init()');
    const position = new Map<Document, number>(root.map((d, i) => [d, i]));
    const indexOf = (d: Document) => position.get(d) ?? targets.indexOf(d);
    const texts: Document[] = [];
    const images: Document[] = [];
    for (const d of targets) {
      if (d.text) texts.push(d);
      else if ((d.blob && d.blob.byteLength) || d.tensor || d.uri) images.push(d);
      else if (d.blob) throw new BadRequestError(`document ${d.id} (index ${indexOf(d)}): its blob is empty (0 bytes); send the image's bytes`);
      else throw new BadRequestError(`document ${d.id} (index ${indexOf(d)}) has no text, blob, tensor or uri to encode`);
    }
    const size = this.opts.minibatch_size;
    const metrics = this.context?.metrics;
    if (texts.length) {
      const vectors = await model.encodeTexts(texts.map((d) => d.text!), size, {
        preprocess: () => stageTimer(metrics, 'preprocess_texts_seconds', texts.length),
        encode: (count) => stageTimer(metrics, 'encode_texts_seconds', count),
      });
      texts.forEach((d, j) => (d.embedding = vectors[j]));
    }
    const batches: Document[][] = [];
    for (let i = 0; i < images.length; i += size) batches.push(images.slice(i, i + size));
    const options = this.imageOptions(signal);
    // Pipelined: the next minibatch is fetched, decoded and preprocessed while the model runs this one.
    await pipeline(
      batches,
      async (batch) => {
        const done = stageTimer(metrics, 'preprocess_images_seconds', batch.length);
        try {
          return await buildImageBatch(batch, indexOf, options);
        } finally {
          done();
        }
      },
      async (batch, pixels) => {
        const vectors = await model.encodeImages(pixels, batch.length, () => stageTimer(metrics, 'encode_images_seconds', batch.length));
        batch.forEach((d, j) => {
          d.embedding = vectors[j];
          if (dropImageContent) {
            delete d.blob;
            delete d.tensor;
          }
        });
      },
    );
  }
}

/**
 * Runs `prepare` for item i+1 while `consume` works on item i. A failed prepare
 * surfaces when its turn comes (never as an unhandled rejection).
 */
export async function pipeline<T, P>(items: T[], prepare: (item: T) => Promise<P>, consume: (item: T, prepared: P) => Promise<void>): Promise<void> {
  const settle = (p: Promise<P>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
  let next = items.length ? settle(prepare(items[0]!)) : undefined;
  for (let i = 0; i < items.length; i++) {
    const current = await next!;
    next = i + 1 < items.length ? settle(prepare(items[i + 1]!)) : undefined;
    if ('error' in current) {
      await next; // let the prefetch finish before failing
      throw current.error;
    }
    await consume(items[i]!, current.value);
  }
}

function positiveInt(v: unknown, key: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new FlowConfigError(`must be a positive integer, got ${JSON.stringify(v)}`, `uses.with.${key}`);
  return n;
}

function nonNegativeInt(v: unknown, key: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new FlowConfigError(`must be a non-negative integer, got ${JSON.stringify(v)}`, `uses.with.${key}`);
  return n;
}

/** `runtime:` (ours) or clip-server's `device: cuda` -> an execution provider; unknown names fail. */
function providerOf(runtime: string | undefined, device: string | undefined): ExecutionProvider {
  const name = (runtime ?? (device?.startsWith('cuda') ? 'cuda' : 'cpu')).toLowerCase();
  if (!(EXECUTION_PROVIDERS as readonly string[]).includes(name)) {
    throw new FlowConfigError(`unknown runtime "${runtime}"; known runtimes: ${EXECUTION_PROVIDERS.join(', ')}`, 'uses.with.runtime');
  }
  return name as ExecutionProvider;
}

/** clip-server's stage metric names (Jina exposes them as `jina_<name>`; we as `clipflow_<name>`). */
type ClipStage = 'preprocess_texts_seconds' | 'encode_texts_seconds' | 'preprocess_images_seconds' | 'encode_images_seconds';

const HELP: Record<ClipStage, string> = {
  preprocess_texts_seconds: 'texts preprocess (tokenize) time in seconds, per request',
  encode_texts_seconds: 'texts encode (text model) time in seconds, per minibatch',
  preprocess_images_seconds: 'images preprocess (fetch, decode, resize, normalise) time in seconds, per minibatch',
  encode_images_seconds: 'images encode (vision model) time in seconds, per minibatch',
};

/**
 * Starts timing one stage of encoding into its histogram and an OpenTelemetry
 * span (`clip.preprocess_texts`, `clip.encode_images`, ...); the returned
 * function ends both. Without metrics (executor used outside a flow) and without
 * an OpenTelemetry SDK it costs next to nothing.
 */
function stageTimer(metrics: ExecutorMetrics | undefined, stage: ClipStage, documents: number): () => void {
  const stop = metrics?.startTimer(stage, HELP[stage]);
  const span = tracer().startSpan(`clip.${stage.replace(/_seconds$/, '')}`, { attributes: { 'clipflow.documents': documents } });
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    stop?.();
    span.end();
  };
}
