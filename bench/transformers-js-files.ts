/**
 * Makes the generated hf-layout model loadable by transformers.js: a sibling
 * folder whose `onnx/` links to the very same graphs clipflow serves, plus the
 * files transformers.js reads beside them (config.json, preprocessor_config.json,
 * tokenizer.json, tokenizer_config.json). It is a separate folder so that the
 * directory clipflow serves stays exactly what the generator wrote: clipflow
 * would otherwise pick up the tokenizer.json and preprocessor config too.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBpeGz } from '../executors/clip/tokenizer/vocab-loader.js';

/** CLIP's pixel normalisation (OpenAI's training statistics). */
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
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
export function preprocessorConfig(imageSize: number): Record<string, unknown> {
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
    image_mean: CLIP_MEAN,
    image_std: CLIP_STD,
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
 * Writes (or refreshes) `<root>/transformers-js/` for the hf model in `hfDir`
 * and returns its path plus the config check. Cheap enough to redo every run,
 * which keeps it in step with this file.
 */
export async function writeTransformersJsModel(dir: string, hfDir: string, imageSize: number): Promise<{ dir: string; config: ConfigCheck }> {
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'onnx');
  if (!existsSync(link)) {
    // A dangling link (moved cache) fails existsSync but still occupies the name.
    if (isLink(link)) rmSync(link);
    symlinkSync(join(hfDir, 'onnx'), link, 'dir');
  }
  const config = JSON.parse(readFileSync(join(hfDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const json = (name: string, value: unknown) => writeFileSync(join(dir, name), JSON.stringify(value) + '\n');
  json('config.json', config);
  json('preprocessor_config.json', preprocessorConfig(imageSize));
  json('tokenizer_config.json', tokenizerConfig());
  json('tokenizer.json', await clipTokenizerJson());
  return { dir, config: checkHfConfig(config) };
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
