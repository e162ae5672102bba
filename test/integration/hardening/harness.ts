// Shared set-up of the hardening tests: one flow with the tiny CLIP encoder and
// the misbehaving fixture executors, served on all three protocols on loopback,
// plus "a good neighbour": a request that must succeed while a bad one runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { packagePath } from '../../../core/config/paths.js';
import { Client } from '../../../core/client/client.js';
import { Document } from '../../../core/document/document.js';
import { flowYaml, serveYaml } from '../../helpers/flows.js';
import { tinyModelDir } from '../../helpers/tiny-model.js';

export const PROTOCOLS = ['grpc', 'http', 'websocket'] as const;
export type Proto = (typeof PROTOCOLS)[number];

/** Compiled fixture executors (Sleeper, Hanger, Exploder, Blocker). */
export const HARDENING_EXECUTORS = packagePath('dist', 'test', 'fixtures', 'executors', 'hardening.js');

/** The tiny CLIP's embedding size. */
export const DIM = 16;

export interface HardeningFlowOptions {
  /** Extra gateway lines (two-space indented), e.g. `  timeout: 300`. */
  gateway?: string;
  /** Extra keys for the encoder's `with:`, e.g. `uri_allowlist: ['127.0.0.1']`. */
  encoderWith?: string;
}

/**
 * ClipEncoder (tiny model) first; the fixture executors after it, each on
 * endpoints the encoder does not serve, so every endpoint has exactly one worker.
 */
export function hardeningYaml(o: HardeningFlowOptions = {}): string {
  const mod = `metas: { modules: ['${HARDENING_EXECUTORS}'] }`;
  return flowYaml(
    `  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${tinyModelDir('clip-server')}', minibatch_size: 8${o.encoderWith ? `, ${o.encoderWith}` : ''} }
  - name: sleeper
    uses: { jtype: Sleeper, ${mod} }
  - name: hanger
    uses: { jtype: Hanger, ${mod} }
  - name: exploder
    uses: { jtype: Exploder, ${mod} }
  - name: blocker
    uses: { jtype: Blocker, ${mod} }
`,
    o.gateway ?? '',
  );
}

export type Served = Awaited<ReturnType<typeof serveYaml>>;

export function serveHardening(o: HardeningFlowOptions = {}): Promise<Served> {
  return serveYaml(hardeningYaml(o));
}

/** The address part of a gRPC URL, as grpc-js clients want it. */
export function grpcAddress(serving: Served): string {
  return serving.url('grpc').replace(/^grpcs?:\/\//, '');
}

/** One good text + image encode through our Client; asserts both embeddings came back. */
export async function goodRequest(serving: Served, protocol: Proto, options: { credential?: string } = {}): Promise<void> {
  const client = new Client(serving.url(protocol), options.credential ? { credential: options.credential } : {});
  try {
    const docs = (await client.encode([new Document({ id: 'good-text', text: 'a good neighbour' }), new Document({ id: 'good-image', blob: SMALL_PNG })])) as Document[];
    assert.deepEqual(docs.map((d) => d.id), ['good-text', 'good-image']);
    for (const d of docs) assert.equal(d.embedding?.length, DIM, `${protocol}: ${d.id} embedding`);
  } finally {
    await client.close();
  }
}

/**
 * Runs `bad` with a good request beside it on the same server and protocol; the
 * good one must succeed whatever `bad` does. Returns what `bad` returned.
 */
export async function withNeighbour<T>(serving: Served, protocol: Proto, bad: () => Promise<T>, options: { credential?: string } = {}): Promise<T> {
  const [outcome] = await Promise.all([bad(), goodRequest(serving, protocol, options)]);
  return outcome;
}

/** A small valid image from the fixtures (a 3x5 PNG). */
export const SMALL_PNG: Uint8Array = new Uint8Array(readFileSync(packagePath('test', 'fixtures', 'images', 'tiny_3x5.png')));

/** Sleeps `ms`. */
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Memory for the load and soak tests: RSS after a full garbage collection, so what
// is compared is what the process really keeps.
setFlagsFromString('--expose-gc');
// The flag only takes effect for contexts created after it is set.
const gc = runInNewContext('gc') as () => void;

/** Resident set size in MiB after two full collections (the second frees what finalizers released). */
export async function settledRssMiB(): Promise<number> {
  gc();
  await new Promise((r) => setTimeout(r, 50));
  gc();
  return process.memoryUsage().rss / 1024 / 1024;
}
