import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeModel, type ModelOptions } from '../onnx/model-writer.js';
import { DataType } from '../../runtimes/onnx/graph/schema.js';
import type { GraphContext, Precision } from './graph-context.js';
import { buildTextGraph } from './text-graph.js';
import { buildVisionGraph } from './vision-graph.js';
import type { WeightSource } from './weights.js';

/** The two model directory layouts clipflow loads. */
export type LayoutName = 'clip-server' | 'hf';

/** clipflow's manifest.json: what a loader needs to know without opening the graphs. */
export interface ClipflowManifest {
  name: string;
  embedDim: number;
  imageSize: number;
  contextLength: number;
  layout: LayoutName;
  textInputDtype: 'int32' | 'int64';
  /** True when the text graph's sequence axis is symbolic (feed any length ≤ 77). */
  dynamicSeq: boolean;
  /** Element type of `pixel_values` and of the outputs. */
  pixelDtype: 'float32' | 'float16';
  /** Graph files, relative to the manifest. */
  files: { text: string; vision: string };
  /** Output names holding the embeddings. */
  outputs: { text: string; vision: string };
  preset: string;
  seed: number;
}

/** Options shared by the layout writers. */
export interface LayoutOptions {
  precision: Precision;
  /** HF layout only: a fixed 77-token sequence axis instead of a dynamic one. */
  fixed77?: boolean;
}

function modelOptions(weights: WeightSource, layout: LayoutName, part: string): ModelOptions {
  return {
    opset: 17,
    irVersion: 8,
    docString: `clipflow random-weight CLIP (${weights.preset.key}) ${part} tower, ${layout} layout`,
    // Deterministic on purpose: no timestamps, so the same seed gives the same bytes.
    metadata: { preset: weights.preset.key, seed: String(weights.seed), layout },
  };
}

function save(dir: string, file: string, c: GraphContext, opts: ModelOptions): void {
  const path = join(dir, file);
  mkdirSync(dirname(path), { recursive: true });
  writeModel(path, c.g, opts);
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

function manifest(weights: WeightSource, layout: LayoutName, o: LayoutOptions, m: Pick<ClipflowManifest, 'textInputDtype' | 'dynamicSeq' | 'files' | 'outputs'>): ClipflowManifest {
  const p = weights.preset;
  return {
    name: p.modelName,
    embedDim: p.embedDim,
    imageSize: p.imageSize,
    contextLength: p.contextLength,
    layout,
    ...m,
    pixelDtype: o.precision === 'fp16' ? 'float16' : 'float32',
    preset: p.key,
    seed: weights.seed,
  };
}

/**
 * clip-server layout: `textual.onnx` (input_ids, attention_mask int32 [N, 77]
 * → `output`) and `visual.onnx` (pixel_values [N, 3, S, S] → `output`).
 */
export function writeClipServerLayout(weights: WeightSource, dir: string, o: LayoutOptions): ClipflowManifest {
  mkdirSync(dir, { recursive: true });
  const p = weights.preset;
  const text = buildTextGraph(weights, { precision: o.precision, idsType: DataType.INT32, seqDim: p.contextLength, embedsName: 'output' });
  save(dir, 'textual.onnx', text, modelOptions(weights, 'clip-server', 'text'));
  const vision = buildVisionGraph(weights, { precision: o.precision, embedsName: 'output' });
  save(dir, 'visual.onnx', vision, modelOptions(weights, 'clip-server', 'vision'));
  const m = manifest(weights, 'clip-server', o, {
    textInputDtype: 'int32',
    dynamicSeq: false,
    files: { text: 'textual.onnx', vision: 'visual.onnx' },
    outputs: { text: 'output', vision: 'output' },
  });
  writeJson(join(dir, 'manifest.json'), m);
  return m;
}

/**
 * Hugging Face / transformers.js layout: `onnx/text_model.onnx` (int64 ids,
 * dynamic `sequence_length` unless fixed77 → `text_embeds`, `last_hidden_state`),
 * `onnx/vision_model.onnx` (→ `image_embeds`, `last_hidden_state`), config.json.
 */
export function writeHfLayout(weights: WeightSource, dir: string, o: LayoutOptions): ClipflowManifest {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const p = weights.preset;
  const seqDim = o.fixed77 ? p.contextLength : 'sequence_length';
  const text = buildTextGraph(weights, {
    precision: o.precision, idsType: DataType.INT64, seqDim, embedsName: 'text_embeds', hiddenName: 'last_hidden_state',
  });
  save(dir, 'onnx/text_model.onnx', text, modelOptions(weights, 'hf', 'text'));
  const vision = buildVisionGraph(weights, { precision: o.precision, embedsName: 'image_embeds', hiddenName: 'last_hidden_state' });
  save(dir, 'onnx/vision_model.onnx', vision, modelOptions(weights, 'hf', 'vision'));
  writeJson(join(dir, 'config.json'), hfConfig(weights, o.precision));
  const m = manifest(weights, 'hf', o, {
    textInputDtype: 'int64',
    dynamicSeq: !o.fixed77,
    files: { text: 'onnx/text_model.onnx', vision: 'onnx/vision_model.onnx' },
    outputs: { text: 'text_embeds', vision: 'image_embeds' },
  });
  writeJson(join(dir, 'manifest.json'), m);
  return m;
}

/** A transformers-style CLIPModel config.json describing the same shapes. */
export function hfConfig(weights: WeightSource, precision: Precision): Record<string, unknown> {
  const p = weights.preset;
  const common = { hidden_act: 'quick_gelu', layer_norm_eps: 1e-5, projection_dim: p.embedDim };
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: p.embedDim,
    logit_scale_init_value: Math.log(1 / 0.07),
    torch_dtype: precision === 'fp16' ? 'float16' : 'float32',
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: p.textWidth,
      intermediate_size: 4 * p.textWidth,
      num_hidden_layers: p.textLayers,
      num_attention_heads: p.textHeads,
      max_position_embeddings: p.contextLength,
      vocab_size: p.vocabSize,
      bos_token_id: 49406,
      eos_token_id: 49407,
      ...common,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: p.visionWidth,
      intermediate_size: 4 * p.visionWidth,
      image_size: p.imageSize,
      patch_size: p.patchSize,
      num_channels: 3,
      num_hidden_layers: p.visionLayers,
      num_attention_heads: p.visionHeads,
      ...common,
    },
  };
}
