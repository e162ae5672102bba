import { byTokens, PACKED_INPUTS, packedFeeds, planPackedRows, type ExecutionProvider, type InferenceRuntime, type InferenceSession, type PackingReport, type PooledCutReport, type SessionOptions, type TensorSpec } from '../../runtimes/index.js';
import type { ModelSpec } from './models/model-dir.js';
import { ClipTokenizer } from './tokenizer/clip-tokenizer.js';
import { planTextRuns, runOverheadTokens } from './text-batches.js';

export interface ClipModelOptions {
  provider: ExecutionProvider;
  /** In-process copies sharing the machine; divides the default thread count. */
  replicas?: number;
  intraOpThreads?: number;
  interOpThreads?: number;
}

/**
 * Optional timers around the two stages of text encoding: each is called when the
 * stage starts and returns the function to call when it ends (metrics, spans).
 */
export interface TextStages {
  /** Tokenizing the whole request. */
  preprocess?: StageTimer;
  /** One run of `count` texts through the text graph. */
  encode?: (count: number) => () => void;
}

/** A stage timer: called when the stage starts, returns the function that ends it. */
export type StageTimer = () => () => void;

/** Output names the two layouts use for the embeddings, in order of preference. */
const TEXT_OUTPUTS = ['text_embeds', 'output', 'embeddings', 'sentence_embedding'];
const VISION_OUTPUTS = ['image_embeds', 'output', 'embeddings'];

/** The embedding output: the manifest's name, a known name, else the only 2-D output. */
function pickOutput(session: InferenceSession, preferred: string | undefined, known: string[], which: string): string {
  const names = session.outputs.map((o) => o.name);
  if (preferred && names.includes(preferred)) return preferred;
  const hit = known.find((k) => names.includes(k));
  if (hit) return hit;
  const twoD = session.outputs.filter((o) => o.shape.length === 2);
  if (twoD.length === 1) return twoD[0]!.name;
  throw new Error(`cannot tell which ${which} output holds the embeddings; outputs: ${names.join(', ')}`);
}

function input(session: InferenceSession, name: string): TensorSpec | undefined {
  return session.inputs.find((i) => i.name === name);
}

/**
 * Loads both graphs and settles only when both have: when one fails, the other
 * is released and the first failure thrown. Rejecting at the first failure would
 * leak a graph that did load, and a caller that then exits would tear down the
 * other graph's worker mid-load (with WebGPU's Dawn, a native abort).
 */
async function loadBoth(runtime: InferenceRuntime, loads: Array<[string, SessionOptions]>): Promise<[InferenceSession, InferenceSession]> {
  const loaded = await Promise.allSettled(loads.map(([path, options]) => runtime.load(path, options)));
  const failed = loaded.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(loaded.map((r) => (r.status === 'fulfilled' ? r.value.release() : undefined)));
    throw failed.reason;
  }
  const [text, vision] = loaded.map((r) => (r as PromiseFulfilledResult<InferenceSession>).value);
  return [text!, vision!];
}

/**
 * A CLIP model on an inference runtime: the text and vision graphs plus the
 * tokenizer, fed exactly as each graph declares (names, int32 vs int64, fixed or
 * dynamic sequence axis, float16) — the dtype conversion itself is the runtime's.
 */
export class ClipModel {
  /** Per graph, when its last queued run settles (see {@link runQueued}). */
  private readonly lastRun = new Map<InferenceSession, Promise<void>>();

  private constructor(
    readonly spec: ModelSpec,
    readonly tokenizer: ClipTokenizer,
    private readonly text: InferenceSession,
    private readonly vision: InferenceSession,
    private readonly textOutput: string,
    private readonly visionOutput: string,
    /** Sequence length the text graph needs; undefined when its axis is dynamic. */
    readonly fixedTextLength: number | undefined,
  ) {}

  static async load(spec: ModelSpec, runtime: InferenceRuntime, options: ClipModelOptions): Promise<ClipModel> {
    // Only the embeddings are read, so the runtime may run the towers' last layers on the pooled token alone,
    // and the text tower on several texts a row.
    const sessionOptions = { provider: options.provider, replicas: options.replicas, intraOpThreads: options.intraOpThreads, interOpThreads: options.interOpThreads, pooledOutputsOnly: true };
    const [text, vision] = await loadBoth(runtime, [[spec.textualPath, { ...sessionOptions, packedTexts: true }], [spec.visualPath, sessionOptions]]);
    try {
      const tokenizer = spec.tokenizer.path ? await ClipTokenizer.fromModelDir(spec.dir) : await ClipTokenizer.fromBpeGz();
      const ids = input(text, 'input_ids') ?? text.inputs[0];
      if (!ids) throw new Error(`${spec.textualPath} declares no inputs`);
      const seq = ids.shape[1];
      const fixed = typeof seq === 'number' && seq > 0 ? seq : undefined;
      return new ClipModel(
        spec,
        tokenizer,
        text,
        vision,
        pickOutput(text, spec.outputs?.text, TEXT_OUTPUTS, 'text'),
        pickOutput(vision, spec.outputs?.vision, VISION_OUTPUTS, 'vision'),
        fixed,
      );
    } catch (e) {
      await Promise.allSettled([text.release(), vision.release()]);
      throw e;
    }
  }

  get provider(): ExecutionProvider {
    return this.text.provider;
  }

  /** What loading made of each tower's pooled-token cut (absent where none was found). */
  get pooledCuts(): { text?: PooledCutReport; vision?: PooledCutReport } {
    return { text: this.text.pooledCut, vision: this.vision.pooledCut };
  }

  /** Whether text runs take several texts a row, and if not, why. */
  get textPacking(): PackingReport | undefined {
    return this.text.packing;
  }

  get imageSize(): number {
    return this.spec.imageSize;
  }

  /** Name of the text graph's id input (clip-server and HF both use `input_ids`). */
  private get idsName(): string {
    return input(this.text, 'input_ids')?.name ?? this.text.inputs[0]!.name;
  }

  /**
   * Embeds texts in runs of at most `minibatchSize`. A text graph that loaded
   * packed takes each run's texts several a row, texts that start alike sharing
   * their prefix (packed-texts.ts), so short captions cost their own tokens
   * rather than a common padded length; runs take the texts in token order.
   * Otherwise, graphs with a dynamic sequence axis get each run padded only to
   * its longest text (EOT pooling and the causal mask make the result identical
   * to padding to 77); the texts are sorted by length and cut where the padding
   * saved outweighs the price of another run (planTextRuns). Fixed-length graphs
   * take equal-count minibatches. Results come back in input order.
   */
  async encodeTexts(texts: string[], minibatchSize = texts.length, stages: TextStages = {}): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const context = this.spec.contextLength;
    const tokenized = stages.preprocess?.();
    const batch = this.tokenizer.tokenize(texts, context);
    tokenized?.();
    const packed = this.text.packing?.applied === true;
    const tokensOf = (r: number) => batch.ids.subarray(r * context, r * context + batch.lengths[r]!);
    let order = texts.map((_, i) => i);
    let ends: number[] | undefined;
    if (packed) {
      // Runs of texts in token order, so texts that start alike share a run and their prefix.
      order = byTokens(order.map(tokensOf));
    } else if (this.fixedTextLength === undefined) {
      order.sort((a, b) => batch.lengths[a]! - batch.lengths[b]!);
      ends = planTextRuns(order.map((r) => batch.lengths[r]!), minibatchSize, runOverheadTokens(this.provider));
    }
    if (!ends) {
      ends = [];
      for (let end = minibatchSize; end < order.length; end += minibatchSize) ends.push(end);
      ends.push(order.length);
    }
    const out = new Array<Float32Array>(texts.length);
    let start = 0;
    for (const end of ends) {
      const rows = order.slice(start, end);
      const timer = stages.encode && (() => stages.encode!(rows.length));
      const vectors = packed ? await this.runPacked(rows.map(tokensOf), timer) : await this.runText(batch.ids, batch.lengths, rows, context, timer);
      rows.forEach((r, j) => (out[r] = vectors[j]!));
      start = end;
    }
    return out;
  }

  /** One text-graph run over the given rows of a tokenized batch. */
  private async runText(allIds: Int32Array, lengths: Int32Array, rows: number[], context: number, timer?: StageTimer): Promise<Float32Array[]> {
    const length = this.fixedTextLength ?? Math.max(...rows.map((r) => lengths[r]!));
    const n = rows.length;
    const ids = new Int32Array(n * length);
    const mask = new Int32Array(n * length);
    rows.forEach((r, i) => {
      ids.set(allIds.subarray(r * context, r * context + Math.min(length, context)), i * length);
      mask.fill(1, i * length, i * length + lengths[r]!);
    });
    const feeds: Record<string, { data: Int32Array; dims: number[] }> = { [this.idsName]: { data: ids, dims: [n, length] } };
    if (input(this.text, 'attention_mask')) feeds.attention_mask = { data: mask, dims: [n, length] };
    const out = await this.runQueued(this.text, feeds, this.textOutput, timer);
    return splitRows(out);
  }

  /** One packed run of texts (their token ids), several a row; embeddings come back in their order. */
  private async runPacked(texts: Int32Array[], timer?: StageTimer): Promise<Float32Array[]> {
    const p = packedFeeds(texts, planPackedRows(texts, this.spec.contextLength, this.fixedTextLength));
    const feeds = { [this.idsName]: p.ids, [PACKED_INPUTS.positions]: p.positions, [PACKED_INPUTS.bias]: p.bias, [PACKED_INPUTS.pick]: p.pick };
    if (input(this.text, 'attention_mask')) feeds.attention_mask = p.mask;
    return splitRows(await this.runQueued(this.text, feeds, this.textOutput, timer));
  }

  /**
   * Embeds a preprocessed batch `[n, 3, S, S]` (normalised float32, CHW). The
   * pixels are handed to the session: don't read them afterwards (a session on its
   * own thread takes the buffer rather than copy 19 MB per batch of 32).
   */
  async encodeImages(pixels: Float32Array, n: number, timer?: StageTimer): Promise<Float32Array[]> {
    if (n === 0) return [];
    const s = this.imageSize;
    const name = input(this.vision, 'pixel_values')?.name ?? this.vision.inputs[0]!.name;
    return splitRows(await this.runQueued(this.vision, { [name]: { data: pixels, dims: [n, 3, s, s] } }, this.visionOutput, timer));
  }

  /**
   * Sends a run to `graph` at once, so it queues right behind the graph's running
   * one (callers started ahead of time, e.g. by batching lookahead, keep the model
   * busy), but starts `timer` only when the run before it has finished: the stage
   * times the model's work, not the wait in its queue.
   */
  private async runQueued(graph: InferenceSession, feeds: Parameters<InferenceSession['run']>[0], output: string, timer?: StageTimer) {
    const before = this.lastRun.get(graph);
    const run = graph.run(feeds, [output], { consumeFeeds: true });
    this.lastRun.set(graph, run.then(() => undefined, () => undefined));
    await before;
    const stop = timer?.();
    try {
      return (await run)[output]!;
    } finally {
      stop?.();
    }
  }

  /** One tiny run of each graph, so the first real request doesn't pay for lazy initialisation. */
  async warmUp(): Promise<void> {
    await this.encodeTexts(['warm up']);
    await this.encodeImages(new Float32Array(3 * this.imageSize * this.imageSize), 1);
  }

  async release(): Promise<void> {
    await Promise.allSettled([this.text.release(), this.vision.release()]);
  }
}

/** `[n, D]` -> n row copies (copies, so callers may keep one row without pinning the batch). */
function splitRows(t: { data: Float32Array; dims: number[] }): Float32Array[] {
  const [n, d] = [t.dims[0]!, t.dims[t.dims.length - 1]!];
  return Array.from({ length: n }, (_, i) => t.data.slice(i * d, (i + 1) * d));
}
