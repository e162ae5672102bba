// The tiny random-weight CLIP from tools/, generated once per test process.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateClipModel } from '../../tools/clip-model/generate.js';
import { getPreset } from '../../tools/clip-model/presets.js';

let root: string | undefined;

/** Folder holding `clip-server/` and `hf/` copies of the same tiny model (image size 32, 16-d embeddings). */
export function tinyModelRoot(): string {
  if (root && existsSync(root)) return root;
  root = mkdtempSync(join(tmpdir(), 'clipflow-tiny-'));
  generateClipModel({ preset: getPreset('tiny'), layout: 'both', outDir: root, seed: 7, precision: 'fp32', bundle: false });
  return root;
}

export function tinyModelDir(layout: 'clip-server' | 'hf'): string {
  return join(tinyModelRoot(), layout);
}
