import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { HostTensor, SessionOptions, TensorSpec } from '../runtime.js';
import { readModelGraph } from './graph/onnx-graph.js';
import { fileSource, writePieces } from './graph/proto-fields.js';
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
 * with the reason in `pooledCut`. Not tried on TensorRT.
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
    if (!graph || !plan) return await openOnnxSession(modelPath, options);

    const full = await openOnnxSession(modelPath, options);
    const feeds = checkFeeds(full.inputs);
    let expected: Outputs;
    try {
      expected = await full.run(feeds);
    } catch (e) {
      full.pooledCut = { applied: false, reason: `the full graph failed on the check input: ${(e as Error).message}` };
      return full;
    }
    await full.release();

    const rejected = async (reason: string) => {
      const session = await openOnnxSession(modelPath, options);
      session.pooledCut = { applied: false, reason };
      return session;
    };
    let dir: string | undefined;
    let cut: OnnxSession;
    try {
      dir = await mkdtemp(join(tmpdir(), 'clipflow-cut-'));
      const cutPath = join(dir, basename(modelPath));
      writePieces(applyPooledCut(graph, plan), graph.source, cutPath);
      cut = await openOnnxSession(modelPath, options, cutPath);
    } catch (e) {
      // An unwritable $TMPDIR, a full disk or a graph ORT refuses cut: the full graph serves.
      return await rejected(`the cut graph did not load: ${(e as Error).message}`);
    } finally {
      if (dir) await rm(dir, { recursive: true, force: true });
    }
    try {
      const difference = compare(expected, await cut.run(feeds), cut.outputs);
      if (difference) {
        await cut.release();
        return await rejected(difference);
      }
    } catch (e) {
      await cut.release();
      return await rejected(`the cut graph failed on the check input: ${(e as Error).message}`);
    }
    cut.pooledCut = appliedReport(plan);
    return cut;
  } finally {
    source?.close();
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
    if (!a || !b || a.dims.join() !== b.dims.join()) return `output ${spec.name} has shape [${b?.dims}], the full graph [${a?.dims}]`;
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
