/**
 * Writes a tiny-shapes training / evaluation set:
 *
 *   node dist/tools/scenes/dataset.js --count N --seed S --size 64 --out FILE [--pairs]
 *
 * Scenes are rendered at random photo sizes (square and not), then preprocessed
 * exactly as clipflow serves images (resize short side to `size`, bicubic, center
 * crop) and stored as uint8 CHW. Files written:
 *   FILE.images.u8  N x 3 x size x size uint8
 *   FILE.truth.i8   N x G int8: per scene and grammar caption 1 true / 0 false / -1 ambiguous
 *   FILE.json       { size, count, seed, pairs, grammar: [{text, ids}], scenes: [{kind, primary, alts}] }
 * With --pairs, scenes 2k and 2k+1 are twins (one fact changed) for hard negatives.
 * `ids` are the real CLIP BPE ids (SOT .. EOT, unpadded) from clipflow's tokenizer.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { preprocessToUint8 } from '../../executors/clip/preprocess/index.js';
import type { DecodedImage } from '../../executors/clip/preprocess/index.js';
import { ClipTokenizer } from '../../executors/clip/tokenizer/clip-tokenizer.js';
import { alternativesOf, captionText, grammar, primaryCaption, truthOf, type SceneKind, type SceneSpec, type Skill } from './grammar.js';
import { renderScene } from './render.js';
import { chance, makeRng, pick, type Rng } from './rng.js';
import { sampleScene, twinOf } from './sample.js';

/** Photo sizes (width, height) scenes are rendered at; bigger ones are rarer. */
const PHOTO_SIZES: ReadonlyArray<readonly [number, number]> = [
  [64, 64], [64, 64], [80, 64], [64, 80], [96, 64], [64, 96], [72, 72], [96, 80], [80, 96], [64, 72],
  [128, 96], [96, 128], [120, 160], [200, 150], [96, 96], [112, 84],
];

function pickKind(rng: Rng): SceneKind {
  const r = rng.next();
  return r < 0.22 ? 'single' : r < 0.67 ? 'count' : 'relation';
}

/** Preprocessed uint8 CHW crop of a scene, as clipflow would feed it. */
export function preprocessedScene(spec: SceneSpec, size: number, rng: Rng): Uint8Array {
  let [w, h] = pick(rng, PHOTO_SIZES);
  if (chance(rng, 0.5)) [w, h] = [h, w];
  const scene = renderScene(spec, { width: w, height: h, seed: Math.floor(rng.next() * 2 ** 32) });
  const image: DecodedImage = { data: scene.rgb, width: w, height: h, channels: 3, mode: 'RGB', format: 'tensor' };
  return preprocessToUint8(image, size);
}

function skillsOf(kind: SceneKind): Skill[] {
  return kind === 'single' ? ['color', 'shape'] : kind === 'count' ? ['count'] : ['spatial'];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '1' },
      size: { type: 'string', default: '64' },
      out: { type: 'string' },
      pairs: { type: 'boolean', default: false },
    },
  });
  const count = Number(values.count), seed = Number(values.seed), size = Number(values.size);
  if (!values.out || !(count > 0) || !(size > 0)) throw new Error('usage: dataset.js --count N --seed S --size 64 --out FILE [--pairs]');
  const out = values.out;
  const tokenizer = await ClipTokenizer.fromBpeGz();
  const captions = grammar();
  const texts = captions.map(captionText);
  const index = new Map(texts.map((t, i) => [t, i]));
  const tok = tokenizer.tokenize(texts, 77);
  const grammarJson = texts.map((text, i) => ({ text, ids: Array.from(tok.ids.subarray(i * 77, i * 77 + tok.lengths[i]!)) }));

  const rng = makeRng(seed);
  const imgFd = openSync(`${out}.images.u8`, 'w');
  const truthFd = openSync(`${out}.truth.i8`, 'w');
  const scenes: Array<{ kind: SceneKind; primary: number; alts: Record<string, number[]> }> = [];
  const truth = new Int8Array(captions.length);
  let prev: SceneSpec | undefined;
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const spec = values.pairs && i % 2 === 1 && prev ? twinOf(rng, prev) : sampleScene(rng, pickKind(rng));
    prev = spec;
    writeSync(imgFd, preprocessedScene(spec, size, rng));
    for (let g = 0; g < captions.length; g++) truth[g] = truthOf(spec, captions[g]!);
    const primary = index.get(captionText(primaryCaption(spec)))!;
    if (truth[primary] !== 1) throw new Error(`scene ${i}: primary caption not true: ${texts[primary]}`);
    writeSync(truthFd, truth);
    const alts: Record<string, number[]> = {};
    for (const skill of skillsOf(spec.kind)) alts[skill] = alternativesOf(spec, skill).map((t) => index.get(t)!);
    scenes.push({ kind: spec.kind, primary, alts });
    if ((i + 1) % 10000 === 0) process.stderr.write(`${i + 1}/${count} scenes, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  closeSync(imgFd);
  closeSync(truthFd);
  writeFileSync(`${out}.json`, JSON.stringify({ size, count, seed, pairs: values.pairs, grammar: grammarJson, scenes }));
  process.stderr.write(`wrote ${count} scenes to ${out}.* in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const invoked = process.argv[1] ?? '';
if (invoked.endsWith('dataset.js') || invoked.endsWith('dataset.ts')) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
