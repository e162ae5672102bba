import type { Logger } from 'pino';
import { packagePath } from '../../core/config/paths.js';
import { FlowConfigError } from '../../core/errors.js';
import type { ExecutionProvider } from '../../runtimes/index.js';
import { ensureModel } from './models/ensure-model.js';
import { resolveModelDir, type ModelSpec } from './models/model-dir.js';
import { getModel } from './models/model-registry.js';
import { DEFAULT_MODEL } from './models/model-table.js';

export interface ModelRequest {
  /** clip-server model name or legacy alias; with `modelPath` only a hint for missing facts. */
  name?: string;
  /** A local folder in either layout: no download. */
  modelPath?: string;
  provider: ExecutionProvider;
  logger?: Logger;
}

/** The small model bundled in the package, served when the default cannot be had offline. */
export const OFFLINE_MODEL = 'tiny-shapes::clipflow';

export interface LoadedSpec {
  spec: ModelSpec;
  /** Set when the offline demo model stands in for the default: say it loudly everywhere. */
  warning?: string;
}

/**
 * Finds the files of the model an encoder asked for: a local `model_path`, a
 * model bundled in the package, or the download cache (downloading on first use).
 * Only when the flow names no model at all and the default can be neither found
 * in the cache nor downloaded does the bundled offline demo model stand in.
 */
export async function resolveEncoderModel(req: ModelRequest): Promise<LoadedSpec> {
  if (req.name !== undefined || req.modelPath !== undefined) return { spec: await loadModelSpec(req) };
  try {
    return { spec: await loadModelSpec({ ...req, name: DEFAULT_MODEL }) };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const warning =
      `OFFLINE DEMO MODEL: the default model ${DEFAULT_MODEL} is not cached and could not be downloaded (${reason}); ` +
      `serving the bundled ${OFFLINE_MODEL}, which only knows colored shapes. Name a model or set model_path for real use.`;
    req.logger?.warn({ model: OFFLINE_MODEL }, warning);
    return { spec: await loadModelSpec({ ...req, name: OFFLINE_MODEL }), warning };
  }
}

async function loadModelSpec(req: ModelRequest): Promise<ModelSpec> {
  if (req.modelPath) return checkTokenizer(await resolveModelDir(req.modelPath, req.name));
  const entry = getModel(req.name ?? DEFAULT_MODEL);
  if (!entry.runtimes.includes(req.provider)) {
    throw new FlowConfigError(`model ${entry.name} cannot run on "${req.provider}"; it supports: ${entry.runtimes.join(', ')}`, 'uses.with.runtime');
  }
  if (entry.source.kind === 'bundled') return checkTokenizer(await resolveModelDir(packagePath(entry.source.dir), entry.name));
  const ensured = await ensureModel(entry.name);
  return checkTokenizer(await resolveModelDir(ensured.dir, entry.name));
}

/** Multilingual (XLM-R / LaBSE) text towers need tokenizers clipflow does not implement yet. */
function checkTokenizer(spec: ModelSpec): ModelSpec {
  if (spec.tokenizer.kind !== 'clip-bpe') {
    throw new FlowConfigError(`model ${spec.name} needs the ${spec.tokenizer.kind} tokenizer, which clipflow does not support yet; use a CLIP BPE model`, 'uses.with.name');
  }
  return spec;
}
