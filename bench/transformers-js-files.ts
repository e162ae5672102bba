/**
 * Makes the bench's hf-layout model loadable by transformers.js: a sibling
 * folder whose `onnx/` links to the very same graphs clipflow serves, plus the
 * files transformers.js reads beside them (config.json, preprocessor_config.json,
 * tokenizer.json, tokenizer_config.json). It is a separate folder so that the
 * directory clipflow serves stays exactly what the generator wrote: clipflow
 * would otherwise pick up the tokenizer.json and preprocessor config too.
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadBpeGz } from '../executors/clip/tokenizer/vocab-loader.js';
import type { BenchModels } from './models.js';

const SOT = '<|startoftext|>';
const EOT = '<|endoftext|>';

/** What the config check found; reported in the JSON so a bad config is visible, not silent. */
export interface ConfigCheck {
  ok: boolean;
  missing: string[];
}

/** Checks the generator's config.json has the keys transformers.js' CLIP classes read. */
export function checkHfConfig(config: Record<string, unknown>): ConfigCheck {
  const missing: string[] = [];
  if (config.model_type !== 'clip') missing.push('model_type: "clip"');
  for (const key of ['text_config', 'vision_config', 'projection_dim']) if (config[key] === undefined) missing.push(key);
  const vision = config.vision_config as Record<string, unknown> | undefined;
  if (vision && vision.image_size === undefined) missing.push('vision_config.image_size');
  return { ok: missing.length === 0, missing };
}

/** A CLIPImageProcessor config equivalent to clipflow's preprocessing (bicubic short side, centre crop). */
export function preprocessorConfig(imageSize: number, mean: readonly number[], std: readonly number[]): Record<string, unknown> {
  return {
    image_processor_type: 'CLIPImageProcessor',
    feature_extractor_type: 'CLIPFeatureExtractor',
    do_convert_rgb: true,
    do_resize: true,
    size: { shortest_edge: imageSize },
    resample: 3, // PIL's BICUBIC, as CLIP uses
    do_center_crop: true,
    crop_size: { height: imageSize, width: imageSize },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: mean,
    image_std: std,
  };
}

/**
 * A Hugging Face tokenizer.json for CLIP's byte-level BPE, built from the
 * vocabulary clipflow bundles: NFC + whitespace collapsing + lowercasing,
 * CLIP's word-splitting regex, byte-level mapping without a prefix space,
 * `</w>` word ends, and SOT/EOT around every sequence.
 */
export async function clipTokenizerJson(): Promise<Record<string, unknown>> {
  const vocab = await loadBpeGz();
  const ids: Record<string, number> = {};
  for (const [token, id] of vocab.tokenToId) ids[token] = id;
  const special = (content: string) => ({
    id: vocab.tokenToId.get(content), content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(SOT), special(EOT)],
    normalizer: {
      type: 'Sequence',
      normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          // CLIP's own word pattern; invert = the matches are the pieces kept.
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [EOT, vocab.tokenToId.get(EOT)],
      cls: [SOT, vocab.tokenToId.get(SOT)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOT,
      continuing_subword_prefix: '',
      end_of_word_suffix: vocab.endOfWordSuffix,
      fuse_unk: false,
      byte_fallback: false,
      vocab: ids,
      merges: vocab.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** tokenizer_config.json: the class and the specials transformers.js resolves by name. */
export function tokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: 'CLIPTokenizer',
    model_max_length: 77,
    bos_token: SOT,
    eos_token: EOT,
    unk_token: EOT,
    pad_token: EOT,
    do_lower_case: true,
    clean_up_tokenization_spaces: true,
  };
}

/**
 * Writes (or refreshes) `models.peerDir` for the bench's hf model and returns
 * its path plus the config check. Cheap enough to redo every run, which keeps
 * it in step with this file.
 */
export async function writeTransformersJsModel(models: BenchModels): Promise<{ dir: string; config: ConfigCheck }> {
  const dir = models.peerDir;
  const onnx = join(dir, 'onnx');
  // Earlier versions linked the whole onnx/ folder; the graphs may now sit elsewhere.
  if (isLink(onnx)) rmSync(onnx);
  mkdirSync(onnx, { recursive: true });
  linkGraph(models.textGraph, join(onnx, 'text_model.onnx'));
  linkGraph(models.visionGraph, join(onnx, 'vision_model.onnx'));
  const configPath = join(models.hf, 'config.json');
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`transformers.js loads a model by its config.json, and ${configPath} cannot be read (${(e as Error).message}); pass --skip-transformers to bench without it`, { cause: e });
  }
  const json = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value) + '\n');
  json('config.json', config);
  json('preprocessor_config.json', preprocessorConfig(models.imageSize, models.mean, models.std));
  json('tokenizer_config.json', tokenizerConfig());
  json('tokenizer.json', await clipTokenizerJson());
  return { dir, config: checkHfConfig(config) };
}

/**
 * Links `graph` as `link`, and beside it any external-data file of the graph
 * (`<graph>.data`, `<graph>_data`, ...) under its own name, since the graph
 * refers to that file by name relative to where it is loaded from.
 */
function linkGraph(graph: string, link: string): void {
  const name = basename(graph);
  const data = readdirSync(dirname(graph)).filter((f) => f !== name && f.startsWith(name));
  for (const [target, at] of [[graph, link], ...data.map((f) => [join(dirname(graph), f), join(dirname(link), f)])] as const) {
    rmSync(at, { force: true });
    symlinkSync(target, at, 'file');
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
