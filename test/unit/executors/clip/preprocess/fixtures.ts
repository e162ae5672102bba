// Shared by the preprocess tests: the PIL reference fixtures written by
// tools/reference/pil_preprocess_reference.py, and small helpers to compare against them.
import { readFileSync } from 'node:fs';
import { crc32, gunzipSync } from 'node:zlib';
import { packagePath } from '../../../../../core/config/paths.js';

/** One reference crop: an image, a model size S, and what PIL made of it. */
export interface ReferenceCase {
  image: string;
  note: string;
  pilMode: string;
  width: number;
  height: number;
  size: number;
  resized: [number, number];
  crop: { top: number; left: number };
  reference: string;
}

export interface Manifest {
  pillow: string;
  float32: { image: string; size: number; file: string };
  cases: ReferenceCase[];
}

export const IMAGES = packagePath('test', 'fixtures', 'images');
export const REFERENCES = packagePath('test', 'fixtures', 'preprocess');

/** One PNG chunk (length, type, data, CRC), for PNGs written by hand. */
export function pngChunk(kind: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([head, body, crc]);
}

export function manifest(): Manifest {
  return JSON.parse(readFileSync(`${REFERENCES}/manifest.json`, 'utf8')) as Manifest;
}

export function imageBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${IMAGES}/${name}`));
}

/**
 * A reference crop as uint8 CHW (3 x S x S). Stored with each row as differences
 * from its left neighbour (mod 256) and gzipped, which keeps the smooth upscaled
 * crops small; undone here with a running sum.
 */
export function referenceCrop(c: ReferenceCase): Uint8Array {
  const delta = gunzipSync(readFileSync(`${REFERENCES}/${c.reference}`));
  const s = c.size;
  const out = new Uint8Array(delta.length);
  for (let row = 0; row < 3 * s; row++) {
    let acc = 0;
    for (let x = 0; x < s; x++) {
      acc = (acc + delta[row * s + x]!) & 255;
      out[row * s + x] = acc;
    }
  }
  return out;
}

/** Largest absolute difference and the share of samples that differ at all. */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>): { max: number; differing: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let max = 0;
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (d > 0) n++;
    if (d > max) max = d;
  }
  return { max, differing: n / want.length };
}
