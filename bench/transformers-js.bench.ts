/**
 * transformers.js (the Node peer) on the same hf-layout graphs: JPEG images/s
 * end to end (decode → CLIPImageProcessor → vision model) and short captions/s
 * (tokenizer with padding to the longest → text model), at batch 32 and one at a time,
 * with the same ORT session options clipflow uses so the difference is the
 * pipeline around the graph, not thread settings. It stays loaded in its own
 * section process while the suite alternates its points with raw measurements.
 */
import { dirname, basename } from 'node:path';
import {
  AutoProcessor, AutoTokenizer, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, env, RawImage, Tensor,
} from '@huggingface/transformers';
import { toFloat16Bits } from '../core/util/float16.js';
import { benchTokenizer, jpegImages, longTexts, shortCaptions } from './inputs.js';
import { clipflowSessionOptions } from './raw-ort.bench.js';
import type { PairedSeries } from './raw-paired.js';
import { timeLoop, type Budget, type Latency, type Throughput } from './stats.js';
import type { ConfigCheck } from './transformers-js-files.js';

/**
 * One transformers.js point, with its rounds against the raw ceiling when paired;
 * JPEG points also say how many decodes they had in flight at most.
 */
export type PeerPoint = Throughput & { batch: number; latency: Latency; paired?: PairedSeries; decodesInFlight?: number };

/** What the transformers.js section reports. */
export interface TransformersJsResults {
  version: string;
  config: ConfigCheck;
  jpegImages: PeerPoint;
  /**
   * The same batches of 32 with the JPEGs decoded one after another, as a loop of
   * `await RawImage.fromBlob(...)` does; `jpegImages` decodes them all at once.
   */
  jpegImagesDecodedInTurn: PeerPoint;
  shortCaptions: PeerPoint & { paddedLength: number };
  /** The same inputs one document a call, as a transformers.js service answers one-document requests. */
  single: { jpegImages: PeerPoint; shortCaptions: PeerPoint };
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
  intraOpThreads: number;
  seed: number;
  imageCount: number;
  jpegSize: [number, number];
  /** The text graph's fixed sequence length, when it has one: captions are padded to it, not to their longest. */
  fixedTextLength?: number;
  /**
   * The vision graph takes float16 pixels. The processor gives float32 and
   * transformers.js does not convert them (its own `.to('float16')` on Node 20
   * casts to integers), so they are converted here, inside the timing, as a
   * user of such a model would have to.
   */
  halfPixels?: boolean;
}

/** The points transformers.js is measured on: 32 documents a call (JPEGs decoded at once or in turn), or one. */
export type PeerPointKind = 'jpeg' | 'jpeg-in-turn' | 'short' | 'jpeg-single' | 'short-single';

type Tensorish = { data: ArrayLike<number | bigint>; dims: number[]; dispose?: () => void };

function idsOf(t: Tensorish): number[] {
  return Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

type Loaded = Awaited<ReturnType<typeof load>>;

/** Loads the folder as transformers.js documents it (local files only), plus the inputs. */
async function load(o: PeerOptions) {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(o.modelDir);
  const id = basename(o.modelDir);
  const options = { dtype: 'fp32', device: 'cpu', session_options: clipflowSessionOptions(o.intraOpThreads) } as const;
  return {
    options: o,
    tokenizer: await AutoTokenizer.from_pretrained(id),
    processor: await AutoProcessor.from_pretrained(id),
    textModel: await CLIPTextModelWithProjection.from_pretrained(id, options),
    visionModel: await CLIPVisionModelWithProjection.from_pretrained(id, options),
    jpegs: await jpegImages(o.imageCount, o.seed, ...o.jpegSize),
    captions: await shortCaptions(o.seed),
    next: 0,
  };
}

/**
 * transformers.js kept loaded in its section process, so that its points can
 * run in rounds between raw measurements taken by another process.
 */
export class TransformersJsPeer {
  private constructor(private readonly m: Loaded) {}

  static async open(o: PeerOptions): Promise<TransformersJsPeer> {
    return new TransformersJsPeer(await load(o));
  }

  /**
   * JPEGs end to end (decode -> processor -> vision model) or short captions
   * (tokenizer -> text model), 32 to a call, or one to a call as a service
   * built on transformers.js runs one-document requests (it has no
   * cross-request batching). `jpeg` decodes a batch's JPEGs all at once (sharp
   * spreads them over the libuv pool), `jpeg-in-turn` one after another.
   */
  point(kind: PeerPointKind, budget: Budget): Promise<PeerPoint> {
    const m = this.m;
    const batch = kind.endsWith('-single') ? 1 : 32;
    if (kind.startsWith('jpeg')) {
      const imageBatch = () => Array.from({ length: batch }, () => m.jpegs[m.next++ % m.jpegs.length]!);
      let inFlight = 0;
      let decodesInFlight = 0;
      const decode = async (bytes: Uint8Array) => {
        decodesInFlight = Math.max(decodesInFlight, ++inFlight);
        try {
          return await RawImage.fromBlob(new Blob([bytes], { type: 'image/jpeg' }));
        } finally {
          inFlight--;
        }
      };
      const decodeAll = async (batchBytes: Uint8Array[]) => {
        if (kind !== 'jpeg-in-turn') return Promise.all(batchBytes.map(decode));
        const images: RawImage[] = [];
        for (const b of batchBytes) images.push(await decode(b));
        return images;
      };
      return timeLoop(budget, async () => {
        const images = await decodeAll(imageBatch());
        const inputs = (await m.processor(images)) as { pixel_values: Tensorish };
        if (m.options.halfPixels) {
          const pixels = inputs.pixel_values;
          inputs.pixel_values = new Tensor('float16', toFloat16Bits(pixels.data as Float32Array), pixels.dims);
        }
        const out = (await m.visionModel(inputs)) as Record<string, Tensorish>;
        out.image_embeds?.dispose?.();
        return images.length;
      }).then((p) => ({ ...p, batch, decodesInFlight }));
    }
    const fixed = m.options.fixedTextLength;
    const padding = fixed ? { padding: 'max_length', max_length: fixed, truncation: true } as const : { padding: true, truncation: true } as const;
    const all = m.captions.texts;
    const texts = batch === all.length ? () => all : () => Array.from({ length: batch }, () => all[m.next++ % all.length]!);
    return timeLoop(budget, async () => {
      const some = texts();
      const out = (await m.textModel(m.tokenizer(some, padding))) as Record<string, Tensorish>;
      out.text_embeds?.dispose?.();
      return some.length;
    }).then((p) => ({ ...p, batch }));
  }

  /** Parity checks: the same ids as clipflow on the captions, and what happens past 77 tokens. */
  async checks(): Promise<Pick<TransformersJsResults, 'version' | 'config' | 'truncation' | 'tokenizerMismatches'> & { paddedLength: number }> {
    const { tokenizer, captions, options } = this.m;
    const ours = await benchTokenizer();
    let mismatches = 0;
    for (const text of captions.texts) {
      const theirs = idsOf(tokenizer(text).input_ids as Tensorish);
      const expected = [ours.sot, ...ours.encode(text), ours.eot];
      if (theirs.join(',') !== expected.join(',')) mismatches++;
    }
    const long = longTexts(1, options.seed + 1, 120)[0]!;
    const cut = idsOf(tokenizer(long, { truncation: true, max_length: 77 }).input_ids as Tensorish);
    const lastId = cut[cut.length - 1]!;
    return {
      version: env.version,
      config: options.config,
      truncation: { inputTokens: ours.encode(long).length + 2, lastId, keepsEot: lastId === ours.eot },
      tokenizerMismatches: mismatches,
      paddedLength: options.fixedTextLength ?? captions.paddedLength,
    };
  }

  async release(): Promise<void> {
    await Promise.allSettled([this.m.textModel.dispose(), this.m.visionModel.dispose()]);
  }
}
