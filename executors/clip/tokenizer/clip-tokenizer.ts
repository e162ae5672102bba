import { BadRequestError } from '../../../core/errors.js';
import { BytePairEncoder, type BpeCacheStats, type BpeOptions, type BpeVocabulary } from './bpe.js';
import { cleanText, preTokenize } from './text-cleaning.js';
import { loadBpeGz, loadHfTokenizerJson, loadModelDirVocabulary } from './vocab-loader.js';

/** Row-major `[N, contextLength]` token ids, as clip-server feeds `input_ids`. */
export interface TokenizedBatch {
  ids: Int32Array;
  /** Non-padding tokens per row, SOT and EOT included. */
  lengths: Int32Array;
  contextLength: number;
}

/** The default context of every CLIP text tower. */
export const CLIP_CONTEXT_LENGTH = 77;

function checkContextLength(contextLength: number): void {
  if (!Number.isInteger(contextLength) || contextLength < 2) {
    throw new RangeError(`contextLength must be an integer >= 2, got ${contextLength}`);
  }
}

/**
 * OpenAI CLIP's tokenizer (`clip.simple_tokenizer` + `clip.tokenize`), id for id:
 * ftfy-style cleanup, HTML unescaping, whitespace collapsing, lowercasing, CLIP's
 * pre-tokenising regex and byte-level BPE over `bpe_simple_vocab_16e6`.
 * See text-cleaning.ts and ftfy-fixes.ts for exactly which ftfy steps are reproduced.
 */
export class ClipTokenizer {
  /** `<|startoftext|>` (49406 in OpenAI's vocabulary). */
  readonly sot: number;
  /** `<|endoftext|>` (49407 in OpenAI's vocabulary). */
  readonly eot: number;
  /** Number of token ids (49408 for OpenAI's vocabulary). */
  readonly vocabSize: number;
  /** Where the vocabulary was read from. */
  readonly source: string;
  private readonly bpe: BytePairEncoder;

  /** Build from an already loaded vocabulary (the static factories are the usual way in). */
  constructor(vocab: BpeVocabulary, options: BpeOptions = {}) {
    this.bpe = new BytePairEncoder(vocab, options);
    this.sot = this.bpe.specialIds.get('<|startoftext|>') as number;
    this.eot = this.bpe.specialIds.get('<|endoftext|>') as number;
    this.vocabSize = this.bpe.vocabSize;
    this.source = vocab.source;
  }

  /** OpenAI's `bpe_simple_vocab_16e6.txt.gz`; without a path, the copy bundled with clipflow. */
  static async fromBpeGz(path?: string, options?: BpeOptions): Promise<ClipTokenizer> {
    return new ClipTokenizer(await loadBpeGz(path), options);
  }

  /** A Hugging Face `tokenizer.json` (vocab + merges of a CLIP BPE model). */
  static async fromHfTokenizerJson(path: string, options?: BpeOptions): Promise<ClipTokenizer> {
    return new ClipTokenizer(await loadHfTokenizerJson(path), options);
  }

  /**
   * The tokenizer a model directory ships (tokenizer.json, the OpenAI .txt.gz or
   * vocab.json + merges.txt), falling back to the bundled OpenAI vocabulary.
   */
  static async fromModelDir(dir: string, options?: BpeOptions): Promise<ClipTokenizer> {
    return new ClipTokenizer(await loadModelDirVocabulary(dir), options);
  }

  /** BPE ids of `text`, without SOT/EOT (OpenAI's `SimpleTokenizer.encode`). */
  encode(text: string): number[] {
    return this.encodeUpTo(text, Infinity);
  }

  /**
   * Encode, stopping once at least `limit` ids exist. The ids of a word never depend
   * on later words, so the prefix is exact; truncating callers skip the rest.
   */
  private encodeUpTo(text: string, limit: number): number[] {
    const out: number[] = [];
    for (const piece of preTokenize(cleanText(text))) {
      this.bpe.encodePiece(piece, out);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * `clip.tokenize`: one row per text, `[SOT, ...ids, EOT]` then zeros. Over-long text
   * is cut to `contextLength` with EOT as its last token, or rejected when `truncate`
   * is false.
   */
  tokenize(texts: readonly string[], contextLength = CLIP_CONTEXT_LENGTH, truncate = true): TokenizedBatch {
    checkContextLength(contextLength);
    const ids = new Int32Array(texts.length * contextLength);
    const lengths = this.tokenizeInto(texts, ids, contextLength, undefined, truncate);
    return { ids, lengths, contextLength };
  }

  /**
   * Write token rows straight into a model input buffer (int32, or int64 for Hugging
   * Face graphs) and optionally an attention mask (1 for real tokens, 0 for padding).
   * Both must hold at least `texts.length * contextLength` elements; the rows are
   * fully overwritten. Returns the non-padding length of each row.
   */
  tokenizeInto(
    texts: readonly string[],
    target: Int32Array | BigInt64Array,
    contextLength = CLIP_CONTEXT_LENGTH,
    maskTarget?: Int32Array | BigInt64Array,
    truncate = true,
  ): Int32Array {
    checkContextLength(contextLength);
    const needed = texts.length * contextLength;
    if (target.length < needed) throw new RangeError(`target holds ${target.length} ids, ${needed} needed`);
    if (maskTarget && maskTarget.length < needed) {
      throw new RangeError(`mask target holds ${maskTarget.length} values, ${needed} needed`);
    }
    const lengths = new Int32Array(texts.length);
    const wide = target instanceof BigInt64Array;
    const wideMask = maskTarget instanceof BigInt64Array;
    texts.forEach((text, row) => {
      // contextLength - 1 content ids are enough to know the row overflows.
      const content = this.encodeUpTo(text, contextLength - 1);
      if (content.length + 2 > contextLength && !truncate) {
        const shown = text.length > 100 ? `${text.slice(0, 100)}...` : text;
        throw new BadRequestError(`Input ${shown} is too long for context length ${contextLength}`);
      }
      const kept = Math.min(content.length, contextLength - 2);
      const base = row * contextLength;
      const length = kept + 2;
      for (let i = 0; i < contextLength; i++) {
        const id = i === 0 ? this.sot : i <= kept ? (content[i - 1] as number) : i === kept + 1 ? this.eot : 0;
        if (wide) (target as BigInt64Array)[base + i] = BigInt(id);
        else (target as Int32Array)[base + i] = id;
        if (maskTarget) {
          const on = i < length ? 1 : 0;
          if (wideMask) (maskTarget as BigInt64Array)[base + i] = BigInt(on);
          else (maskTarget as Int32Array)[base + i] = on;
        }
      }
      lengths[row] = length;
    });
    return lengths;
  }

  /** OpenAI's `SimpleTokenizer.decode`: '</w>' becomes a space, bad UTF-8 becomes U+FFFD. */
  decode(ids: Iterable<number>): string {
    return this.bpe.decode(ids);
  }

  /** Counters of the word → ids cache. */
  cacheStats(): BpeCacheStats {
    return this.bpe.cacheStats();
  }

  /** Empty the word cache (and reset its counters). */
  clearCache(): void {
    this.bpe.clearCache();
  }
}
