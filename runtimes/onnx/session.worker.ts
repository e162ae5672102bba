/**
 * The thread an ORT session lives on. onnxruntime-node's `run` blocks the thread
 * that calls it for the whole inference, so on the main thread it would stall
 * every socket, timer and image decode for seconds per batch. Here it blocks only
 * this worker; the main thread keeps preparing the next batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ModelLoadError, ProviderUnavailableError } from '../errors.js';
import { openOnnxSession } from './onnx.open.js';
import { openPooledCut } from './pooled-cut.open.js';
import type { OnnxSession } from './onnx.session.js';
import type { SessionFailure, ToSession, WorkerInit } from './worker.session.js';

const port = parentPort!;
const { modelPath, options } = workerData as WorkerInit;

function failure(e: unknown): SessionFailure {
  if (e instanceof ProviderUnavailableError) return { kind: 'provider', provider: e.provider, reason: e.reason };
  if (e instanceof ModelLoadError) return { kind: 'load', path: e.path, reason: e.reason };
  return { kind: 'error', message: e instanceof Error ? e.message : String(e) };
}

async function serve(session: OnnxSession, msg: ToSession): Promise<void> {
  if (msg.type === 'release') {
    await session.release();
    port.postMessage({ type: 'released' });
    port.close();
    return;
  }
  try {
    const outputs = await session.run(msg.feeds, msg.outputNames);
    // Outputs move to the main thread without a copy.
    const buffers = [...new Set(Object.values(outputs).map((o) => o.data.buffer))] as ArrayBuffer[];
    port.postMessage({ type: 'result', id: msg.id, outputs }, buffers);
  } catch (e) {
    port.postMessage({ type: 'run-failed', id: msg.id, error: failure(e) });
  }
}

try {
  const session = options.pooledOutputsOnly ? await openPooledCut(modelPath, options) : await openOnnxSession(modelPath, options);
  // One message at a time, in order: a release waits for the runs sent before it.
  let chain = Promise.resolve();
  port.on('message', (msg: ToSession) => {
    chain = chain.then(() => serve(session, msg));
  });
  port.postMessage({ type: 'ready', inputs: session.inputs, outputs: session.outputs, provider: session.provider, pooledCut: session.pooledCut, packing: session.packing });
} catch (e) {
  port.postMessage({ type: 'open-failed', error: failure(e) });
}
