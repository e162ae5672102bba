import { float, int, ints } from '../onnx/graph-builder.js';
import type { GraphContext } from './graph-context.js';

/** Width and head count of one transformer stack. */
export interface StackShape {
  width: number;
  heads: number;
  layers: number;
}

/** LayerNorm over the last axis with CLIP's eps (PyTorch's default 1e-5). */
export function layerNorm(c: GraphContext, x: string, prefix: string): string {
  return c.g.op('LayerNormalization', [x, c.param(`${prefix}.weight`), c.param(`${prefix}.bias`)], {
    axis: int(-1),
    epsilon: float(1e-5),
  });
}

/** PyTorch Linear (`x @ W.T + b`), with W stored pre-transposed for MatMul. */
export function linear(c: GraphContext, x: string, weight: string, bias: string): string {
  return c.g.op('Add', [c.g.op('MatMul', [x, c.param(weight, { transpose: true })]), c.param(bias)]);
}

/**
 * nn.MultiheadAttention (self-attention, batch-first [N, T, w]) from primitive
 * ops. `mask` is an additive [T, T] float mask (0 or -inf) or undefined.
 */
export function attention(c: GraphContext, x: string, prefix: string, s: StackShape, mask?: string): string {
  const g = c.g;
  const headDim = s.width / s.heads;
  // One fused projection for q, k and v (in_proj_weight is their concatenation).
  const qkv = linear(c, x, `${prefix}.in_proj_weight`, `${prefix}.in_proj_bias`);
  // [N, T, 3w] → [N, T, 3, H, hd] → [3, N, H, T, hd]; Reshape's 0 copies N and T.
  const split = g.op('Transpose', [g.op('Reshape', [qkv, c.int64([0, 0, 3, s.heads, headDim])])], {
    perm: ints([2, 0, 3, 1, 4]),
  });
  const pick = (i: number): string => g.op('Gather', [split, c.int64([i], [])], { axis: int(0) });
  // PyTorch scales q before the product; same here, so rounding matches too.
  const q = g.op('Mul', [pick(0), c.scalar(1 / Math.sqrt(headDim))]);
  const kT = g.op('Transpose', [pick(1)], { perm: ints([0, 1, 3, 2]) });
  let scores = g.op('MatMul', [q, kT]); // [N, H, T, T]
  if (mask) scores = g.op('Add', [scores, mask]);
  const probs = g.op('Softmax', [scores], { axis: int(-1) });
  const heads = g.op('MatMul', [probs, pick(2)]); // [N, H, T, hd]
  const merged = g.op('Reshape', [g.op('Transpose', [heads], { perm: ints([0, 2, 1, 3]) }), c.int64([0, 0, s.width])]);
  return linear(c, merged, `${prefix}.out_proj.weight`, `${prefix}.out_proj.bias`);
}

/** CLIP's MLP: Linear(w → 4w), QuickGELU x·σ(1.702x), Linear(4w → w). */
export function mlp(c: GraphContext, x: string, prefix: string): string {
  const g = c.g;
  const h = linear(c, x, `${prefix}.c_fc.weight`, `${prefix}.c_fc.bias`);
  const gelu = g.op('Mul', [h, g.op('Sigmoid', [g.op('Mul', [h, c.scalar(1.702)])])]);
  return linear(c, gelu, `${prefix}.c_proj.weight`, `${prefix}.c_proj.bias`);
}

/** One pre-LN residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
export function residualBlock(c: GraphContext, x: string, prefix: string, s: StackShape, mask?: string): string {
  const h = c.g.op('Add', [x, attention(c, layerNorm(c, x, `${prefix}.ln_1`), `${prefix}.attn`, s, mask)]);
  return c.g.op('Add', [h, mlp(c, layerNorm(c, h, `${prefix}.ln_2`), `${prefix}.mlp`)]);
}

/** `layers` residual blocks named `<prefix>.resblocks.<i>`. */
export function transformer(c: GraphContext, x: string, prefix: string, s: StackShape, mask?: string): string {
  for (let i = 0; i < s.layers; i++) x = residualBlock(c, x, `${prefix}.resblocks.${i}`, s, mask);
  return x;
}
