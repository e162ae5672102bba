import type { ClipPreset } from './presets.js';
import { Random } from './prng.js';

/** How one parameter is initialised: N(mean, std²), or a constant when std is 0. */
export interface WeightSpec {
  /** OpenAI CLIP state_dict name, e.g. `visual.transformer.resblocks.0.attn.in_proj_weight`. */
  name: string;
  /** PyTorch shape ([out, in] for linear layers, as in the state_dict). */
  shape: number[];
  mean: number;
  std: number;
  /** Stored in the graphs but not part of the state_dict (the factored token table's parts). */
  graphOnly?: boolean;
}

// Biases and layer-norm parameters get visible noise rather than 0/1 so a
// parity check against the reference catches a swapped or mis-wired
// parameter (with ln weight 1 / bias 0 everywhere, ln_1 and ln_2 would be
// interchangeable and go unnoticed).
const BIAS_STD = 0.02;
const LN_STD = 0.1;

function transformerSpecs(prefix: string, width: number, layers: number): WeightSpec[] {
  // CLIP's own init scheme (clip/model.py initialize_parameters): attention
  // and MLP input weights scaled by width, output projections also by depth,
  // which keeps the residual stream's scale steady through the layers.
  const attnStd = width ** -0.5;
  const projStd = width ** -0.5 * (2 * layers) ** -0.5;
  const fcStd = (2 * width) ** -0.5;
  const specs: WeightSpec[] = [];
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}.resblocks.${i}`;
    specs.push(
      { name: `${p}.attn.in_proj_weight`, shape: [3 * width, width], mean: 0, std: attnStd },
      { name: `${p}.attn.in_proj_bias`, shape: [3 * width], mean: 0, std: BIAS_STD },
      { name: `${p}.attn.out_proj.weight`, shape: [width, width], mean: 0, std: projStd },
      { name: `${p}.attn.out_proj.bias`, shape: [width], mean: 0, std: BIAS_STD },
      ...layerNormSpecs(`${p}.ln_1`, width),
      { name: `${p}.mlp.c_fc.weight`, shape: [4 * width, width], mean: 0, std: fcStd },
      { name: `${p}.mlp.c_fc.bias`, shape: [4 * width], mean: 0, std: BIAS_STD },
      { name: `${p}.mlp.c_proj.weight`, shape: [width, 4 * width], mean: 0, std: projStd },
      { name: `${p}.mlp.c_proj.bias`, shape: [width], mean: 0, std: BIAS_STD },
      ...layerNormSpecs(`${p}.ln_2`, width),
    );
  }
  return specs;
}

function layerNormSpecs(prefix: string, width: number): WeightSpec[] {
  return [
    { name: `${prefix}.weight`, shape: [width], mean: 1, std: LN_STD },
    { name: `${prefix}.bias`, shape: [width], mean: 0, std: LN_STD },
  ];
}

/**
 * Every parameter of the CLIP model, named and shaped as in OpenAI's
 * state_dict, so the weights bundle loads into clip/model.py's CLIP as is.
 */
export function clipWeightSpecs(p: ClipPreset): WeightSpec[] {
  const vw = p.visionWidth;
  const tw = p.textWidth;
  const grid = p.imageSize / p.patchSize;
  return [
    { name: 'visual.class_embedding', shape: [vw], mean: 0, std: vw ** -0.5 },
    { name: 'visual.positional_embedding', shape: [grid * grid + 1, vw], mean: 0, std: vw ** -0.5 },
    { name: 'visual.proj', shape: [vw, p.embedDim], mean: 0, std: vw ** -0.5 },
    // Unit-variance patch features for unit-variance (normalised) pixels.
    { name: 'visual.conv1.weight', shape: [vw, 3, p.patchSize, p.patchSize], mean: 0, std: (3 * p.patchSize ** 2) ** -0.5 },
    ...layerNormSpecs('visual.ln_pre', vw),
    ...transformerSpecs('visual.transformer', vw, p.visionLayers),
    ...layerNormSpecs('visual.ln_post', vw),
    { name: 'positional_embedding', shape: [p.contextLength, tw], mean: 0, std: 0.01 },
    { name: 'text_projection', shape: [tw, p.embedDim], mean: 0, std: tw ** -0.5 },
    // CLIP's initial temperature, ln(1/0.07); unused by the graphs, kept for a complete state_dict.
    { name: 'logit_scale', shape: [], mean: Math.log(1 / 0.07), std: 0 },
    { name: 'token_embedding.weight', shape: [p.vocabSize, tw], mean: 0, std: 0.02 },
    ...factoredTokenSpecs(p),
    ...transformerSpecs('transformer', tw, p.textLayers),
    ...layerNormSpecs('ln_final', tw),
  ];
}

function factoredTokenSpecs(p: ClipPreset): WeightSpec[] {
  const f = p.vocabFactor;
  if (!f) return [];
  // Two independent halves of the variance, so rows still have std 0.02.
  const std = 0.02 / Math.SQRT2;
  return [
    { name: 'token_embedding.factor_low', shape: [f, p.textWidth], mean: 0, std, graphOnly: true },
    { name: 'token_embedding.factor_high', shape: [Math.ceil(p.vocabSize / f), p.textWidth], mean: 0, std, graphOnly: true },
  ];
}

/** Number of elements of a shape ([] is a scalar: 1). */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * The model's weights, generated deterministically from a seed: each tensor
 * from its own (seed, name) stream, on demand. With `cache` off (the default;
 * the generator turns it on only for small presets) nothing is kept, so peak
 * memory is one tensor, not the model.
 */
export class WeightSource {
  private readonly specs = new Map<string, WeightSpec>();
  private readonly cached = new Map<string, Float32Array>();

  constructor(readonly preset: ClipPreset, readonly seed: number, private readonly cache = false) {
    for (const s of clipWeightSpecs(preset)) this.specs.set(s.name, s);
  }

  /** The state_dict's parameter specs, in its order (graph-only parts left out). */
  list(): WeightSpec[] {
    return [...this.specs.values()].filter((s) => !s.graphOnly);
  }

  /** The spec of `name`, or an error (a typo in graph code must not pass silently). */
  spec(name: string): WeightSpec {
    const s = this.specs.get(name);
    if (!s) throw new Error(`no CLIP parameter named ${name}`);
    return s;
  }

  /** The values of `name` in PyTorch layout, row-major float32. */
  get(name: string): Float32Array {
    const hit = this.cached.get(name);
    if (hit) return hit;
    const s = this.spec(name);
    const values = name === 'token_embedding.weight' && this.preset.vocabFactor
      ? this.factoredTokenTable(this.preset.vocabFactor)
      : new Random(this.seed, s.name).normalArray(elementCount(s.shape), s.mean, s.std);
    if (this.cache) this.cached.set(name, values);
    return values;
  }

  // Float32Array stores round the double sum to float32, which is exactly
  // what the graph's float32 Add of the two gathered rows gives.
  private factoredTokenTable(f: number): Float32Array {
    const w = this.preset.textWidth;
    const low = this.get('token_embedding.factor_low');
    const high = this.get('token_embedding.factor_high');
    const out = new Float32Array(this.preset.vocabSize * w);
    for (let id = 0; id < this.preset.vocabSize; id++) {
      const lo = (id % f) * w;
      const hi = Math.floor(id / f) * w;
      for (let j = 0; j < w; j++) out[id * w + j] = low[lo + j]! + high[hi + j]!;
    }
    return out;
  }
}
