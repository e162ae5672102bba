import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { packageRoot } from '../../../core/config/paths.js';
import { ClipflowError, NotFoundError } from '../../../core/errors.js';
import { BYTE_TO_CHAR, BYTE_VOCAB_ORDER } from './byte-level.js';
import type { BpeVocabulary } from './bpe.js';

/**
 * Reads CLIP BPE vocabularies: OpenAI's `bpe_simple_vocab_16e6.txt.gz`, a Hugging
 * Face `tokenizer.json`, or the slow-tokenizer pair `vocab.json` + `merges.txt`.
 */

/** File name of OpenAI's vocabulary, bundled beside this module's source. */
export const OPENAI_VOCAB_FILE = 'bpe_simple_vocab_16e6.txt.gz';

const gunzipAsync = promisify(gunzip);
const END_OF_WORD = '</w>';
// OpenAI reads exactly this many merge lines (after the "#version" header line).
const OPENAI_MERGE_COUNT = 49152 - 256 - 2;

function malformed(path: string, message: string, cause?: unknown): ClipflowError {
  return new ClipflowError('CONFIG_INVALID', `tokenizer file ${path}: ${message}`, { cause });
}

/** Path of the vocabulary shipped with clipflow (executors/clip/tokenizer/ in the package). */
export function bundledVocabPath(): string {
  const path = join(packageRoot(), 'executors', 'clip', 'tokenizer', OPENAI_VOCAB_FILE);
  if (!existsSync(path)) {
    throw new NotFoundError(`the bundled CLIP vocabulary is missing: ${path} (reinstall clipflow)`);
  }
  return path;
}

async function readOrExplain(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`tokenizer file not found: ${path}`);
    throw err;
  }
}

/** OpenAI's vocabulary layout: 256 byte stand-ins, the same with '</w>', one token per merge, then the two specials. */
function openAiVocabulary(merges: Array<readonly [string, string]>, source: string): BpeVocabulary {
  const tokens = BYTE_VOCAB_ORDER.map((b) => BYTE_TO_CHAR[b] as string);
  const all = [...tokens, ...tokens.map((t) => t + END_OF_WORD), ...merges.map(([a, b]) => a + b)];
  all.push('<|startoftext|>', '<|endoftext|>');
  // Later duplicates win, like Python's dict(zip(vocab, range(len(vocab)))).
  const tokenToId = new Map<string, number>();
  all.forEach((token, id) => tokenToId.set(token, id));
  return { tokenToId, merges, endOfWordSuffix: END_OF_WORD, source };
}

/** Parse merge lines ("a b"), skipping a "#version" header. */
function parseMergeLines(lines: string[], path: string): Array<readonly [string, string]> {
  const merges: Array<readonly [string, string]> = [];
  for (const line of lines) {
    const parts = line.split(/\s+/).filter((p) => p.length > 0);
    if (parts.length === 0) continue;
    if (parts.length !== 2) throw malformed(path, `bad merge line "${line}"`);
    merges.push([parts[0] as string, parts[1] as string]);
  }
  return merges;
}

/** Load OpenAI's gzipped merges file (default: the bundled copy). */
export async function loadBpeGz(path: string = bundledVocabPath()): Promise<BpeVocabulary> {
  const raw = await readOrExplain(path);
  let text: string;
  try {
    text = (await gunzipAsync(raw)).toString('utf8');
  } catch (err) {
    throw malformed(path, 'not a gzip file', err);
  }
  const lines = text.split('\n').slice(1, 1 + OPENAI_MERGE_COUNT);
  const merges = parseMergeLines(lines, path);
  if (merges.length === 0) throw malformed(path, 'no merge rules');
  return openAiVocabulary(merges, path);
}

interface HfTokenizerJson {
  added_tokens?: Array<{ id: number; content: string }>;
  model?: { type?: string; vocab?: Record<string, number>; merges?: Array<string | [string, string]>; end_of_word_suffix?: string | null };
}

function hfVocabulary(
  vocab: Record<string, number>,
  rawMerges: Array<string | [string, string]>,
  added: Array<{ id: number; content: string }>,
  suffix: string,
  path: string,
): BpeVocabulary {
  const tokenToId = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || id < 0) throw malformed(path, `token ${JSON.stringify(token)} has id ${id}`);
    tokenToId.set(token, id);
  }
  for (const t of added) if (!tokenToId.has(t.content)) tokenToId.set(t.content, t.id);
  const merges = rawMerges.map((m): readonly [string, string] => {
    if (Array.isArray(m) && m.length === 2) return [m[0], m[1]];
    if (typeof m === 'string') {
      const parsed = parseMergeLines([m], path)[0];
      if (parsed) return parsed;
    }
    throw malformed(path, `bad merge ${JSON.stringify(m)}`);
  });
  return { tokenToId, merges, endOfWordSuffix: suffix, source: path };
}

/** Load a Hugging Face `tokenizer.json` whose model is CLIP's BPE. */
export async function loadHfTokenizerJson(path: string): Promise<BpeVocabulary> {
  let doc: HfTokenizerJson;
  try {
    doc = JSON.parse((await readOrExplain(path)).toString('utf8')) as HfTokenizerJson;
  } catch (err) {
    if (err instanceof ClipflowError) throw err;
    throw malformed(path, 'not valid JSON', err);
  }
  const model = doc.model;
  if (!model || (model.type !== undefined && model.type !== 'BPE') || !model.vocab || !Array.isArray(model.merges)) {
    throw malformed(path, 'expected a BPE model with "vocab" and "merges"');
  }
  return hfVocabulary(model.vocab, model.merges, doc.added_tokens ?? [], model.end_of_word_suffix ?? END_OF_WORD, path);
}

/** Load the slow-tokenizer files `vocab.json` + `merges.txt`. */
export async function loadHfVocabAndMerges(vocabPath: string, mergesPath: string): Promise<BpeVocabulary> {
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse((await readOrExplain(vocabPath)).toString('utf8')) as Record<string, number>;
  } catch (err) {
    if (err instanceof ClipflowError) throw err;
    throw malformed(vocabPath, 'not valid JSON', err);
  }
  const lines = (await readOrExplain(mergesPath)).toString('utf8').split('\n');
  const merges = parseMergeLines(lines.filter((l) => !l.startsWith('#version')), mergesPath);
  return hfVocabulary(vocab, merges as Array<[string, string]>, [], END_OF_WORD, vocabPath);
}

/** What {@link findModelDirVocabulary} found, in the order it looks. */
export type ModelDirVocabulary =
  | { kind: 'tokenizer.json'; path: string }
  | { kind: 'bpe-gz'; path: string }
  | { kind: 'vocab+merges'; vocab: string; merges: string }
  | { kind: 'bundled'; path: string };

/**
 * Which vocabulary a model directory provides: `tokenizer.json`, OpenAI's
 * `bpe_simple_vocab_16e6.txt.gz`, or `vocab.json` + `merges.txt` (each also looked
 * for in a `tokenizer/` subfolder, the diffusers layout); otherwise the bundled one
 * (clip-server's ONNX folders carry no tokenizer, they use OpenAI's).
 */
export function findModelDirVocabulary(dir: string): ModelDirVocabulary {
  for (const base of [dir, join(dir, 'tokenizer')]) {
    const json = join(base, 'tokenizer.json');
    if (existsSync(json)) return { kind: 'tokenizer.json', path: json };
    const gz = join(base, OPENAI_VOCAB_FILE);
    if (existsSync(gz)) return { kind: 'bpe-gz', path: gz };
    const vocab = join(base, 'vocab.json');
    const merges = join(base, 'merges.txt');
    if (existsSync(vocab) && existsSync(merges)) return { kind: 'vocab+merges', vocab, merges };
  }
  return { kind: 'bundled', path: bundledVocabPath() };
}

/** Load whatever {@link findModelDirVocabulary} picks for `dir`. */
export async function loadModelDirVocabulary(dir: string): Promise<BpeVocabulary> {
  const found = findModelDirVocabulary(dir);
  switch (found.kind) {
    case 'tokenizer.json':
      return loadHfTokenizerJson(found.path);
    case 'vocab+merges':
      return loadHfVocabAndMerges(found.vocab, found.merges);
    default:
      return loadBpeGz(found.path);
  }
}
