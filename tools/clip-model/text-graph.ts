import { int } from '../onnx/graph-builder.js';
import { DataType } from '../../runtimes/onnx/graph/schema.js';
import { GraphContext, type Precision } from './graph-context.js';
import { layerNorm, transformer } from './transformer.js';
import type { WeightSource } from './weights.js';

/** Inputs, names and precision of a text graph; layouts differ only in these. */
export interface TextGraphOptions {
  precision: Precision;
  /** Element type of `input_ids` and `attention_mask` (clip-server: int32, HF: int64). */
  idsType: typeof DataType.INT32 | typeof DataType.INT64;
  /** The sequence axis: the context length (fixed) or a symbolic name (dynamic). */
  seqDim: number | string;
  /** Name of the [N, embedDim] text embedding output. */
  embedsName: string;
  /** When set, also output the [N, T, w] states after ln_final under this name (as HF does). */
  hiddenName?: string;
  /** Symbolic name of the batch axis. */
  batchDim?: string;
}

/** The additive causal mask: 0 on and below the diagonal, -inf above (clip/model.py build_attention_mask). */
function causalMask(size: number): number[] {
  const m = new Array<number>(size * size).fill(0);
  for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) m[i * size + j] = -Infinity;
  return m;
}

/**
 * CLIP's text transformer as an ONNX graph: token + position embeddings →
 * causally masked blocks → ln_final → the state at the EOT token (the
 * largest id, so argmax(input_ids), OpenAI's trick) @ text_projection.
 *
 * `attention_mask` is declared because both layouts' runtimes feed it, but the
 * graph does not read it: with the causal mask no position at or before EOT
 * can see the padding after it, so the embedding cannot depend on it.
 */
export function buildTextGraph(weights: WeightSource, options: TextGraphOptions): GraphContext {
  const p = weights.preset;
  const c = new GraphContext('clip_text', weights, options.precision);
  const g = c.g;
  const w = p.textWidth;
  const batch = options.batchDim ?? 'batch_size';
  const dynamic = typeof options.seqDim === 'string';
  if (!dynamic && options.seqDim !== p.contextLength) throw new Error(`a fixed sequence axis must be ${p.contextLength}`);

  const ids = g.input('input_ids', options.idsType, [batch, options.seqDim]);
  g.input('attention_mask', options.idsType, [batch, options.seqDim]);

  let positions = c.param('positional_embedding');
  let mask = c.floatConst(causalMask(p.contextLength), [p.contextLength, p.contextLength]);
  if (dynamic) {
    // Cut the [77, w] positions and the [77, 77] mask down to the fed length T.
    const len = g.op('Shape', [ids], { start: int(1), end: int(2) });
    positions = g.op('Slice', [positions, c.int64([0]), len, c.int64([0])]);
    const lenLen = g.op('Concat', [len, len], { axis: int(0) });
    mask = g.op('Slice', [mask, c.int64([0, 0]), lenLen, c.int64([0, 1])]);
  }

  const tokens = tokenEmbedding(c, ids);
  let x = g.op('Add', [tokens, positions]);
  x = transformer(c, x, 'transformer', { width: w, heads: p.textHeads, layers: p.textLayers }, mask);
  x = layerNorm(c, x, 'ln_final');

  // [N, 1] EOT positions; GatherND with batch_dims=1 picks x[n, eot[n]] → [N, w].
  const eot = g.op('ArgMax', [ids], { axis: int(1), keepdims: int(1) });
  const pooled = g.op('GatherND', [x, eot], { batch_dims: int(1) });
  const embeds = g.op('MatMul', [pooled, c.param('text_projection')]);
  g.output(options.embedsName, embeds, c.floatType, [batch, p.embedDim]);
  if (options.hiddenName) g.output(options.hiddenName, x, c.floatType, [batch, options.seqDim, w]);
  return c;
}

/** Gather of token rows; for presets with `vocabFactor`, the sum of two small tables' rows. */
function tokenEmbedding(c: GraphContext, ids: string): string {
  const g = c.g;
  const f = c.weights.preset.vocabFactor;
  if (!f) return g.op('Gather', [c.param('token_embedding.weight'), ids], { axis: int(0) });
  // Integer Div/Mod need one id type; int64 covers both layouts' inputs.
  const ids64 = g.op('Cast', [ids], { to: int(DataType.INT64) });
  const low = g.op('Gather', [c.param('token_embedding.factor_low'), g.op('Mod', [ids64, c.int64([f], [])])], { axis: int(0) });
  const high = g.op('Gather', [c.param('token_embedding.factor_high'), g.op('Div', [ids64, c.int64([f], [])])], { axis: int(0) });
  return g.op('Add', [low, high]);
}
