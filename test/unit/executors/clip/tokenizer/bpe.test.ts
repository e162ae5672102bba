import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClipflowError } from '../../../../../core/errors.js';
import { BytePairEncoder, type BpeVocabulary } from '../../../../../executors/clip/tokenizer/bpe.js';
import { BYTE_TO_CHAR, BYTE_VOCAB_ORDER } from '../../../../../executors/clip/tokenizer/byte-level.js';
import { loadBpeGz } from '../../../../../executors/clip/tokenizer/vocab-loader.js';

/** Deterministic pseudo-random words (no Math.random: failures must reproduce). */
function* randomWords(count: number, seed: number, alphabet: string[]): Generator<string> {
  let s = seed;
  const next = (k: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % k;
  };
  for (let i = 0; i < count; i++) {
    const length = 1 + next(120);
    let w = '';
    for (let j = 0; j < length; j++) w += alphabet[next(alphabet.length)];
    yield w;
  }
}

/** A vocabulary of the 512 byte tokens plus the given merges (for error-path tests). */
function byteVocab(merges: Array<[string, string]>, extra: string[] = []): BpeVocabulary {
  const tokens = BYTE_VOCAB_ORDER.map((b) => BYTE_TO_CHAR[b] as string);
  const all = [...tokens, ...tokens.map((t) => `${t}</w>`), ...extra, '<|startoftext|>', '<|endoftext|>'];
  return { tokenToId: new Map(all.map((t, i) => [t, i])), merges, endOfWordSuffix: '</w>', source: 'test' };
}

describe('BytePairEncoder', async () => {
  const bpe = new BytePairEncoder(await loadBpeGz());

  it('knows OpenAI merges are rank-order consistent (so the heap merge is exact)', () => {
    assert.equal(bpe.heapMergeAllowed, true);
    assert.equal(bpe.vocabSize, 49408);
  });

  it('gives identical ids with the scan and the heap merge', () => {
    const letters = [...'abcdefghijklmnopqrstuvwxyz'];
    const mixed = [...letters, ...'eeaaoo', '\u00e9', '\u00fc', '\u4f60', '\u597d', '\u{1f600}', '!', '.'];
    let compared = 0;
    for (const alphabet of [letters, mixed, ['a', 'b'], ['a']]) {
      for (const word of randomWords(150, 42 + compared, alphabet)) {
        assert.deepEqual(bpe.mergePiece(word, 'heap'), bpe.mergePiece(word, 'scan'), word);
        compared++;
      }
    }
    assert.equal(compared, 600);
  });

  it('handles very long words quickly', () => {
    const word = [...randomWords(1, 7, [...'abcdefghijklmnopqrstuvwxyz'])][0]!.repeat(800);
    const started = Date.now();
    const ids = bpe.mergePiece(word);
    assert.ok(Date.now() - started < 2000, 'a 100k-character word must not take seconds');
    assert.ok(ids.length > 0 && ids.length < word.length);
    assert.equal(bpe.decode(ids), `${word} `);
  });

  it('encodes the two special pieces whole', () => {
    const out: number[] = [];
    bpe.encodePiece('<|startoftext|>', out);
    bpe.encodePiece('<|endoftext|>', out);
    assert.deepEqual(out, [49406, 49407]);
  });
});

describe('BytePairEncoder with hand-made vocabularies', () => {
  it('applies merges by rank, left to right', () => {
    const vocab = byteVocab([['a', 'a'], ['aa', 'a</w>']], ['aa', 'aaa</w>']);
    const enc = new BytePairEncoder(vocab);
    const ids = (...tokens: string[]): number[] => tokens.map((t) => vocab.tokenToId.get(t) as number);
    // "aaa": (a a) first, then (aa a</w>). "aaaa": the first (a a) wins, the second
    // overlaps it; no rule joins what is left.
    assert.deepEqual(enc.mergePiece('aaa'), ids('aaa</w>'));
    assert.deepEqual(enc.mergePiece('aaaa'), ids('aa', 'a', 'a</w>'));
    assert.deepEqual(enc.mergePiece('aaaa', 'heap'), ids('aa', 'a', 'a</w>'));
    assert.deepEqual(enc.mergePiece('aaaaa', 'heap'), enc.mergePiece('aaaaa', 'scan'));
  });

  it('detects merge files whose ranks are not in production order', () => {
    const enc = new BytePairEncoder(byteVocab([['ab', 'c</w>'], ['a', 'b']], ['abc</w>', 'ab']));
    assert.equal(enc.heapMergeAllowed, false);
  });

  it('rejects vocabularies that lack byte tokens, specials or merge results', () => {
    const noByte = byteVocab([]);
    (noByte.tokenToId as Map<string, number>).delete('a');
    assert.throws(() => new BytePairEncoder(noByte), ClipflowError);
    const noSpecial = byteVocab([]);
    (noSpecial.tokenToId as Map<string, number>).delete('<|endoftext|>');
    assert.throws(() => new BytePairEncoder(noSpecial), /missing special token/);
    assert.throws(() => new BytePairEncoder(byteVocab([['a', 'b']])), /not in the vocabulary/);
  });
});
