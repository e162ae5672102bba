/**
 * Deterministic bench inputs: photo-like JPEGs and PNGs (smooth shapes plus
 * grain, so they compress and decode like photographs rather than like noise
 * or flat colour), short captions of 5–12 tokens, and texts long enough to be
 * cut at 77 tokens. The same seed gives the same inputs in every process,
 * which lets a client child process regenerate what the parent measured with.
 */
import sharp from 'sharp';
import { ClipTokenizer } from '../executors/clip/tokenizer/clip-tokenizer.js';
import { prng } from './prng.js';

/** RGB pixels of one photo-like picture: a two-colour gradient, soft discs, and grain. */
function pictureRgb(width: number, height: number, rand: () => number): Buffer {
  const px = Buffer.alloc(width * height * 3);
  const colour = () => [rand() * 255, rand() * 255, rand() * 255] as const;
  const [top, bottom] = [colour(), colour()];
  const discs = Array.from({ length: 6 }, () => ({
    x: rand() * width, y: rand() * height, r: (0.08 + rand() * 0.3) * Math.min(width, height), c: colour(),
  }));
  for (let y = 0; y < height; y++) {
    const t = y / Math.max(1, height - 1);
    for (let x = 0; x < width; x++) {
      let r = top[0] * (1 - t) + bottom[0] * t;
      let g = top[1] * (1 - t) + bottom[1] * t;
      let b = top[2] * (1 - t) + bottom[2] * t;
      for (const d of discs) {
        const dist2 = ((x - d.x) ** 2 + (y - d.y) ** 2) / (d.r * d.r);
        if (dist2 >= 1) continue;
        const w = 1 - dist2; // soft edge: blends towards the disc's colour at its centre
        r += (d.c[0] - r) * w;
        g += (d.c[1] - g) * w;
        b += (d.c[2] - b) * w;
      }
      const grain = (rand() - 0.5) * 24;
      const o = (y * width + x) * 3;
      px[o] = r + grain;
      px[o + 1] = g + grain;
      px[o + 2] = b + grain;
    }
  }
  return px;
}

/** `count` distinct JPEGs (default 640x427, quality 85), encoded with sharp. */
export async function jpegImages(count: number, seed: number, width = 640, height = 427): Promise<Uint8Array[]> {
  const rand = prng(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const raw = pictureRgb(width, height, rand);
    out.push(new Uint8Array(await sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer()));
  }
  return out;
}

/** `count` distinct square PNGs (default 224x224, the model's input size: no resize needed). */
export async function pngImages(count: number, seed: number, size = 224): Promise<Uint8Array[]> {
  const rand = prng(seed ^ 0x5eed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const raw = pictureRgb(size, size, rand);
    out.push(new Uint8Array(await sharp(raw, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer()));
  }
  return out;
}

/** Normalised-looking random pixels `[n, 3, size, size]` for the raw ORT ceiling. */
export function randomPixels(n: number, size: number, seed: number): Float32Array {
  const rand = prng(seed);
  const data = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < data.length; i++) data[i] = (rand() - 0.5) * 4;
  return data;
}

const DETERMINERS = ['a', 'the', 'two', 'some', 'my'];
const ADJECTIVES = ['red', 'small', 'happy', 'old', 'black', 'white', 'wet', 'tall', 'green', 'little', 'big', 'blue'];
const NOUNS = ['dog', 'cat', 'car', 'man', 'woman', 'child', 'bird', 'horse', 'boat', 'house', 'tree', 'bike', 'train', 'table'];
const VERBS = ['sitting', 'running', 'standing', 'playing', 'sleeping', 'waiting', 'walking'];
const PLACES = ['on the beach', 'in the park', 'near a river', 'on a street', 'in the snow', 'at night', 'in a kitchen', 'on the grass'];
const FILLER = 'photo of scene with light and shadow across wide open field under cloudy sky while people walk slowly past old stone buildings'.split(' ');

/** Fixed caption used for single-request latency, so raw and served times share one length. */
export const LATENCY_CAPTION = 'a photo of a dog playing on the beach';

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

/** One caption from a tiny grammar; its token count varies with the optional parts. */
function caption(rand: () => number): string {
  const parts = [pick(rand, DETERMINERS)];
  if (rand() < 0.6) parts.push(pick(rand, ADJECTIVES));
  parts.push(pick(rand, NOUNS));
  if (rand() < 0.5) parts.push(pick(rand, VERBS));
  if (rand() < 0.6) parts.push(pick(rand, PLACES));
  if (rand() < 0.3) parts.push('with', pick(rand, DETERMINERS), pick(rand, NOUNS));
  return parts.join(' ');
}

/** Captions in the set: one batch of the raw point. */
const CAPTION_COUNT = 32;

/** Short captions plus their token counts (SOT and EOT included) and the longest count. */
export interface CaptionSet {
  texts: string[];
  lengths: number[];
  /** What a batch of these is padded to on a dynamic-axis graph: the longest length. */
  paddedLength: number;
}

let tokenizer: Promise<ClipTokenizer> | undefined;

/** clipflow's own tokenizer (bundled OpenAI vocabulary), shared within the process. */
export function benchTokenizer(): Promise<ClipTokenizer> {
  tokenizer ??= ClipTokenizer.fromBpeGz();
  return tokenizer;
}

/**
 * The bench's one set of short captions: 32 distinct captions of 5–12 tokens
 * (SOT/EOT included), measured with clipflow's tokenizer. Raw, served and
 * transformers.js all run this very set, so the raw point's padded length is the
 * longest of the texts served.
 */
export async function shortCaptions(seed: number): Promise<CaptionSet> {
  const tok = await benchTokenizer();
  const rand = prng(seed ^ 0xcafe);
  const texts: string[] = [];
  const lengths: number[] = [];
  const seen = new Set<string>();
  while (texts.length < CAPTION_COUNT) {
    const text = caption(rand);
    const length = tok.encode(text).length + 2;
    if (length < 5 || length > 12) continue;
    if (seen.has(text)) continue;
    seen.add(text);
    texts.push(text);
    lengths.push(length);
  }
  return { texts, lengths, paddedLength: Math.max(...lengths) };
}

/** `count` distinct texts of about `words` words: far more than 77 tokens, so they are cut at 77. */
export function longTexts(count: number, seed: number, words = 90): string[] {
  const rand = prng(seed ^ 0x10ad);
  return Array.from({ length: count }, (_, i) => {
    const w = Array.from({ length: words }, () => pick(rand, rand() < 0.5 ? FILLER : [...NOUNS, ...ADJECTIVES]));
    return `text ${i} ${w.join(' ')}`;
  });
}

/** Token count (SOT/EOT included, before truncation) of `text` under clipflow's tokenizer. */
export async function tokenCount(text: string): Promise<number> {
  return (await benchTokenizer()).encode(text).length + 2;
}
