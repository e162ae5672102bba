import { int, ints } from '../onnx/graph-builder.js';
import { GraphContext, type Precision } from './graph-context.js';
import { layerNorm, transformer } from './transformer.js';
import type { WeightSource } from './weights.js';

/** Names and precision of a vision graph; layouts differ only in these. */
export interface VisionGraphOptions {
  precision: Precision;
  /** Name of the [N, embedDim] image embedding output. */
  embedsName: string;
  /** When set, also output the encoder's [N, grid²+1, w] states under this name (before ln_post, as HF does). */
  hiddenName?: string;
  /** Symbolic name of the batch axis. */
  batchDim?: string;
}

/**
 * CLIP's ViT image tower as an ONNX graph: `pixel_values` [N, 3, S, S] in the
 * graph's precision → patch Conv → [class token; patches] + positions →
 * ln_pre → blocks → ln_post(class token) @ proj → [N, embedDim].
 */
export function buildVisionGraph(weights: WeightSource, options: VisionGraphOptions): GraphContext {
  const p = weights.preset;
  const c = new GraphContext('clip_vision', weights, options.precision);
  const g = c.g;
  const w = p.visionWidth;
  const grid = p.imageSize / p.patchSize;
  const batch = options.batchDim ?? 'batch_size';

  const pixels = g.input('pixel_values', c.floatType, [batch, 3, p.imageSize, p.imageSize]);
  // A stride-p, kernel-p Conv without bias cuts and embeds the patches in one op.
  const patches = g.op('Conv', [pixels, c.param('visual.conv1.weight')], {
    kernel_shape: ints([p.patchSize, p.patchSize]),
    strides: ints([p.patchSize, p.patchSize]),
  });
  // [N, w, g, g] → [N, w, g²] → [N, g², w]
  const tokens = g.op('Transpose', [g.op('Reshape', [patches, c.int64([0, w, -1])])], { perm: ints([0, 2, 1]) });
  // The learned class token, broadcast to the batch: Expand to [N, 1, w].
  const batchSize = g.op('Shape', [pixels], { start: int(0), end: int(1) });
  const clsShape = g.op('Concat', [batchSize, c.int64([1, w])], { axis: int(0) });
  const cls = g.op('Expand', [c.param('visual.class_embedding', { dims: [1, 1, w] }), clsShape]);
  const seq = g.op('Concat', [cls, tokens], { axis: int(1) });
  let x = g.op('Add', [seq, c.param('visual.positional_embedding')]);
  x = layerNorm(c, x, 'visual.ln_pre');
  x = transformer(c, x, 'visual.transformer', { width: w, heads: p.visionHeads, layers: p.visionLayers });

  const pooled = layerNorm(c, g.op('Gather', [x, c.int64([0], [])], { axis: int(1) }), 'visual.ln_post');
  const embeds = g.op('MatMul', [pooled, c.param('visual.proj')]);
  g.output(options.embedsName, embeds, c.floatType, [batch, p.embedDim]);
  if (options.hiddenName) g.output(options.hiddenName, x, c.floatType, [batch, grid * grid + 1, w]);
  return c;
}
