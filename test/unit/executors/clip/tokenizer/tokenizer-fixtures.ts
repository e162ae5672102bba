import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../../../core/config/paths.js';
import { ClipTokenizer } from '../../../../../executors/clip/tokenizer/clip-tokenizer.js';

/** Shared fixtures of the tokenizer tests (test/fixtures/tokenizer/). */

export const FIXTURES = join(packageRoot(), 'test', 'fixtures', 'tokenizer');

/** The copy of shared/ that CI lays beside the repository. */
export const SHARED_VOCAB = join(packageRoot(), '..', 'shared', 'data', 'bpe_simple_vocab_16e6.txt.gz');

export interface KnownSequence {
  text: string;
  ids: number[];
  source: string;
}

export interface KnownFixture {
  sequences: KnownSequence[];
  batches: Array<{ texts: string[]; contextLength: number; rows: number[][]; source: string }>;
  decoded: Array<{ ids: number[]; text: string; source: string }>;
}

export interface ReferenceCase {
  text: string;
  tags: string[];
  ids: number[];
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export const known = (): KnownFixture => readFixture<KnownFixture>('known-sequences.json');
export const referenceCases = (): ReferenceCase[] => readFixture<{ cases: ReferenceCase[] }>('cases.json').cases;

let shared: Promise<ClipTokenizer> | undefined;

/** One tokenizer on the bundled vocabulary per test process (loading takes ~0.2 s). */
export function bundledTokenizer(): Promise<ClipTokenizer> {
  shared ??= ClipTokenizer.fromBpeGz();
  return shared;
}

/** A row of a tokenized batch as a plain array. */
export function row(ids: Int32Array, index: number, contextLength: number): number[] {
  return Array.from(ids.subarray(index * contextLength, (index + 1) * contextLength));
}
