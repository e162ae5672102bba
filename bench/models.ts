/**
 * The bench's model: a random-weight CLIP with real shapes from the project's
 * generator, written once into a cache folder in both layouts and reused by
 * later runs (ViT-B/32 is about 1.2 GB for the two layouts together).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateClipModel } from '../tools/clip-model/generate.js';
import { getPreset } from '../tools/clip-model/presets.js';

/** Where one generated model lives. */
export interface BenchModels {
  /** Folder holding both layouts (or the model folder given with --model-dir). */
  root: string;
  /** clip-server layout: textual.onnx (fixed 77, int32) + visual.onnx; absent in a --model-dir without one. */
  clipServer?: string;
  /** Hugging Face layout: onnx/text_model.onnx (dynamic sequence axis, int64) + onnx/vision_model.onnx. */
  hf: string;
  preset: string;
  seed: number;
  imageSize: number;
  /** True when an earlier run's files were reused. */
  reused: boolean;
  /** Time spent generating in this run, in ms (0 when reused). */
  generatedMs: number;
  /** Where the transformers.js view of the hf layout is written (never inside a user's model folder). */
  peerDir: string;
}

/** The marker written last: a folder without it is a half-written model and is regenerated. */
const MARKER = 'bench-model.json';

/**
 * The generated model for `presetKey`/`seed` under `cacheDir`, generating it
 * first when absent. Generation writes to a temporary sibling and renames it
 * into place, so an interrupted run or a concurrent one never leaves a folder
 * that looks complete but isn't.
 */
export function ensureBenchModels(presetKey: string, seed: number, cacheDir: string): BenchModels {
  const preset = getPreset(presetKey);
  const root = join(cacheDir, `${preset.key}-s${seed}`);
  const result = (reused: boolean, generatedMs: number): BenchModels => ({
    root,
    clipServer: join(root, 'clip-server'),
    hf: join(root, 'hf'),
    preset: preset.key,
    seed,
    imageSize: preset.imageSize,
    reused,
    generatedMs,
    peerDir: join(root, 'transformers-js'),
  });
  if (isComplete(root, preset.key, seed)) return result(true, 0);

  mkdirSync(cacheDir, { recursive: true });
  const staging = `${root}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const generated = generateClipModel({ preset, layout: 'both', outDir: staging, seed, precision: 'fp32', bundle: false });
  writeFileSync(join(staging, MARKER), JSON.stringify({ preset: preset.key, seed, totalBytes: generated.totalBytes }, null, 2) + '\n');
  // A stale incomplete folder would block the rename.
  if (existsSync(root) && !isComplete(root, preset.key, seed)) rmSync(root, { recursive: true, force: true });
  try {
    renameSync(staging, root);
  } catch (e) {
    // Another run finished first: its copy is as good as ours.
    rmSync(staging, { recursive: true, force: true });
    if (!isComplete(root, preset.key, seed)) throw e;
  }
  return result(false, generated.millis);
}

function isComplete(root: string, preset: string, seed: number): boolean {
  try {
    const marker = JSON.parse(readFileSync(join(root, MARKER), 'utf8')) as { preset?: string; seed?: number };
    return marker.preset === preset && marker.seed === seed
      && existsSync(join(root, 'hf', 'onnx', 'vision_model.onnx')) && existsSync(join(root, 'clip-server', 'textual.onnx'));
  } catch {
    return false;
  }
}

/**
 * A model the user brings (`--model-dir`), e.g. a held-out export with ViT-B/32's
 * shapes: either a Hugging Face layout folder (`onnx/text_model.onnx`,
 * `onnx/vision_model.onnx`, `config.json`) or a folder holding `hf/` and
 * optionally `clip-server/`, as the generator writes them. Nothing is written
 * into it: the transformers.js view goes under the cache folder.
 */
export function externalBenchModels(dir: string, seed: number, cacheDir: string): BenchModels {
  const root = resolve(dir);
  const hf = [root, join(root, 'hf')].find((d) => existsSync(join(d, 'onnx', 'vision_model.onnx')) && existsSync(join(d, 'onnx', 'text_model.onnx')));
  if (!hf) throw new Error(`--model-dir ${dir}: no onnx/vision_model.onnx and onnx/text_model.onnx there or under hf/ (the Hugging Face layout)`);
  let config: { vision_config?: { image_size?: unknown } };
  try {
    config = JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8')) as typeof config;
  } catch (e) {
    throw new Error(`--model-dir ${dir}: cannot read ${join(hf, 'config.json')}: ${(e as Error).message}`, { cause: e });
  }
  const imageSize = config.vision_config?.image_size;
  if (typeof imageSize !== 'number' || !Number.isInteger(imageSize) || imageSize < 1) {
    throw new Error(`--model-dir ${dir}: config.json has no vision_config.image_size`);
  }
  const clipServer = join(root, 'clip-server');
  const key = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return {
    root,
    ...(existsSync(join(clipServer, 'textual.onnx')) ? { clipServer } : {}),
    hf,
    preset: 'external',
    seed,
    imageSize,
    reused: true,
    generatedMs: 0,
    peerDir: join(cacheDir, `external-${key}`, 'transformers-js'),
  };
}
