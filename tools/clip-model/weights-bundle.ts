import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { elementCount, type WeightSource } from './weights.js';

/** One entry of weights.json: where a tensor's float32 values start in weights.bin, and its shape. */
export interface BundleEntry {
  offset: number;
  shape: number[];
}

/** weights.json: the index of weights.bin plus the model shapes a reference needs. */
export interface BundleIndex {
  format: 'clipflow-weights/1';
  dtype: 'float32';
  byteOrder: 'little';
  seed: number;
  preset: Record<string, number | string>;
  tensors: Record<string, BundleEntry>;
}

/**
 * Writes the model's weights as `weights.bin` (every tensor's float32 values,
 * little-endian, PyTorch layout and OpenAI state_dict names, back to back)
 * and `weights.json` (name → {offset, shape}). This is what the numpy / torch
 * reference loads, independent of any ONNX reader. Always float32: an fp16
 * model's initializers are these values rounded.
 */
export function writeWeightsBundle(weights: WeightSource, dir: string): { bin: string; json: string; bytes: number } {
  const tensors: Record<string, BundleEntry> = {};
  const bin = join(dir, 'weights.bin');
  const fd = openSync(bin, 'w');
  let offset = 0;
  try {
    for (const spec of weights.list()) {
      const values = weights.get(spec.name);
      const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
      tensors[spec.name] = { offset, shape: spec.shape };
      offset += bytes.length;
      if (elementCount(spec.shape) * 4 !== bytes.length) throw new Error(`weights bundle: ${spec.name} has the wrong size`);
    }
  } finally {
    closeSync(fd);
  }
  const index: BundleIndex = {
    format: 'clipflow-weights/1',
    dtype: 'float32',
    byteOrder: 'little',
    seed: weights.seed,
    preset: { ...weights.preset },
    tensors,
  };
  const json = join(dir, 'weights.json');
  writeFileSync(json, JSON.stringify(index, null, 1) + '\n');
  return { bin, json, bytes: offset };
}
