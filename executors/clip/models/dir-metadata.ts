/**
 * Reads the optional description files a model directory may carry —
 * clipflow's `manifest.json`, Hugging Face's `config.json` and
 * `preprocessor_config.json` — into the few facts a loader needs. Every value
 * is checked; a wrong type names the file and key instead of surfacing later
 * as a shape error inside the runtime.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelDirError } from './model-errors.js';

/** Facts a directory states about itself (all optional). */
export interface DirFacts {
  name?: string;
  layout?: string;
  embedDim?: number;
  imageSize?: number;
  contextLength?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
  /** From HF config: `clip`, `xlm-roberta`, `bert`, ... (text tower type when split). */
  textModelType?: string;
  files?: { text: string; vision: string };
  outputs?: { text: string; vision: string };
}

type Json = Record<string, unknown>;

async function readJson(dir: string, file: string): Promise<Json | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Json;
  } catch (e) {
    throw new ModelDirError(`${join(dir, file)} is not valid JSON: ${(e as Error).message}`, dir);
  }
  throw new ModelDirError(`${join(dir, file)} must hold a JSON object`, dir);
}

function bad(dir: string, file: string, key: string, expected: string): never {
  throw new ModelDirError(`${join(dir, file)}: ${key} must be ${expected}`, dir);
}

function positiveInt(v: unknown, dir: string, file: string, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(dir, file, key, 'a positive integer');
  return v;
}

function string(v: unknown, dir: string, file: string, key: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') bad(dir, file, key, 'a non-empty string');
  return v;
}

function triple(v: unknown, dir: string, file: string, key: string): [number, number, number] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    bad(dir, file, key, 'an array of three numbers');
  }
  return [v[0], v[1], v[2]] as [number, number, number];
}

function pair(v: unknown, dir: string, file: string, key: string, a: string, b: string): { [k: string]: string } | undefined {
  if (v === undefined || v === null) return undefined;
  const o = v as Json;
  if (typeof o !== 'object' || typeof o[a] !== 'string' || typeof o[b] !== 'string') bad(dir, file, key, `{ "${a}": string, "${b}": string }`);
  return { [a]: o[a] as string, [b]: o[b] as string };
}

/** HF sizes come as a number, `{shortest_edge}` or `{height, width}` (square models only here). */
function hfSize(v: unknown, dir: string, key: string): number | undefined {
  const file = 'preprocessor_config.json';
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return positiveInt(v, dir, file, key);
  if (typeof v === 'object') {
    const o = v as Json;
    if (o.shortest_edge !== undefined) return positiveInt(o.shortest_edge, dir, file, `${key}.shortest_edge`);
    const h = positiveInt(o.height, dir, file, `${key}.height`);
    const w = positiveInt(o.width, dir, file, `${key}.width`);
    if (h !== undefined && h === w) return h;
  }
  return bad(dir, file, key, 'a number, {"shortest_edge": n} or {"height": n, "width": n} with equal sides');
}

/** Facts from `manifest.json` (clipflow's own description, written by tools/ and by users). */
export async function readManifest(dir: string): Promise<DirFacts> {
  const m = await readJson(dir, 'manifest.json');
  if (!m) return {};
  const f = 'manifest.json';
  const files = pair(m.files, dir, f, 'files', 'text', 'vision') as DirFacts['files'];
  const outputs = pair(m.outputs, dir, f, 'outputs', 'text', 'vision') as DirFacts['outputs'];
  const facts: DirFacts = {
    name: string(m.name, dir, f, 'name'),
    layout: string(m.layout, dir, f, 'layout'),
    embedDim: positiveInt(m.embedDim, dir, f, 'embedDim'),
    imageSize: positiveInt(m.imageSize, dir, f, 'imageSize'),
    contextLength: positiveInt(m.contextLength, dir, f, 'contextLength'),
    mean: triple(m.mean, dir, f, 'mean'),
    std: triple(m.std, dir, f, 'std'),
    files,
    outputs,
  };
  return prune(facts);
}

/** Facts from a Hugging Face `config.json` + `preprocessor_config.json`. */
export async function readHfConfig(dir: string): Promise<DirFacts> {
  const c = (await readJson(dir, 'config.json')) ?? {};
  const p = (await readJson(dir, 'preprocessor_config.json')) ?? {};
  const f = 'config.json';
  const vision = (typeof c.vision_config === 'object' && c.vision_config ? c.vision_config : {}) as Json;
  const text = (typeof c.text_config === 'object' && c.text_config ? c.text_config : {}) as Json;
  const modelType = string(c.model_type, dir, f, 'model_type');
  const textModelType = modelType === 'clip' ? 'clip' : string(text.model_type, dir, f, 'text_config.model_type') ?? modelType;
  // CLIP's text positions are its tokenizer's context length; other towers (XLM-R: 514) are not.
  const contextLength = modelType === 'clip' ? positiveInt(text.max_position_embeddings, dir, f, 'text_config.max_position_embeddings') : undefined;
  const facts: DirFacts = {
    embedDim: positiveInt(c.projection_dim, dir, f, 'projection_dim'),
    // The crop is what the network sees; `size` is only the resize before it.
    imageSize:
      hfSize(p.crop_size, dir, 'crop_size') ?? positiveInt(vision.image_size, dir, f, 'vision_config.image_size') ?? hfSize(p.size, dir, 'size'),
    contextLength,
    mean: triple(p.image_mean, dir, 'preprocessor_config.json', 'image_mean'),
    std: triple(p.image_std, dir, 'preprocessor_config.json', 'image_std'),
    textModelType,
  };
  return prune(facts);
}

function prune(facts: DirFacts): DirFacts {
  return Object.fromEntries(Object.entries(facts).filter(([, v]) => v !== undefined)) as DirFacts;
}
