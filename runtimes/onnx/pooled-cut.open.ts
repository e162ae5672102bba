import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PACKED_INPUTS, packedFeeds, planPackedRows } from '../packed-texts.js';
import type { HostTensor, PooledCutReport, SessionOptions, TensorSpec } from '../runtime.js';
import { readModelGraph, type ModelGraph } from './graph/onnx-graph.js';
import { planPackedText } from './graph/packed-text.plan.js';
import { fileSource, writePieces, type Piece } from './graph/proto-fields.js';
import { appliedReport, planPooledCut } from './graph/pooled-cut.plan.js';
import { applyPooledCut } from './graph/pooled-cut.write.js';
import { openOnnxSession } from './onnx.open.js';
import type { OnnxSession } from './onnx.session.js';

type Outputs = Record<string, { data: Float32Array; dims: number[] }>;

/** Batch size of the check input where the batch axis is symbolic (not 1, so batching is exercised). */
const CHECK_BATCH = 2;
/** Largest relative L2 error of any output row the cut may introduce, by the graph's float type. */
const TOLERANCE = { float32: 1e-4, float16: 1e-2 } as const;

/**
 * Opens a graph cut to its pooled token (graph/pooled-cut.plan.ts, .write.ts), when one is found.
 * The cut is trusted only after it gives the full graph's outputs on a check
 * input. One graph is in memory at a time, as in a plain load: the full graph
 * loads, runs the check and is released; the cut is written to a temporary
 * file (weights copied from the model file in chunks), loaded from there and
 * run. Any doubt (a load or run failure, a difference) serves the full graph,
 * with the reason in `pooledCut`. With `packedTexts`, a text tower is first
 * tried cut and packed (graph/packed-text.plan.ts), checked on texts packed
 * into rows against the same texts padded through the full graph; if that
 * fails, the cut alone is tried, and `packing` says why. Not tried on TensorRT.
 */
export async function openPooledCut(modelPath: string, options: SessionOptions): Promise<OnnxSession> {
  // TensorRT builds an engine per session: checking a cut would build two.
  if (options.provider === 'tensorrt') return openOnnxSession(modelPath, options);
  let source: ReturnType<typeof fileSource> | undefined;
  try {
    source = fileSource(modelPath);
  } catch {
    // Unreadable: the plain load below reports it.
  }
  try {
    let graph: ReturnType<typeof readModelGraph>;
    try {
      graph = source && readModelGraph(source);
    } catch {
      graph = undefined; // Not a model we can parse: ORT gives the real error.
    }
    const plan = graph && planPooledCut(graph, true);
    if (!graph || !plan) {
      const plain = await openOnnxSession(modelPath, options);
      if (options.packedTexts) plain.packing = { applied: false, reason: 'the graph has no pooled-token pick to pack below' };
      return plain;
    }
    const packed = options.packedTexts ? planPackedText(graph, plan) : undefined;
    let packingRejected = options.packedTexts && !packed ? 'the graph is not a causal text tower clipflow can show how to pack' : undefined;

    const full = await openOnnxSession(modelPath, options);
    const feeds = checkFeeds(full.inputs);
    const packedCheck = packed && packedCheckFeeds(full.inputs);
    const report = <T extends OnnxSession>(session: T, cut: PooledCutReport, packing: boolean): T => {
      session.pooledCut = cut;
      if (options.packedTexts) session.packing = packing ? { applied: true } : { applied: false, reason: packingRejected ?? 'not packed' };
      return session;
    };
    let expected: Outputs;
    let expectedPacked: Outputs | undefined;
    try {
      expected = await full.run(feeds);
    } catch (e) {
      const reason = `the full graph failed on the check input: ${(e as Error).message}`;
      packingRejected ??= reason;
      return report(full, { applied: false, reason }, false);
    }
    if (packed && !packedCheck) packingRejected = `the text graph takes inputs packing does not know: ${full.inputs.map((i) => i.name).join(', ')}`;
    if (packedCheck) {
      try {
        expectedPacked = await full.run(packedCheck.padded);
      } catch (e) {
        packingRejected = `the full graph failed on the packing check input: ${(e as Error).message}`;
      }
    }
    await full.release();

    if (packed && packedCheck && expectedPacked) {
      const tried = await tryGraph(modelPath, options, graph, applyPooledCut(graph, plan, packed), packedCheck.packed, expectedPacked, 'packed');
      if ('session' in tried) return report(tried.session, appliedReport(plan), true);
      packingRejected = tried.reason;
    }
    const tried = await tryGraph(modelPath, options, graph, applyPooledCut(graph, plan), feeds, expected, 'cut');
    if ('session' in tried) return report(tried.session, appliedReport(plan), false);
    return report(await openOnnxSession(modelPath, options), { applied: false, reason: tried.reason }, false);
  } finally {
    source?.close();
  }
}

/**
 * Loads a rewrite of the graph from a temporary file in $TMPDIR (removed once
 * loaded) and checks it gives `expected` on `feeds`; on any failure or
 * difference, releases it and says why.
 */
async function tryGraph(modelPath: string, options: SessionOptions, graph: ModelGraph, pieces: Piece[], feeds: Record<string, HostTensor>, expected: Outputs, what: string): Promise<{ session: OnnxSession } | { reason: string }> {
  let dir: string | undefined;
  let session: OnnxSession;
  try {
    dir = await mkdtemp(join(tmpdir(), 'clipflow-cut-'));
    const path = join(dir, basename(modelPath));
    writePieces(pieces, graph.source, path);
    session = await openOnnxSession(modelPath, options, path);
  } catch (e) {
    // An unwritable $TMPDIR, a full disk or a graph ORT refuses: the caller serves another graph.
    return { reason: `the ${what} graph did not load: ${(e as Error).message}` };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
  try {
    const difference = compare(expected, await session.run(feeds), session.outputs);
    if (!difference) return { session };
    await session.release();
    return { reason: `the ${what} graph: ${difference}` };
  } catch (e) {
    await session.release();
    return { reason: `the ${what} graph failed on the check input: ${(e as Error).message}` };
  }
}

/**
 * A deterministic input with symbolic axes of {@link CHECK_BATCH}: floats spread
 * over [-1, 1); masks of 1; other integers (token ids) in [1, 76], within any
 * vocabulary or position table, so each row's largest id (where a text tower
 * pools, its EOT) falls at its own position.
 */
function checkFeeds(inputs: readonly TensorSpec[]): Record<string, HostTensor> {
  let state = 0x9e3779b9;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
  const feeds: Record<string, HostTensor> = {};
  for (const spec of inputs) {
    const dims = spec.shape.map((d) => (typeof d === 'number' && d > 0 ? d : CHECK_BATCH));
    const size = dims.reduce((a, b) => a * b, 1);
    feeds[spec.name] = spec.type.startsWith('float')
      ? { data: Float32Array.from({ length: size }, next), dims }
      : { data: /mask/i.test(spec.name) ? new Int32Array(size).fill(1) : Int32Array.from({ length: size }, () => 1 + Math.floor((next() + 1) * 38)), dims };
  }
  return feeds;
}

/** Why the cut's outputs differ from the full graph's, or undefined when they agree row by row. */
function compare(expected: Outputs, got: Outputs, specs: readonly TensorSpec[]): string | undefined {
  for (const spec of specs) {
    const a = expected[spec.name];
    const b = got[spec.name];
    if (!a || !b || a.dims.join() !== b.dims.join()) return `output ${spec.name} has shape [${b?.dims}], the full graph's [${a?.dims}]`;
    const tolerance = spec.type === 'float16' ? TOLERANCE.float16 : TOLERANCE.float32;
    const width = a.dims.at(-1) || 1;
    for (let row = 0; row < a.data.length; row += width) {
      let diff = 0;
      let norm = 0;
      for (let i = row; i < row + width; i++) {
        diff += (a.data[i]! - b.data[i]!) ** 2;
        norm += a.data[i]! ** 2;
      }
      const error = Math.sqrt(diff / (norm || 1));
      if (!(error <= tolerance)) return `output ${spec.name} differs from the full graph's (relative error ${error.toExponential(2)} in a row)`;
    }
  }
  return undefined;
}

/**
 * The packing check's texts: ids in [1, 76] ending in 77, the row's largest
 * (where the full graph pools, its EOT). All start with 76, as texts start with
 * SOT; two more share their first four tokens and one is repeated, so shared
 * prefixes are checked too. Rows are at most {@link PACKED_CHECK_ROW} long where
 * the axis is dynamic, so there are several.
 */
const PACKED_CHECK_TEXTS = [[76, 5, 9, 14, 77], [76, 5, 9, 14, 20, 33, 41, 77], [76, 2, 77], [76, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 77], [76, 5, 9, 14, 77], [76, 40, 30, 20, 10, 77]];
const PACKED_CHECK_ROW = 16;

/**
 * The check texts padded with 0 for the full graph, and packed for the packed
 * one. Undefined when the graph takes inputs besides its ids and a mask.
 */
function packedCheckFeeds(inputs: readonly TensorSpec[]): { padded: Record<string, HostTensor>; packed: Record<string, HostTensor> } | undefined {
  const ids = inputs.find((i) => i.name === 'input_ids') ?? inputs[0];
  const mask = inputs.find((i) => i !== ids && /mask/i.test(i.name));
  if (!ids || inputs.some((i) => i !== ids && i !== mask)) return undefined;
  const fixed = typeof ids.shape[1] === 'number' && ids.shape[1] > 0 ? ids.shape[1] : undefined;
  const texts = PACKED_CHECK_TEXTS.map((t) => Int32Array.from(t));
  const width = fixed ?? Math.max(...texts.map((t) => t.length));
  const paddedIds = new Int32Array(texts.length * width);
  const paddedMask = new Int32Array(texts.length * width);
  texts.forEach((t, i) => {
    paddedIds.set(t, i * width);
    paddedMask.fill(1, i * width, i * width + t.length);
  });
  const p = packedFeeds(texts, planPackedRows(texts, PACKED_CHECK_ROW, fixed));
  const padded: Record<string, HostTensor> = { [ids.name]: { data: paddedIds, dims: [texts.length, width] } };
  const packed: Record<string, HostTensor> = { [ids.name]: p.ids, [PACKED_INPUTS.positions]: p.positions, [PACKED_INPUTS.bias]: p.bias, [PACKED_INPUTS.pick]: p.pick };
  if (mask) {
    padded[mask.name] = { data: paddedMask, dims: [texts.length, width] };
    packed[mask.name] = p.mask;
  }
  return { padded, packed };
}

