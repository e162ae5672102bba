/**
 * The bench's model: a random-weight CLIP with real shapes from the project's
 * generator, written once into a cache folder in both layouts and reused by
 * later runs (ViT-B/32 is about 1.2 GB for the two layouts together).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateClipModel } from '../tools/clip-model/generate.js';
import { getPreset } from '../tools/clip-model/presets.js';

/** Where one generated model lives. */
export interface BenchModels {
  /** Folder holding both layouts (and the transformers.js view of the hf one). */
  root: string;
  /** clip-server layout: textual.onnx (fixed 77, int32) + visual.onnx. */
  clipServer: string;
  /** Hugging Face layout: onnx/text_model.onnx (dynamic sequence axis, int64) + onnx/vision_model.onnx. */
  hf: string;
  preset: string;
  seed: number;
  imageSize: number;
  /** True when an earlier run's files were reused. */
  reused: boolean;
  /** Time spent generating in this run, in ms (0 when reused). */
  generatedMs: number;
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
