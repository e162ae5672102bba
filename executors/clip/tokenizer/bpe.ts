import { LRUCache } from 'lru-cache';
import { ClipflowError } from '../../../core/errors.js';
import { BYTE_TO_CHAR, CHAR_CODE_TO_BYTE, utf8Bytes } from './byte-level.js';
import { mergeWithHeap, mergeWithScan, type MergeTable } from './bpe-merge.js';

/** A BPE vocabulary as the loaders produce it (OpenAI .txt.gz or Hugging Face files). */
export interface BpeVocabulary {
  /** Token string → id (the `encoder`). */
  readonly tokenToId: ReadonlyMap<string, number>;
  /** Merge rules in rank order (rank = index; a repeated pair keeps its last rank, as in Python). */
  readonly merges: ReadonlyArray<readonly [string, string]>;
  /** Appended to a word's last symbol: '</w>' for CLIP. */
  readonly endOfWordSuffix: string;
  /** Where it came from, for messages. */
  readonly source: string;
}

/** Tuning for {@link BytePairEncoder}. */
export interface BpeOptions {
  /** Words remembered with their ids (LRU). Default 50,000. */
  cacheSize?: number;
  /** Longer words are not cached, so one huge input cannot flush the cache. Default 64 chars. */
  maxCachedWordLength?: number;
}

/** Counters of the word cache, for tests and metrics. */
export interface BpeCacheStats {
  size: number;
  hits: number;
  misses: number;
}

const SPECIAL_PIECES = ['<|startoftext|>', '<|endoftext|>'] as const;

function invalid(vocab: BpeVocabulary, message: string): ClipflowError {
  return new ClipflowError('CONFIG_INVALID', `tokenizer vocabulary ${vocab.source}: ${message}`);
}

/**
 * Byte-level BPE over a CLIP vocabulary: one pre-token in, its ids out, with an LRU
 * cache of word → ids because captions repeat the same few thousand words.
 */
export class BytePairEncoder {
  /** Id → token string (the `decoder`). */
  readonly idToToken: readonly string[];
  /** Ids of the special pieces the pre-tokeniser can emit whole. */
  readonly specialIds: ReadonlyMap<string, number>;
  private readonly table: MergeTable;
  private readonly byteIds = new Int32Array(256);
  private readonly byteEndIds = new Int32Array(256);
  private readonly suffix: string;
  private readonly cache: LRUCache<string, readonly number[]>;
  private readonly maxCachedWordLength: number;
  private hits = 0;
  private misses = 0;

  constructor(vocab: BpeVocabulary, options: BpeOptions = {}) {
    this.suffix = vocab.endOfWordSuffix;
    let size = 0;
    for (const id of vocab.tokenToId.values()) size = Math.max(size, id + 1);
    const idToToken: string[] = new Array<string>(size);
    for (const [token, id] of vocab.tokenToId) idToToken[id] = token;
    this.idToToken = idToToken;

    for (let b = 0; b < 256; b++) {
      const ch = BYTE_TO_CHAR[b] as string;
      const id = vocab.tokenToId.get(ch);
      const endId = vocab.tokenToId.get(ch + this.suffix);
      if (id === undefined || endId === undefined) throw invalid(vocab, `no token for byte 0x${b.toString(16)}`);
      this.byteIds[b] = id;
      this.byteEndIds[b] = endId;
    }
    const special = new Map<string, number>();
    for (const piece of SPECIAL_PIECES) {
      const id = vocab.tokenToId.get(piece);
      if (id === undefined) throw invalid(vocab, `missing special token ${piece}`);
      special.set(piece, id);
    }
    this.specialIds = special;
    this.table = buildMergeTable(vocab, size);
    this.cache = new LRUCache({ max: options.cacheSize ?? 50_000 });
    this.maxCachedWordLength = options.maxCachedWordLength ?? 64;
  }

  /** Number of ids (one past the largest). */
  get vocabSize(): number {
    return this.idToToken.length;
  }

  /** Whether long words may use the O(n log n) merge (see bpe-merge.ts). */
  get heapMergeAllowed(): boolean {
    return this.table.rankOrderConsistent;
  }

  /** Append the ids of one pre-token (a regex piece of cleaned text) to `out`. */
  encodePiece(piece: string, out: number[]): void {
    const special = this.specialIds.get(piece);
    if (special !== undefined) {
      out.push(special);
      return;
    }
    const cached = this.cache.get(piece);
    if (cached !== undefined) {
      this.hits++;
      for (const id of cached) out.push(id);
      return;
    }
    this.misses++;
    const ids = this.mergePiece(piece);
    if (piece.length <= this.maxCachedWordLength) this.cache.set(piece, ids);
    for (const id of ids) out.push(id);
  }

  /** BPE of one piece, uncached; `algorithm` forces a merge strategy (tests compare them). */
  mergePiece(piece: string, algorithm: 'auto' | 'scan' | 'heap' = 'auto'): number[] {
    const bytes = utf8Bytes(piece);
    const n = bytes.length;
    if (n === 0) return [];
    const symbols = new Array<number>(n);
    for (let i = 0; i < n - 1; i++) symbols[i] = this.byteIds[bytes[i] as number] as number;
    symbols[n - 1] = this.byteEndIds[bytes[n - 1] as number] as number;
    const useHeap = algorithm === 'heap' || (algorithm === 'auto' && n > 24 && this.table.rankOrderConsistent);
    return useHeap ? mergeWithHeap(symbols, this.table) : mergeWithScan(symbols, this.table);
  }

  /** OpenAI's decode: concatenate tokens, map stand-ins back to bytes, UTF-8 with U+FFFD, '</w>' → ' '. */
  decode(ids: Iterable<number>): string {
    let joined = '';
    for (const id of ids) {
      const token = this.idToToken[id];
      if (token === undefined) throw new RangeError(`token id ${id} is not in the vocabulary`);
      joined += token;
    }
    const bytes = new Uint8Array(joined.length);
    for (let i = 0; i < joined.length; i++) {
      const code = joined.charCodeAt(i);
      const b = code < CHAR_CODE_TO_BYTE.length ? (CHAR_CODE_TO_BYTE[code] as number) : -1;
      if (b < 0) throw new RangeError(`token character U+${code.toString(16)} is not a byte stand-in`);
      bytes[i] = b;
    }
    // ignoreBOM keeps a leading U+FEFF, as Python's decoder does.
    const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(bytes);
    return text.replaceAll(this.suffix, ' ');
  }

  /** Word-cache counters. */
  cacheStats(): BpeCacheStats {
    return { size: this.cache.size, hits: this.hits, misses: this.misses };
  }

  /** Forget cached words and reset the counters. */
  clearCache(): void {
    this.cache.clear();
    this.hits = 0;
    this.misses = 0;
  }
}

function buildMergeTable(vocab: BpeVocabulary, stride: number): MergeTable {
  const count = vocab.merges.length;
  const left = new Int32Array(count).fill(-1);
  const right = new Int32Array(count).fill(-1);
  const result = new Int32Array(count).fill(-1);
  const rankOf = new Map<number, number>();
  // Highest rank of any merge producing each id: rank order is consistent when every
  // merge's parts are produced only by lower-ranked merges (true of trained BPE files).
  const producedAt = new Int32Array(stride).fill(-1);
  vocab.merges.forEach(([a, b], rank) => {
    const idA = vocab.tokenToId.get(a);
    const idB = vocab.tokenToId.get(b);
    // A part missing from the vocabulary can never be a symbol, so the rule can never fire.
    if (idA === undefined || idB === undefined) return;
    const merged = vocab.tokenToId.get(a + b);
    if (merged === undefined) throw invalid(vocab, `merge "${a} ${b}" produces a token not in the vocabulary`);
    left[rank] = idA;
    right[rank] = idB;
    result[rank] = merged;
    rankOf.set(idA * stride + idB, rank);
    producedAt[merged] = Math.max(producedAt[merged] as number, rank);
  });
  let consistent = true;
  for (const [key, rank] of rankOf) {
    const a = Math.floor(key / stride);
    const b = key - a * stride;
    if ((producedAt[a] as number) >= rank || (producedAt[b] as number) >= rank) {
      consistent = false;
      break;
    }
  }
  return { rankOf, left, right, result, stride, rankOrderConsistent: consistent };
}
