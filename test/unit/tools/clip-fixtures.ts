// Shared helpers of the tools/ tests: generate the tiny model once into a temp
// dir, open sessions quietly, build token rows, run the graphs, compare rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { float16ToFloat32 } from '../../../tools/onnx/float16.js';
import { generateClipModel, type GenerateOptions, type GenerateResult } from '../../../tools/clip-model/generate.js';
import { getPreset } from '../../../tools/clip-model/presets.js';

/** <|startoftext|> and <|endoftext|> of OpenAI's tokenizer. */
export const SOT = 49406;
export const EOT = 49407;

/** A temp directory removed by the returned cleanup function. */
export function tempDir(prefix = 'clipflow-tools-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Generates the tiny preset (both layouts unless told otherwise) into `dir`. */
export function generateTiny(dir: string, overrides: Partial<GenerateOptions> = {}): GenerateResult {
  return generateClipModel({ preset: getPreset('tiny'), layout: 'both', outDir: dir, seed: 7, precision: 'fp32', ...overrides });
}

/** An ORT CPU session that keeps its warnings out of the test output. */
export function openSession(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { logSeverityLevel: 3, executionProviders: ['cpu'] });
}

/** Deterministic LCG for test inputs (independent of the generator's PRNG). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** A token row: SOT, random ordinary tokens, EOT at `eotPos`, zero padding up to `length`. */
export function tokenRow(length: number, eotPos: number, rand: () => number): number[] {
  const row = new Array<number>(length).fill(0);
  row[0] = SOT;
  for (let i = 1; i < eotPos; i++) row[i] = 1 + Math.floor(rand() * 49000);
  row[eotPos] = EOT;
  return row;
}

/** Feeds for a text graph: input_ids and an attention mask of ones up to EOT, in the declared dtype. */
export function textFeeds(rows: number[][], dtype: 'int32' | 'int64'): Record<string, ort.Tensor> {
  const n = rows.length;
  const t = rows[0]!.length;
  const ids = rows.flat();
  const mask = rows.flatMap((r) => { const e = r.indexOf(EOT); return r.map((_, i) => (i <= e ? 1 : 0)); });
  const make = (v: number[]) => dtype === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(v, BigInt), [n, t])
    : new ort.Tensor('int32', Int32Array.from(v), [n, t]);
  return { input_ids: make(ids), attention_mask: make(mask) };
}

/** Pseudo-normalised pixels [n, 3, size, size] in [-2, 2]. */
export function pixels(n: number, size: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: n * 3 * size * size }, () => rand() * 4 - 2);
}

/** An output tensor as float32 rows of its last axis. */
export function rows(t: ort.Tensor): Float32Array[] {
  const data = t.type === 'float16' ? float16ToFloat32(t.data as Uint16Array) : (t.data as Float32Array);
  const width = t.dims[t.dims.length - 1]!;
  return Array.from({ length: data.length / width }, (_, i) => data.subarray(i * width, (i + 1) * width));
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2; }
  return dot / Math.sqrt(na * nb);
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
