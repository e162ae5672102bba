/**
 * The bench's model: a random-weight CLIP with real shapes from the project's
 * generator, written once into a cache folder in both layouts and reused by
 * later runs (ViT-B/32 is about 1.2 GB for the two layouts together).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveModelDir, type ModelSpec } from '../executors/clip/models/model-dir.js';
import { CLIP_MEAN, CLIP_STD } from '../executors/clip/models/model-table.js';
import { generateClipModel } from '../tools/clip-model/generate.js';
import { getPreset } from '../tools/clip-model/presets.js';

/** Where one generated model lives. */
export interface BenchModels {
  /** Folder holding both layouts (or the model folder given with --model-dir). */
  root: string;
  /** clip-server layout: textual.onnx (fixed 77, int32) + visual.onnx; absent in a --model-dir without one. */
  clipServer?: string;
  /** Hugging Face layout folder, served as the flow's model_path. */
  hf: string;
  /** The hf layout's two graphs, where clipflow's model loader finds them in `hf`. */
  textGraph: string;
  visionGraph: string;
  /** Pixel normalisation the folder states (OpenAI's when it states none), for transformers.js' processor. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
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
    textGraph: join(root, 'hf', 'onnx', 'text_model.onnx'),
    visionGraph: join(root, 'hf', 'onnx', 'vision_model.onnx'),
    mean: CLIP_MEAN,
    std: CLIP_STD,
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
 * shapes: a Hugging Face layout folder, or a folder holding `hf/` and
 * optionally `clip-server/` as the generator writes them. The folder is read
 * by the same resolver `model_path` uses, so the bench accepts what the server
 * serves (graphs in `onnx/` or beside the JSON files; image size from
 * manifest.json, config.json or preprocessor_config.json). Nothing is written
 * into it: the transformers.js view goes under the cache folder.
 */
export async function externalBenchModels(dir: string, seed: number, cacheDir: string): Promise<BenchModels> {
  const root = resolve(dir);
  const hf = isDirectory(join(root, 'hf')) ? join(root, 'hf') : root;
  // resolveModelDir prefers the clip-server layout when a folder has both, as the server does.
  if (existsSync(join(hf, 'textual.onnx')) && existsSync(join(hf, 'visual.onnx'))) throw notHf(dir, hf);
  let spec: ModelSpec;
  try {
    spec = await resolveModelDir(hf);
  } catch (e) {
    throw new Error(`--model-dir ${dir}: ${(e as Error).message}`, { cause: e });
  }
  if (spec.layout !== 'hf') throw notHf(dir, hf);
  const clipServer = join(root, 'clip-server');
  const key = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return {
    root,
    ...(existsSync(join(clipServer, 'textual.onnx')) ? { clipServer } : {}),
    hf,
    textGraph: spec.textualPath,
    visionGraph: spec.visualPath,
    mean: spec.mean,
    std: spec.std,
    preset: 'external',
    seed,
    imageSize: spec.imageSize,
    reused: true,
    generatedMs: 0,
    peerDir: join(cacheDir, `external-${key}`, 'transformers-js'),
  };
}

/** The points the issue asks for need the dynamic sequence axis, and transformers.js loads only the hf layout. */
function notHf(dir: string, hf: string): Error {
  return new Error(
    `--model-dir ${dir}: ${hf} is a clip-server layout (textual.onnx + visual.onnx); the bench measures the Hugging Face ` +
      'layout (onnx/text_model.onnx + onnx/vision_model.onnx), alone or as hf/ beside clip-server/',
  );
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
