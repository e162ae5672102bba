import { mkdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Precision } from './graph-context.js';
import { writeClipServerLayout, writeHfLayout, type ClipflowManifest } from './layouts.js';
import type { ClipPreset } from './presets.js';
import { writeWeightsBundle } from './weights-bundle.js';
import { clipWeightSpecs, elementCount, WeightSource } from './weights.js';

/** Models with fewer parameters than this keep their weights in memory between files. */
const CACHE_LIMIT = 10_000_000;

/** Everything the generator needs to write one model directory. */
export interface GenerateOptions {
  preset: ClipPreset;
  /** clip-server, hf, or both (then in `<out>/clip-server` and `<out>/hf`). */
  layout: 'clip-server' | 'hf' | 'both';
  outDir: string;
  seed: number;
  precision: Precision;
  /** HF text graph with a fixed 77-token axis instead of a dynamic one. */
  fixed77?: boolean;
  /** Also write weights.bin + weights.json (default true). */
  bundle?: boolean;
}

/** What was written, for the CLI's report and for tests. */
export interface GenerateResult {
  manifests: Array<{ dir: string; manifest: ClipflowManifest }>;
  files: Array<{ path: string; bytes: number }>;
  totalBytes: number;
  millis: number;
}

/**
 * Writes a random-weight CLIP model in the requested layout(s) and, unless
 * turned off, the weights bundle beside it. Weights are regenerated per
 * tensor whenever a file needs them rather than held for the whole run, so
 * memory stays at about one tensor even for vit-b-32; small presets cache
 * them instead, since regenerating would only cost time.
 */
export function generateClipModel(o: GenerateOptions): GenerateResult {
  const started = performance.now();
  const paramCount = clipWeightSpecs(o.preset).reduce((n, s) => n + elementCount(s.shape), 0);
  const weights = new WeightSource(o.preset, o.seed, paramCount < CACHE_LIMIT);
  mkdirSync(o.outDir, { recursive: true });
  const manifests: GenerateResult['manifests'] = [];
  const written: string[] = [];
  const layouts = o.layout === 'both' ? (['clip-server', 'hf'] as const) : ([o.layout] as const);
  for (const layout of layouts) {
    const dir = o.layout === 'both' ? join(o.outDir, layout) : o.outDir;
    const layoutOptions = { precision: o.precision, fixed77: o.fixed77 ?? false };
    const manifest = layout === 'clip-server'
      ? writeClipServerLayout(weights, dir, layoutOptions)
      : writeHfLayout(weights, dir, layoutOptions);
    manifests.push({ dir, manifest });
    written.push(join(dir, manifest.files.text), join(dir, manifest.files.vision), join(dir, 'manifest.json'));
    if (layout === 'hf') written.push(join(dir, 'config.json'));
  }
  if (o.bundle ?? true) {
    const b = writeWeightsBundle(weights, o.outDir);
    written.push(b.bin, b.json);
  }
  const files = written.map((path) => ({ path: relative(o.outDir, path), bytes: statSync(path).size }));
  return {
    manifests,
    files,
    totalBytes: files.reduce((n, f) => n + f.bytes, 0),
    millis: performance.now() - started,
  };
}
