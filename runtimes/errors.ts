import { ClipflowError } from '../core/errors.js';
import type { ExecutionProvider } from './runtime.js';

/** A requested execution provider cannot run here; the message says how to get it. Fatal at start-up. */
export class ProviderUnavailableError extends ClipflowError {
  constructor(readonly provider: ExecutionProvider, readonly reason: string) {
    super('UNAVAILABLE', `runtime "${provider}" is not available: ${reason}`);
  }
}

/** A model file that cannot be loaded (missing, corrupt, unsupported ops). */
export class ModelLoadError extends ClipflowError {
  constructor(readonly path: string, readonly reason: string) {
    super('UNAVAILABLE', `cannot load model ${path}: ${reason}`);
  }
}
