/**
 * Turns a local model directory (`model_path: DIR`) into a typed ModelSpec with
 * no network: detects the layout (clip-server or Hugging Face /
 * transformers.js), finds the two graphs, and gathers image size, mean/std,
 * context length, embedding dim and tokenizer from the directory's own files,
 * falling back to the model table entry named by `nameHint`.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readHfConfig, readManifest, type DirFacts } from './dir-metadata.js';
import { ModelDirError } from './model-errors.js';
import { findModel, suggestModels } from './model-registry.js';
import { CLIP_CONTEXT_LENGTH, CLIP_MEAN, CLIP_STD, type ModelEntry, type TokenizerKind } from './model-table.js';

/** The two directory layouts clipflow loads. */
export type ModelLayout = 'clip-server' | 'hf';

/** Everything an encoder needs to load and feed a model. */
export interface ModelSpec {
  /** The manifest's name, else the table entry's canonical name, else the hint, else the folder name. */
  name: string;
  layout: ModelLayout;
  dir: string;
  textualPath: string;
  visualPath: string;
  imageSize: number;
  embedDim?: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  contextLength: number;
  tokenizer: { kind: TokenizerKind; path?: string };
  /** Output names when manifest.json states them (otherwise pick by layout convention). */
  outputs?: { text: string; vision: string };
  /** The table entry the directory was matched with, if any. */
  entry?: ModelEntry;
}

/** Options of {@link resolveModelDir}. */
export interface ResolveModelDirOptions {
  /**
   * transformers.js file variant for the HF layout, e.g. `fp16` or `quantized`
   * selects `onnx/text_model_fp16.onnx`; default the plain `text_model.onnx`.
   */
  variant?: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The candidate (text, vision) pairs per layout, in the order they are tried. */
function candidates(dir: string, variant?: string): Array<{ layout: ModelLayout; text: string; vision: string }> {
  const suffix = variant ? `_${variant}` : '';
  return [
    { layout: 'clip-server', text: join(dir, 'textual.onnx'), vision: join(dir, 'visual.onnx') },
    { layout: 'hf', text: join(dir, 'onnx', `text_model${suffix}.onnx`), vision: join(dir, 'onnx', `vision_model${suffix}.onnx`) },
    // Some exports keep the HF file names but drop the onnx/ folder.
    { layout: 'hf', text: join(dir, `text_model${suffix}.onnx`), vision: join(dir, `vision_model${suffix}.onnx`) },
  ];
}

async function onnxFilesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of ['', 'onnx']) {
    const names = await readdir(join(dir, sub)).catch(() => [] as string[]);
    found.push(...names.filter((n) => n.endsWith('.onnx') || n.endsWith('.zip')).map((n) => (sub ? `${sub}/${n}` : n)));
  }
  return found;
}

/** Finds the graphs, or throws one line saying what each layout expects and what is there. */
async function locateGraphs(dir: string, facts: DirFacts, variant?: string): Promise<{ layout: ModelLayout; text: string; vision: string }> {
  if (facts.files) {
    const text = join(dir, facts.files.text);
    const vision = join(dir, facts.files.vision);
    const missing: string[] = [];
    if (!(await isFile(text))) missing.push(facts.files.text);
    if (!(await isFile(vision))) missing.push(facts.files.vision);
    if (missing.length === 0) {
      const layout: ModelLayout = facts.layout === 'hf' || facts.files.text.includes('text_model') ? 'hf' : 'clip-server';
      return { layout, text, vision };
    }
    throw new ModelDirError(`model_path ${dir}: manifest.json names ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} missing`, dir);
  }
  for (const c of candidates(dir, variant)) {
    if ((await isFile(c.text)) && (await isFile(c.vision))) return c;
  }
  const found = await onnxFilesIn(dir);
  const v = variant ? `_${variant}` : '';
  if (found.some((f) => /(^|\/)model(_\w+)?\.onnx$/.test(f))) {
    throw new ModelDirError(
      `model_path ${dir} holds a combined model.onnx; clipflow needs the text and vision towers as separate graphs ` +
        `(onnx/text_model${v}.onnx + onnx/vision_model${v}.onnx, e.g. from optimum or transformers.js exports)`,
      dir,
    );
  }
  throw new ModelDirError(
    `model_path ${dir} holds no complete CLIP model: expected textual.onnx + visual.onnx (clip-server layout) or ` +
      `onnx/text_model${v}.onnx + onnx/vision_model${v}.onnx (Hugging Face layout); found ${found.length ? found.join(', ') : 'no .onnx files'}`,
    dir,
  );
}

function tokenizerKind(facts: DirFacts, entry: ModelEntry | undefined): TokenizerKind {
  if (entry) return entry.tokenizer;
  switch (facts.textModelType) {
    case 'xlm-roberta':
      return 'xlm-roberta';
    case 'bert':
      return 'labse';
    default:
      return 'clip-bpe';
  }
}

/**
 * Resolves `dir` to a {@link ModelSpec}. Facts come first from `manifest.json`,
 * then HF `config.json` / `preprocessor_config.json`, then the table entry
 * named by `nameHint` (or by the manifest's name); mean/std and context length
 * default to OpenAI CLIP's. Throws {@link ModelDirError} (one line) when the
 * graphs are missing or the image size cannot be known.
 */
export async function resolveModelDir(dir: string, nameHint?: string, options: ResolveModelDirOptions = {}): Promise<ModelSpec> {
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new ModelDirError(`model_path ${dir} is not a directory`, dir);
  const manifest = await readManifest(dir);
  const hf = await readHfConfig(dir);
  // The manifest describes these exact files, so it wins over the generic HF config.
  const facts: DirFacts = { ...hf, ...manifest };
  const { layout, text, vision } = await locateGraphs(dir, facts, options.variant);
  const entry = (nameHint ? findModel(nameHint) : undefined) ?? (facts.name ? findModel(facts.name) : undefined);
  const imageSize = facts.imageSize ?? entry?.imageSize;
  if (imageSize === undefined) {
    const hint = nameHint && !entry ? `; "${nameHint}" is not a known model${suggest(nameHint)}` : '';
    throw new ModelDirError(
      `model_path ${dir}: cannot tell the image size; add manifest.json {"imageSize": N}, a preprocessor_config.json, ` +
        `or name a known model (name: ViT-B-32::openai)${hint}`,
      dir,
    );
  }
  const tokenizerJson = join(dir, 'tokenizer.json');
  const embedDim = facts.embedDim ?? entry?.embedDim;
  return {
    name: facts.name ?? entry?.name ?? nameHint ?? basename(dir),
    layout,
    dir,
    textualPath: text,
    visualPath: vision,
    imageSize,
    ...(embedDim !== undefined ? { embedDim } : {}),
    mean: facts.mean ?? entry?.mean ?? CLIP_MEAN,
    std: facts.std ?? entry?.std ?? CLIP_STD,
    contextLength: facts.contextLength ?? entry?.contextLength ?? CLIP_CONTEXT_LENGTH,
    tokenizer: { kind: tokenizerKind(facts, entry), ...((await isFile(tokenizerJson)) ? { path: tokenizerJson } : {}) },
    ...(facts.outputs ? { outputs: facts.outputs } : {}),
    ...(entry ? { entry } : {}),
  };
}

function suggest(name: string): string {
  const s = suggestModels(name);
  return s.length ? ` (did you mean ${s.join(' or ')}?)` : '';
}
