/** OpenAI CLIP's text context length; every CLIP tokenizer pads/truncates to it. */
export const CONTEXT_LENGTH = 77;
/** OpenAI CLIP's BPE vocabulary size (49406 = <|startoftext|>, 49407 = <|endoftext|>). */
export const VOCAB_SIZE = 49408;

/** Shapes of one CLIP model (ViT image tower + text transformer). */
export interface ClipPreset {
  /** Preset key on the command line. */
  key: string;
  /** Model name written to manifest.json; tells clipflow the family (tokenizer, image size). */
  modelName: string;
  imageSize: number;
  patchSize: number;
  visionWidth: number;
  visionLayers: number;
  visionHeads: number;
  textWidth: number;
  textLayers: number;
  textHeads: number;
  embedDim: number;
  contextLength: number;
  vocabSize: number;
  /**
   * When set, the token table is stored in the graph as two small tables,
   * row(id) = low[id % f] + high[floor(id / f)], instead of [vocab, w]: a full
   * 49408-row table alone would make the tiny model 6 MB. The weights bundle
   * still holds the materialised [vocab, w] table, so references don't care.
   */
  vocabFactor?: number;
}

/**
 * The tiny preset: for tests (generates in milliseconds, well under 1 MB).
 */
const TINY: ClipPreset = {
  key: 'tiny',
  modelName: 'clipflow-tiny',
  imageSize: 32,
  patchSize: 8,
  visionWidth: 32,
  visionLayers: 2,
  visionHeads: 2,
  textWidth: 32,
  textLayers: 2,
  textHeads: 2,
  embedDim: 16,
  contextLength: CONTEXT_LENGTH,
  vocabSize: VOCAB_SIZE,
  vocabFactor: 256,
};

/**
 * The generator's presets. `vit-b-32` has exactly ViT-B/32's shapes, so runtime
 * memory and speed measured on it are what the real model costs.
 */
export const PRESETS: Record<string, ClipPreset> = {
  tiny: TINY,
  /**
   * The tiny towers at ViT-B/32's 224-pixel input: the model costs almost nothing,
   * so the bench's served numbers show what the serving pipeline itself can do,
   * i.e. what it leaves to a fast accelerator.
   */
  'tiny-224': { ...TINY, key: 'tiny-224', imageSize: 224, patchSize: 32 },
  'vit-b-32': {
    key: 'vit-b-32',
    modelName: 'ViT-B-32',
    imageSize: 224,
    patchSize: 32,
    visionWidth: 768,
    visionLayers: 12,
    visionHeads: 12,
    textWidth: 512,
    textLayers: 12,
    textHeads: 8,
    embedDim: 512,
    contextLength: CONTEXT_LENGTH,
    vocabSize: VOCAB_SIZE,
  },
};

/** The preset called `key`, or an error listing the known ones. */
export function getPreset(key: string): ClipPreset {
  const preset = PRESETS[key];
  if (!preset) throw new Error(`unknown preset "${key}"; known: ${Object.keys(PRESETS).join(', ')}`);
  if (preset.imageSize % preset.patchSize !== 0) throw new Error(`preset ${key}: image size must be a multiple of the patch size`);
  if (preset.visionWidth % preset.visionHeads !== 0 || preset.textWidth % preset.textHeads !== 0) {
    throw new Error(`preset ${key}: widths must divide evenly into heads`);
  }
  return preset;
}
