import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClipflowError, NotFoundError } from '../../../../../core/errors.js';
import { ClipTokenizer } from '../../../../../executors/clip/tokenizer/clip-tokenizer.js';
import {
  bundledVocabPath,
  findModelDirVocabulary,
  loadBpeGz,
} from '../../../../../executors/clip/tokenizer/vocab-loader.js';
import { FIXTURES, SHARED_VOCAB, bundledTokenizer } from './tokenizer-fixtures.js';

// tiny-tokenizer.json holds the real vocabulary's byte tokens and first 2000 merges
// (tools/reference/clip_tokenizer_reference.py tiny-tokenizer), so ids below 2512
// mean the same token in both.
const TINY = join(FIXTURES, 'tiny-tokenizer.json');
const SAMPLES = ['a photo of a cat', 'the man and the woman', 'Hello, world!', 'photographer', 'caf\u00e9 \u4f60\u597d \u{1f600}'];

describe('vocabulary loading', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipflow-tok-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bundles the OpenAI vocabulary inside the package', () => {
    assert.ok(existsSync(bundledVocabPath()));
  });

  it("bundles OpenAI's vocabulary byte for byte (and reads the shared/ copy identically where there is one)", async () => {
    // SHA-256 of OpenAI's bpe_simple_vocab_16e6.txt.gz, the copy in ../shared/data.
    const digest = createHash('sha256').update(readFileSync(bundledVocabPath())).digest('hex');
    assert.equal(digest, '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a');
    if (!existsSync(SHARED_VOCAB)) return; // a clone without ../shared: the digest above is the check
    assert.deepEqual(readFileSync(SHARED_VOCAB), readFileSync(bundledVocabPath()));
    const fromShared = await ClipTokenizer.fromBpeGz(SHARED_VOCAB);
    const bundled = await bundledTokenizer();
    for (const text of SAMPLES) assert.deepEqual(fromShared.encode(text), bundled.encode(text));
  });

  it('loads a Hugging Face tokenizer.json', async () => {
    const tiny = await ClipTokenizer.fromHfTokenizerJson(TINY);
    const real = await bundledTokenizer();
    assert.equal(tiny.vocabSize, 2514);
    assert.equal(tiny.sot, 2512);
    assert.equal(tiny.eot, 2513);
    assert.deepEqual(tiny.encode('a photo of a cat'), [320, 1125, 539, 320, 2368]);
    for (const text of SAMPLES) {
      const ids = real.encode(text);
      // Words built only from the first 2000 merges tokenize identically...
      if (ids.every((id) => id < 2512)) assert.deepEqual(tiny.encode(text), ids, text);
      // ...and every text means the same bytes under both vocabularies.
      assert.equal(tiny.decode(tiny.encode(text)), real.decode(ids));
    }
    assert.deepEqual(Array.from(tiny.tokenize([''], 4).ids), [2512, 2513, 0, 0]);
  });

  it('accepts merges written as pairs (newer tokenizers format)', async () => {
    const doc = JSON.parse(readFileSync(TINY, 'utf8')) as { model: { merges: Array<string | string[]> } };
    doc.model.merges = doc.model.merges.map((m) => (m as string).split(' '));
    const path = join(dir, 'pairs.json');
    await writeFile(path, JSON.stringify(doc));
    const tok = await ClipTokenizer.fromHfTokenizerJson(path);
    assert.deepEqual(tok.encode('a photo of a cat'), [320, 1125, 539, 320, 2368]);
  });

  it('loads vocab.json + merges.txt from a model directory', async () => {
    const doc = JSON.parse(readFileSync(TINY, 'utf8')) as { model: { vocab: object; merges: string[] } };
    const model = join(dir, 'slow');
    await mkdir(model);
    await writeFile(join(model, 'vocab.json'), JSON.stringify(doc.model.vocab));
    await writeFile(join(model, 'merges.txt'), `#version: 0.2\n${doc.model.merges.join('\n')}\n`);
    assert.equal(findModelDirVocabulary(model).kind, 'vocab+merges');
    const tok = await ClipTokenizer.fromModelDir(model);
    assert.deepEqual(tok.encode('a photo of a cat'), [320, 1125, 539, 320, 2368]);
    assert.equal(tok.eot, 2513);
  });

  it('picks tokenizer.json, then the OpenAI .txt.gz, then the bundled vocabulary', async () => {
    const hf = join(dir, 'hf', 'tokenizer');
    await mkdir(hf, { recursive: true });
    await copyFile(TINY, join(hf, 'tokenizer.json'));
    assert.deepEqual(findModelDirVocabulary(join(dir, 'hf')), { kind: 'tokenizer.json', path: join(hf, 'tokenizer.json') });
    assert.equal((await ClipTokenizer.fromModelDir(join(dir, 'hf'))).vocabSize, 2514);

    const openai = join(dir, 'openai');
    await mkdir(openai);
    await copyFile(bundledVocabPath(), join(openai, 'bpe_simple_vocab_16e6.txt.gz'));
    assert.equal(findModelDirVocabulary(openai).kind, 'bpe-gz');

    const empty = join(dir, 'onnx-only');
    await mkdir(empty);
    const fallback = await ClipTokenizer.fromModelDir(empty);
    assert.equal(fallback.source, bundledVocabPath());
    assert.equal(fallback.vocabSize, 49408);
  });

  it('reports missing and malformed files with typed errors', async () => {
    await assert.rejects(loadBpeGz(join(dir, 'nope.txt.gz')), NotFoundError);
    const notGz = join(dir, 'plain.txt.gz');
    await writeFile(notGz, 'not gzip');
    await assert.rejects(loadBpeGz(notGz), (e: unknown) => e instanceof ClipflowError && e.code === 'CONFIG_INVALID');
    const badJson = join(dir, 'bad.json');
    await writeFile(badJson, '{"model": {"type": "WordPiece"}}');
    await assert.rejects(ClipTokenizer.fromHfTokenizerJson(badJson), /expected a BPE model/);
    await writeFile(badJson, '{not json');
    await assert.rejects(ClipTokenizer.fromHfTokenizerJson(badJson), /not valid JSON/);
  });
});
