import type { InferenceRuntime } from './runtime.js';

export type { ExecutionProvider, HostTensor, InferenceRuntime, InferenceSession, PackingReport, PooledCutReport, RunOptions, SessionOptions, TensorSpec, TensorType } from './runtime.js';
export { EXECUTION_PROVIDERS } from './runtime.js';
export { byTokens, PACKED_INPUTS, packedFeeds, planPackedRows, type PackedFeeds, type PackedLayout } from './packed-texts.js';
export { ProviderUnavailableError, ModelLoadError } from './errors.js';

let onnx: Promise<InferenceRuntime> | undefined;

/**
 * The inference runtime by name. Loaded lazily so processes that never run a model
 * (gateways, clients, CLI tools) never load the native ORT binding.
 */
export function inferenceRuntime(name = 'onnx'): Promise<InferenceRuntime> {
  if (name !== 'onnx') throw new TypeError(`unknown inference runtime "${name}"; known: onnx`);
  onnx ??= import('./onnx/onnx.runtime.js').then((m) => new m.OnnxRuntime());
  return onnx;
}
