/**
 * transformers.js (the Node peer) on the same hf-layout graphs: JPEG images/s
 * end to end (decode → CLIPImageProcessor → vision model) and short captions/s
 * (tokenizer with padding to the longest → text model), both at batch 32,
 * with the same ORT session options clipflow uses so the difference is the
 * pipeline around the graph, not thread settings.
 */
import { dirname, basename } from 'node:path';
import {
  AutoProcessor, AutoTokenizer, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, env, RawImage,
} from '@huggingface/transformers';
import { benchTokenizer, jpegImages, longTexts, shortCaptions } from './inputs.js';
import { clipflowSessionOptions } from './raw-ort.bench.js';
import { peakRssMb, timeLoop, type Budget, type Latency, type Throughput } from './stats.js';
import type { ConfigCheck } from './transformers-js-files.js';

/** One transformers.js point. */
export type PeerPoint = Throughput & { batch: number; latency: Latency };

/** What the transformers.js section reports. */
export interface TransformersJsResults {
  version: string;
  config: ConfigCheck;
  jpegImages: PeerPoint;
  shortCaptions: PeerPoint & { paddedLength: number };
  /** A 100+-token text truncated at 77: is its last id EOT (49407), as OpenAI's tokenizer keeps it? */
  truncation: { inputTokens: number; lastId: number; keepsEot: boolean };
  /** Short captions whose ids differ from clipflow's tokenizer (0 = the tokenizer.json is faithful). */
  tokenizerMismatches: number;
  peakRssMb: number;
}

/** Options of the transformers.js section. */
export interface PeerOptions {
  /** The transformers-js model folder (see transformers-js-files.ts). */
  modelDir: string;
  config: ConfigCheck;
  budget: Budget;
  intraOpThreads: number;
  seed: number;
  imageCount: number;
  jpegSize: [number, number];
}

type Tensorish = { data: ArrayLike<number | bigint>; dims: number[]; dispose?: () => void };

function idsOf(t: Tensorish): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Loads the folder as transformers.js documents it (local files only) and measures it. */
export async function runTransformersJs(o: PeerOptions): Promise<TransformersJsResults> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(o.modelDir);
  const id = basename(o.modelDir);
  const load = { dtype: 'fp32', device: 'cpu', session_options: clipflowSessionOptions(o.intraOpThreads) } as const;
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const processor = await AutoProcessor.from_pretrained(id);
  const textModel = await CLIPTextModelWithProjection.from_pretrained(id, load);
  const visionModel = await CLIPVisionModelWithProjection.from_pretrained(id, load);

  const jpegs = await jpegImages(o.imageCount, o.seed, ...o.jpegSize);
  let next = 0;
  const imageBatch = () => Array.from({ length: 32 }, () => jpegs[next++ % jpegs.length]!);
  const jpegPoint = await timeLoop(o.budget, async () => {
    const images = await Promise.all(imageBatch().map((b) => RawImage.fromBlob(new Blob([b], { type: 'image/jpeg' }))));
    const inputs = await processor(images);
    const out = (await visionModel(inputs)) as Record<string, Tensorish>;
    out.image_embeds?.dispose?.();
    return images.length;
  });

  const captions = await shortCaptions(32, o.seed);
  const textPoint = await timeLoop(o.budget, async () => {
    const inputs = tokenizer(captions.texts, { padding: true, truncation: true });
    const out = (await textModel(inputs)) as Record<string, Tensorish>;
    out.text_embeds?.dispose?.();
    return captions.texts.length;
  });

  // Parity checks: same ids as clipflow on the captions, and what happens past 77 tokens.
  const ours = await benchTokenizer();
  let mismatches = 0;
  for (const text of captions.texts) {
    const theirs = idsOf(tokenizer(text).input_ids as Tensorish);
    const expected = [ours.sot, ...ours.encode(text), ours.eot];
    if (theirs.join(',') !== expected.join(',')) mismatches++;
  }
  const long = longTexts(1, o.seed + 1, 120)[0]!;
  const cut = idsOf(tokenizer(long, { truncation: true, max_length: 77 }).input_ids as Tensorish);
  const lastId = cut[cut.length - 1]!;

  await Promise.allSettled([textModel.dispose(), visionModel.dispose()]);
  return {
    version: env.version,
    config: o.config,
    jpegImages: { ...jpegPoint, batch: 32 },
    shortCaptions: { ...textPoint, batch: 32, paddedLength: captions.paddedLength },
    truncation: { inputTokens: ours.encode(long).length + 2, lastId, keepsEot: lastId === ours.eot },
    tokenizerMismatches: mismatches,
    peakRssMb: peakRssMb(),
  };
}
