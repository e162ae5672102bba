/**
 * The model table: every model clip-server's ONNX runtime offers, under
 * clip-server's names, with the facts clipflow needs to fetch and run it.
 *
 * Facts (names, S3 paths, md5 checksums, embedding dims, image sizes, which
 * models TensorRT covers) were read from jina-ai/clip-as-service:
 * `server/clip_server/model/clip_onnx.py` (ONNX table), `clip_trt.py` (TensorRT
 * list), `pretrained_models.py` (image sizes, M-CLIP names), `mclip_model.py`
 * (which CLIP tower each M-CLIP model pairs with) and the docs' model table
 * (output dimensions). The table itself is written out here as plain data.
 */
import type { ExecutionProvider } from '../../../runtimes/runtime.js';

/** How a model's text side turns strings into ids. */
export type TokenizerKind =
  /** OpenAI CLIP byte-level BPE (bpe_simple_vocab_16e6), SOT 49406 / EOT 49407. */
  | 'clip-bpe'
  /** XLM-RoBERTa SentencePiece (M-CLIP XLM-R models); needs the repo's tokenizer.json. */
  | 'xlm-roberta'
  /** LaBSE (BERT WordPiece) tokenizer (M-CLIP/LABSE-Vit-L-14); needs the repo's tokenizer.json. */
  | 'labse';

/** One file of a downloadable model, relative to a mirror's base URL. */
export interface RemoteFile {
  /** Path under the mirror, e.g. `ViT-B-32/textual.onnx`; a `.zip` is unpacked after download. */
  readonly path: string;
  readonly md5: string;
}

/** Where a model's graph files come from. */
export type ModelSource =
  | { readonly kind: 'download'; readonly textual: RemoteFile; readonly visual: RemoteFile }
  /**
   * Files shipped inside the package (no download). `dir` is relative to the
   * package root (or absolute) and holds a layout `resolveModelDir` understands.
   */
  | { readonly kind: 'bundled'; readonly dir: string };

/** Everything clipflow knows about one named model. */
export interface ModelEntry {
  /** Canonical clip-server name, e.g. `ViT-B-32::openai`. */
  readonly name: string;
  /** Other names that select this entry (clip-server's legacy OpenAI names). */
  readonly aliases: readonly string[];
  /** Architecture of the visual tower, e.g. `ViT-B-32`. */
  readonly architecture: string;
  readonly embedDim: number;
  readonly imageSize: number;
  readonly contextLength: number;
  readonly tokenizer: TokenizerKind;
  /** Hugging Face repo holding the tokenizer files for non-CLIP tokenizers. */
  readonly tokenizerRepo?: string;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
  /** Execution providers clip-server can serve this model with. */
  readonly runtimes: readonly ExecutionProvider[];
  readonly source: ModelSource;
}

/** OpenAI CLIP's normalisation; open_clip and M-CLIP reuse it for every model here. */
export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;
/** Every model in clip-server tokenizes to 77 positions. */
export const CLIP_CONTEXT_LENGTH = 77;

/** clip-server's current S3 prefix for ONNX models (the "V2" bucket path). */
export const DEFAULT_MIRROR =
  'https://clip-as-service.s3.us-east-2.amazonaws.com/models-436c69702d61732d53657276696365/onnx/';

/** Per visual architecture: output dimension and input resolution. */
const ARCH: Record<string, { embedDim: number; imageSize: number }> = {
  RN50: { embedDim: 1024, imageSize: 224 },
  RN101: { embedDim: 512, imageSize: 224 },
  RN50x4: { embedDim: 640, imageSize: 288 },
  RN50x16: { embedDim: 768, imageSize: 384 },
  RN50x64: { embedDim: 1024, imageSize: 448 },
  'ViT-B-32': { embedDim: 512, imageSize: 224 },
  'ViT-B-16': { embedDim: 512, imageSize: 224 },
  'ViT-B-16-plus-240': { embedDim: 640, imageSize: 240 },
  'ViT-L-14': { embedDim: 768, imageSize: 224 },
  'ViT-L-14-336': { embedDim: 768, imageSize: 336 },
  'ViT-H-14': { embedDim: 1024, imageSize: 224 },
  'ViT-g-14': { embedDim: 1024, imageSize: 224 },
};

/** [name, visual architecture, textual path, textual md5, visual path, visual md5] */
type Row = readonly [string, string, string, string, string, string];

/** clip-server's ONNX table (canonical names only; legacy names are aliases below). */
const ONNX_ROWS: readonly Row[] = [
  ['RN50::openai', 'RN50', 'RN50/textual.onnx', '722418bfe47a1f5c79d1f44884bb3103', 'RN50/visual.onnx', '5761475db01c3abb68a5a805662dcd10'],
  ['RN50::yfcc15m', 'RN50', 'RN50-yfcc15m/textual.onnx', '4ff2ea7228b9d2337b5440d1955c2108', 'RN50-yfcc15m/visual.onnx', '87daa9b4a67449b5390a9a73b8c15772'],
  ['RN50::cc12m', 'RN50', 'RN50-cc12m/textual.onnx', '78fa0ae0ea47aca4b8864f709c48dcec', 'RN50-cc12m/visual.onnx', '0e04bf92f3c181deea2944e322ebee77'],
  ['RN101::openai', 'RN101', 'RN101/textual.onnx', '2d9efb7d184c0d68a369024cedfa97af', 'RN101/visual.onnx', '0297ebc773af312faab54f8b5a622d71'],
  ['RN101::yfcc15m', 'RN101', 'RN101-yfcc15m/textual.onnx', '7aa2a4e3d5b960998a397a6712389f08', 'RN101-yfcc15m/visual.onnx', '681a72dd91c9c79464947bf29b623cb4'],
  ['RN50x4::openai', 'RN50x4', 'RN50x4/textual.onnx', 'd9d63d3fe35fb14d4affaa2c4e284005', 'RN50x4/visual.onnx', '16afe1e35b85ad862e8bbdb12265c9cb'],
  ['RN50x16::openai', 'RN50x16', 'RN50x16/textual.onnx', '1525785494ff5307cadc6bfa56db6274', 'RN50x16/visual.onnx', '2a293d9c3582f8abe29c9999e47d1091'],
  ['RN50x64::openai', 'RN50x64', 'RN50x64/textual.onnx', '3ae8ade74578eb7a77506c11bfbfaf2c', 'RN50x64/visual.onnx', '1341f10b50b3aca6d2d5d13982cabcfc'],
  ['ViT-B-32::openai', 'ViT-B-32', 'ViT-B-32/textual.onnx', 'bd6d7871e8bb95f3cc83aff3398d7390', 'ViT-B-32/visual.onnx', '88c6f38e522269d6c04a85df18e6370c'],
  ['ViT-B-32::laion2b_e16', 'ViT-B-32', 'ViT-B-32-laion2b_e16/textual.onnx', 'aa6eac88fe77d21f337e806417957497', 'ViT-B-32-laion2b_e16/visual.onnx', '0cdc00a9dfad560153d40aced9df0c8f'],
  ['ViT-B-32::laion400m_e31', 'ViT-B-32', 'ViT-B-32-laion400m_e31/textual.onnx', '832f417bf1b3f1ced8f9958eda71665c', 'ViT-B-32-laion400m_e31/visual.onnx', '62326b925ae342313d4cc99c2741b313'],
  ['ViT-B-32::laion400m_e32', 'ViT-B-32', 'ViT-B-32-laion400m_e32/textual.onnx', '93284915937ba42a2b52ae8d3e5283a0', 'ViT-B-32-laion400m_e32/visual.onnx', 'db220821a31fe9795fd8c2ba419078c5'],
  ['ViT-B-32::laion2b-s34b-b79k', 'ViT-B-32', 'ViT-B-32-laion2b-s34b-b79k/textual.onnx', '84af5ae53da56464c76e67fe50fddbe9', 'ViT-B-32-laion2b-s34b-b79k/visual.onnx', 'a2d4cbd1cf2632cd09ffce9b40bfd8bd'],
  ['ViT-B-16::openai', 'ViT-B-16', 'ViT-B-16/textual.onnx', '6f0976629a446f95c0c8767658f12ebe', 'ViT-B-16/visual.onnx', 'd5c03bfeef1abbd9bede54a8f6e1eaad'],
  ['ViT-B-16::laion400m_e31', 'ViT-B-16', 'ViT-B-16-laion400m_e31/textual.onnx', '5db27763c06c06c727c90240264bf4f7', 'ViT-B-16-laion400m_e31/visual.onnx', '04a6a780d855a36eee03abca64cd5361'],
  ['ViT-B-16::laion400m_e32', 'ViT-B-16', 'ViT-B-16-laion400m_e32/textual.onnx', '9abe000a51b6f1cbaac8fde601b16725', 'ViT-B-16-laion400m_e32/visual.onnx', 'd38c144ac3ad7fbc1966f88ff8fa522f'],
  ['ViT-B-16-plus-240::laion400m_e31', 'ViT-B-16-plus-240', 'ViT-B-16-plus-240-laion400m_e31/textual.onnx', '2b524e7a530a98010cc7e57756937c5c', 'ViT-B-16-plus-240-laion400m_e31/visual.onnx', 'a78989da3300fd0c398a9877dd26a9f1'],
  ['ViT-B-16-plus-240::laion400m_e32', 'ViT-B-16-plus-240', 'ViT-B-16-plus-240-laion400m_e32/textual.onnx', '53c8d26726b386ca0749207876482907', 'ViT-B-16-plus-240-laion400m_e32/visual.onnx', '7a32c4272c1ee46f734486570d81584b'],
  ['ViT-L-14::openai', 'ViT-L-14', 'ViT-L-14/textual.onnx', '325380b31af4837c2e0d9aba2fad8e1b', 'ViT-L-14/visual.onnx', '53f5b319d3dc5d42572adea884e31056'],
  ['ViT-L-14::laion400m_e31', 'ViT-L-14', 'ViT-L-14-laion400m_e31/textual.onnx', '36216b85e32668ea849730a54e1e09a4', 'ViT-L-14-laion400m_e31/visual.onnx', '15fa5a24916e2a58325c5cf70350c300'],
  ['ViT-L-14::laion400m_e32', 'ViT-L-14', 'ViT-L-14-laion400m_e32/textual.onnx', '8ba5b76ba71992923470c0261b10a67c', 'ViT-L-14-laion400m_e32/visual.onnx', '49db3ba92bd816001e932530ad92d76c'],
  ['ViT-L-14::laion2b-s32b-b82k', 'ViT-L-14', 'ViT-L-14-laion2b-s32b-b82k/textual.onnx', 'da36a6cbed4f56abf576fdea8b6fe2ee', 'ViT-L-14-laion2b-s32b-b82k/visual.onnx', '1e337a190abba6a8650237dfae4740b7'],
  ['ViT-L-14-336::openai', 'ViT-L-14-336', 'ViT-L-14@336px/textual.onnx', '78fab479f136403eed0db46f3e9e7ed2', 'ViT-L-14@336px/visual.onnx', 'f3b1f5d55ca08d43d749e11f7e4ba27e'],
  // The two largest visual towers exceed protobuf's 2 GB limit, so clip-server ships them zipped with external data.
  ['ViT-H-14::laion2b-s32b-b79k', 'ViT-H-14', 'ViT-H-14-laion2b-s32b-b79k/textual.onnx', '41e73c0c871d0e8e5d5e236f917f1ec3', 'ViT-H-14-laion2b-s32b-b79k/visual.zip', '38151ea5985d73de94520efef38db4e7'],
  ['ViT-g-14::laion2b-s12b-b42k', 'ViT-g-14', 'ViT-g-14-laion2b-s12b-b42k/textual.onnx', 'e597b7ab4414ecd92f715d47e79a033f', 'ViT-g-14-laion2b-s12b-b42k/visual.zip', '6d0ac4329de9b02474f4752a5d16ba82'],
  // Multilingual CLIP: a multilingual text tower paired with an OpenAI / open_clip visual tower.
  ['M-CLIP/LABSE-Vit-L-14', 'ViT-L-14', 'M-CLIP-LABSE-Vit-L-14/textual.onnx', '03727820116e63c7d19c72bb5d839488', 'M-CLIP-LABSE-Vit-L-14/visual.onnx', 'a78028eab30084c3913edfb0c8411f15'],
  ['M-CLIP/XLM-Roberta-Large-Vit-B-32', 'ViT-B-32', 'M-CLIP-XLM-Roberta-Large-Vit-B-32/textual.zip', '41f51ec9af4754d11c7b7929e2caf5b9', 'M-CLIP-XLM-Roberta-Large-Vit-B-32/visual.onnx', '5f18f68ac94e294863bfd1f695c8c5ca'],
  ['M-CLIP/XLM-Roberta-Large-Vit-B-16Plus', 'ViT-B-16-plus-240', 'M-CLIP-XLM-Roberta-Large-Vit-B-16Plus/textual.zip', '6c3e55f7d2d6c12f2c1f1dd36fdec607', 'M-CLIP-XLM-Roberta-Large-Vit-B-16Plus/visual.onnx', '467a3ef3e5f50abcf850c3db9e705f8e'],
  ['M-CLIP/XLM-Roberta-Large-Vit-L-14', 'ViT-L-14', 'M-CLIP-XLM-Roberta-Large-Vit-L-14/textual.zip', '3dff00335dc3093acb726dab975ae57d', 'M-CLIP-XLM-Roberta-Large-Vit-L-14/visual.onnx', 'a78028eab30084c3913edfb0c8411f15'],
];

/** clip-server's legacy (OpenAI `clip` package) names and the entries they stand for. */
const LEGACY_ALIASES: Record<string, string> = {
  RN50: 'RN50::openai',
  RN101: 'RN101::openai',
  RN50x4: 'RN50x4::openai',
  RN50x16: 'RN50x16::openai',
  RN50x64: 'RN50x64::openai',
  'ViT-B/32': 'ViT-B-32::openai',
  'ViT-B/16': 'ViT-B-16::openai',
  'ViT-L/14': 'ViT-L-14::openai',
  'ViT-L/14@336px': 'ViT-L-14-336::openai',
};

/** The models clip-server's TensorRT runtime builds engines for (from its ONNX files). */
const TENSORRT_MODELS: ReadonlySet<string> = new Set([
  'RN50::openai', 'RN50::yfcc15m', 'RN50::cc12m', 'RN101::openai', 'RN101::yfcc15m', 'RN50x4::openai',
  'ViT-B-32::openai', 'ViT-B-32::laion2b_e16', 'ViT-B-32::laion400m_e31', 'ViT-B-32::laion400m_e32',
  'ViT-B-16::openai', 'ViT-B-16::laion400m_e31', 'ViT-B-16::laion400m_e32',
]);

function tokenizerOf(name: string): Pick<ModelEntry, 'tokenizer' | 'tokenizerRepo'> {
  if (name.startsWith('M-CLIP/LABSE')) return { tokenizer: 'labse', tokenizerRepo: name };
  if (name.startsWith('M-CLIP/')) return { tokenizer: 'xlm-roberta', tokenizerRepo: name };
  return { tokenizer: 'clip-bpe' };
}

function entryOf([name, architecture, tPath, tMd5, vPath, vMd5]: Row): ModelEntry {
  const arch = ARCH[architecture];
  if (!arch) throw new Error(`model table: unknown architecture ${architecture} for ${name}`);
  const runtimes: ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];
  if (TENSORRT_MODELS.has(name)) runtimes.push('tensorrt');
  return Object.freeze({
    name,
    aliases: Object.freeze(Object.keys(LEGACY_ALIASES).filter((alias) => LEGACY_ALIASES[alias] === name)),
    architecture,
    ...arch,
    contextLength: CLIP_CONTEXT_LENGTH,
    ...tokenizerOf(name),
    mean: CLIP_MEAN,
    std: CLIP_STD,
    runtimes: Object.freeze(runtimes),
    source: Object.freeze({
      kind: 'download' as const,
      textual: Object.freeze({ path: tPath, md5: tMd5 }),
      visual: Object.freeze({ path: vPath, md5: vMd5 }),
    }),
  });
}

/**
 * clipflow's own small CLIP, shipped in the package (models/tiny-shapes): trained on
 * rendered scenes of colored shapes (tools/train), it serves when nothing else can be had
 * offline and gives tests embeddings with meaning.
 */
const TINY_SHAPES: ModelEntry = Object.freeze({
  name: 'tiny-shapes::clipflow',
  aliases: Object.freeze([]),
  architecture: 'tiny-shapes-cnn',
  embedDim: 64,
  imageSize: 64,
  contextLength: CLIP_CONTEXT_LENGTH,
  tokenizer: 'clip-bpe' as const,
  mean: CLIP_MEAN,
  std: CLIP_STD,
  runtimes: Object.freeze(['cpu', 'webgpu', 'cuda'] as ExecutionProvider[]),
  source: Object.freeze({ kind: 'bundled' as const, dir: 'models/tiny-shapes' }),
});

/** The built-in entries: clip-server's, in its order, then clipflow's bundled model. */
export const BUILTIN_MODELS: readonly ModelEntry[] = Object.freeze([...ONNX_ROWS.map(entryOf), TINY_SHAPES]);

/** clip-server's default model. */
export const DEFAULT_MODEL = 'ViT-B-32::openai';
