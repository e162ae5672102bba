import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BadRequestError } from '../../../../../core/errors.js';
import { ClipTokenizer } from '../../../../../executors/clip/tokenizer/clip-tokenizer.js';
import { cleanText, preTokenize } from '../../../../../executors/clip/tokenizer/text-cleaning.js';
import { bundledTokenizer, known, referenceCases, row } from './tokenizer-fixtures.js';

const SOT = 49406;
const EOT = 49407;

describe('ClipTokenizer: ids equal OpenAI CLIP', () => {
  it('uses OpenAI special ids and vocabulary size', async () => {
    const tok = await bundledTokenizer();
    assert.equal(tok.sot, SOT);
    assert.equal(tok.eot, EOT);
    assert.equal(tok.vocabSize, 49408);
    assert.match(tok.source, /executors[\\/]clip[\\/]tokenizer[\\/]bpe_simple_vocab_16e6\.txt\.gz$/);
  });

  it('reproduces every sequence published in public test suites', async () => {
    const tok = await bundledTokenizer();
    const fixture = known();
    assert.ok(fixture.sequences.length >= 20);
    for (const { text, ids, source } of fixture.sequences) {
      assert.deepEqual(tok.encode(text), ids, `${JSON.stringify(text)} (${source})`);
    }
  });

  it('reproduces published batches, including truncation to a short context', async () => {
    const tok = await bundledTokenizer();
    for (const batch of known().batches) {
      const out = tok.tokenize(batch.texts, batch.contextLength);
      batch.rows.forEach((expected, i) => assert.deepEqual(row(out.ids, i, batch.contextLength), expected));
    }
  });

  it('matches the Python reference on all generated cases', async () => {
    const tok = await bundledTokenizer();
    const cases = referenceCases();
    assert.ok(cases.length >= 200, `only ${cases.length} cases`);
    const failures = cases.filter((c) => JSON.stringify(tok.encode(c.text)) !== JSON.stringify(c.ids));
    assert.deepEqual(failures.map((c) => c.text), []);
  });

  it('encodes the empty and the blank string to just SOT, EOT', async () => {
    const tok = await bundledTokenizer();
    const out = tok.tokenize(['', ' \t\n\u3000'], 8);
    assert.deepEqual(row(out.ids, 0, 8), [SOT, EOT, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(row(out.ids, 1, 8), [SOT, EOT, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(out.lengths), [2, 2]);
  });
});

describe('ClipTokenizer.tokenize', () => {
  it('pads with zeros and reports lengths including SOT and EOT', async () => {
    const tok = await bundledTokenizer();
    const out = tok.tokenize(['a photo of a cat', 'a dog']);
    assert.equal(out.contextLength, 77);
    assert.equal(out.ids.length, 2 * 77);
    assert.deepEqual(row(out.ids, 0, 77).slice(0, 8), [SOT, 320, 1125, 539, 320, 2368, EOT, 0]);
    assert.deepEqual(Array.from(out.lengths), [7, 4]);
    assert.ok(row(out.ids, 1, 77).slice(4).every((v) => v === 0));
  });

  it('truncates over-long text keeping EOT last at position 76', async () => {
    const tok = await bundledTokenizer();
    const text = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const ids = tok.encode(text);
    assert.ok(ids.length > 75);
    const out = tok.tokenize([text]);
    const r = row(out.ids, 0, 77);
    assert.equal(r[0], SOT);
    assert.equal(r[76], EOT);
    assert.deepEqual(r.slice(1, 76), ids.slice(0, 75));
    assert.equal(out.lengths[0], 77);
  });

  it('keeps a text of exactly 75 ids whole and cuts one of 76', async () => {
    const tok = await bundledTokenizer();
    const fits = Array(75).fill('cat').join(' ');
    const over = Array(76).fill('cat').join(' ');
    const out = tok.tokenize([fits, over]);
    assert.deepEqual(row(out.ids, 0, 77), [SOT, ...Array(75).fill(2368), EOT]);
    assert.deepEqual(row(out.ids, 1, 77), [SOT, ...Array(75).fill(2368), EOT]);
    assert.deepEqual(Array.from(out.lengths), [77, 77]);
    assert.doesNotThrow(() => tok.tokenize([fits], 77, false));
  });

  it('rejects over-long text when truncate is false', async () => {
    const tok = await bundledTokenizer();
    assert.throws(() => tok.tokenize([Array(80).fill('cat').join(' ')], 77, false), BadRequestError);
  });

  it('rejects a context length below 2', async () => {
    const tok = await bundledTokenizer();
    assert.throws(() => tok.tokenize(['x'], 1), RangeError);
    assert.throws(() => tok.tokenize(['x'], 7.5), RangeError);
  });
});

describe('ClipTokenizer.tokenizeInto', () => {
  const texts = ['a photo of a cat', '', Array(90).fill('dog').join(' ')];

  it('writes int32 ids and an int32 mask matching tokenize()', async () => {
    const tok = await bundledTokenizer();
    const expected = tok.tokenize(texts);
    const ids = new Int32Array(3 * 77).fill(-7);
    const mask = new Int32Array(3 * 77).fill(-7);
    const lengths = tok.tokenizeInto(texts, ids, 77, mask);
    assert.deepEqual(ids, expected.ids);
    assert.deepEqual(lengths, expected.lengths);
    texts.forEach((_, i) => {
      const m = row(mask, i, 77);
      assert.deepEqual(m, m.map((_v, j) => (j < (lengths[i] as number) ? 1 : 0)));
    });
  });

  it('writes int64 ids and mask for Hugging Face graphs', async () => {
    const tok = await bundledTokenizer();
    const expected = tok.tokenize(texts, 16);
    const ids = new BigInt64Array(3 * 16);
    const mask = new BigInt64Array(3 * 16);
    tok.tokenizeInto(texts, ids, 16, mask);
    assert.deepEqual(Array.from(ids, Number), Array.from(expected.ids));
    assert.deepEqual(Array.from(mask, Number).reduce((a, b) => a + b, 0), Array.from(expected.lengths).reduce((a, b) => a + b, 0));
  });

  it('refuses buffers that are too small', async () => {
    const tok = await bundledTokenizer();
    assert.throws(() => tok.tokenizeInto(texts, new Int32Array(77), 77), RangeError);
    assert.throws(() => tok.tokenizeInto(texts, new Int32Array(3 * 77), 77, new Int32Array(10)), RangeError);
  });
});

describe('ClipTokenizer.decode', () => {
  it('decodes published sequences', async () => {
    const tok = await bundledTokenizer();
    for (const { ids, text } of known().decoded) assert.equal(tok.decode(ids), text);
  });

  it('round-trips ASCII text to its pre-tokens joined by spaces', async () => {
    const tok = await bundledTokenizer();
    const samples = [
      'a photo of a cat', 'The quick brown fox jumps over the lazy dog.', "it's 3.14, isn't it?!",
      'hello-world (test) [x] {y} <z> @me #tag $5 100%', 'UPPER lower MiXeD', "don't stop 42 times",
    ];
    for (const text of samples) {
      const expected = [...preTokenize(cleanText(text))].join(' ') + ' ';
      assert.equal(tok.decode(tok.encode(text)), expected);
    }
  });

  it('decodes broken UTF-8 with replacement characters and rejects unknown ids', async () => {
    const tok = await bundledTokenizer();
    assert.equal(tok.decode(tok.encode('\u4f60')), '\u4f60 ');
    assert.equal(tok.decode([163]), '\ufffd');
    assert.throws(() => tok.decode([49408]), RangeError);
  });
});

describe('ClipTokenizer word cache', () => {
  it('misses once per new word and hits on repeats', async () => {
    const tok = await ClipTokenizer.fromBpeGz();
    tok.encode('a cat and a cat');
    assert.deepEqual(tok.cacheStats(), { size: 3, hits: 2, misses: 3 });
    const again = tok.encode('a cat and a cat');
    assert.deepEqual(tok.cacheStats(), { size: 3, hits: 7, misses: 3 });
    assert.deepEqual(again, [320, 2368, 537, 320, 2368]);
    tok.clearCache();
    assert.deepEqual(tok.cacheStats(), { size: 0, hits: 0, misses: 0 });
  });

  it('returns the same ids from the cache as without it', async () => {
    const tok = await ClipTokenizer.fromBpeGz(undefined, { cacheSize: 2 });
    const text = 'photo photograph photographer photo photograph photographer';
    const first = tok.encode(text);
    assert.deepEqual(tok.encode(text), first);
    assert.equal(tok.cacheStats().size, 2);
  });

  it('does not cache very long words', async () => {
    const tok = await ClipTokenizer.fromBpeGz();
    tok.encode('x'.repeat(500));
    assert.equal(tok.cacheStats().size, 0);
    assert.equal(tok.cacheStats().misses, 1);
  });
});
