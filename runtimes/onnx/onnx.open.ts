import * as ort from 'onnxruntime-node';
import { physicalCores } from '../../core/config/cpu.js';
import { ModelLoadError, ProviderUnavailableError } from '../errors.js';
import type { ExecutionProvider, SessionOptions } from '../runtime.js';
import { OnnxSession } from './onnx.session.js';

/**
 * Creates the ORT session for one graph on the calling thread, mapping failures
 * to our typed errors. `loadFrom` is a rewritten copy to load instead; errors
 * still name `modelPath`.
 */
export async function openOnnxSession(modelPath: string, options: SessionOptions, loadFrom = modelPath): Promise<OnnxSession> {
  const { provider } = options;
  try {
    return new OnnxSession(await ort.InferenceSession.create(loadFrom, ortSessionOptions(options)), provider);
  } catch (e) {
    const message = (e as Error).message;
    if (provider !== 'cpu') throw new ProviderUnavailableError(provider, `session creation failed: ${lastSentence(message)}`);
    throw new ModelLoadError(modelPath, message);
  }
}

/**
 * ORT's options for our settings. Intra-op threads default to physical cores over
 * replicas, so the replicas of one executor never oversubscribe the cores; one
 * inter-op thread, since a CLIP graph is one sequential chain.
 */
export function ortSessionOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  const replicas = Math.max(1, options.replicas ?? 1);
  return {
    executionProviders: [providerConfig(options.provider, options.deviceId)],
    intraOpNumThreads: options.intraOpThreads ?? Math.max(1, Math.floor(physicalCores() / replicas)),
    interOpNumThreads: options.interOpThreads ?? 1,
    graphOptimizationLevel: options.graphOptimization ?? 'all',
    executionMode: 'sequential',
  };
}

function providerConfig(provider: ExecutionProvider, deviceId = 0): ort.InferenceSession.ExecutionProviderConfig {
  switch (provider) {
    case 'cuda':
      return { name: 'cuda', deviceId };
    case 'tensorrt':
      return { name: 'tensorrt', deviceId } as ort.InferenceSession.ExecutionProviderConfig;
    case 'webgpu':
      return { name: 'webgpu' };
    default:
      return 'cpu';
  }
}

/** ORT errors start with a source location and an assertion; the useful part is the end. */
function lastSentence(message: string): string {
  const parts = message.split(/(?<=[.!])\s+|\n/).map((p) => p.trim()).filter(Boolean);
  return parts.slice(-1)[0] ?? message;
}
