/**
 * Typed failures of the model registry, downloader and directory resolver. Each
 * message is one line a user can act on; the CLI prints it as is.
 */
import { ClipflowError } from '../../../core/errors.js';

/** A model name that is in neither the table nor its aliases. */
export class UnknownModelError extends ClipflowError {
  constructor(
    readonly modelName: string,
    readonly suggestions: readonly string[],
  ) {
    const hint = suggestions.length > 0 ? `did you mean ${suggestions.join(' or ')}?` : 'no similar name is known';
    super('NOT_FOUND', `unknown model "${modelName}": ${hint} (\`clipflow models list\` shows them all)`);
  }
}

/** Every mirror failed for a file (network down, 404s, repeated 5xx). */
export class ModelDownloadError extends ClipflowError {
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super('UNAVAILABLE', message, options);
  }
}

/** A downloaded or cached file whose md5 differs from the table's. */
export class ChecksumMismatchError extends ClipflowError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('UNAVAILABLE', `md5 mismatch for ${file}: expected ${expected}, got ${actual}; the partial download was deleted`);
  }
}

/** A `model_path` directory that holds neither layout (or lacks facts clipflow needs). */
export class ModelDirError extends ClipflowError {
  constructor(
    message: string,
    readonly dir: string,
  ) {
    super('CONFIG_INVALID', message);
  }
}
