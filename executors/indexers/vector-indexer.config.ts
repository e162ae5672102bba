import { isAbsolute, resolve } from 'node:path';
import { BadRequestError, FlowConfigError } from '../../core/errors.js';
import { INDEX_BACKENDS, type AnnIndexOptions, type IndexBackendName } from './index-backend.js';

/** The VectorIndexer's `with:` arguments, validated. */
export interface IndexerSettings {
  backend: IndexBackendName;
  /** Absolute folder, or undefined (memory backend only: nothing persisted). */
  workspace: string | undefined;
  table: string;
  metric: 'cosine';
  /** lancedb: build an ANN index once the table has `minRows` rows. */
  ann: (AnnIndexOptions & { minRows: number }) | undefined;
  compactBytes: number | undefined;
  optimizeEvery: number | undefined;
  /** `with:` keys this executor does not use (e.g. `model_path` that `--model-path` adds to every executor). */
  ignored: string[];
}

const KNOWN = new Set(['backend', 'workspace', 'table', 'metric', 'ann', 'compact_bytes', 'optimize_every']);
const METRICS = ['cosine'];
/** Below this many rows LanceDB's IVF_PQ training has too little data to be useful. */
const DEFAULT_ANN_MIN_ROWS = 10_000;

const at = (key: string) => `uses.with.${key}`;

/**
 * Validates `with:`. The workspace is `with.workspace` when given (relative to the
 * working directory), else the executor's `workspace:` from flow.yml.
 * @throws FlowConfigError naming the key.
 */
export function parseIndexerArgs(args: Record<string, unknown>, contextWorkspace: string | undefined): IndexerSettings {
  const backend = String(args.backend ?? 'lancedb').toLowerCase();
  if (!(INDEX_BACKENDS as readonly string[]).includes(backend)) {
    throw new FlowConfigError(`unknown backend "${String(args.backend)}"; known backends: ${INDEX_BACKENDS.join(', ')}`, at('backend'));
  }
  const metric = String(args.metric ?? 'cosine').toLowerCase();
  if (!METRICS.includes(metric)) throw new FlowConfigError(`unsupported metric "${String(args.metric)}"; supported: ${METRICS.join(', ')}`, at('metric'));
  const table = String(args.table ?? 'docs');
  // The table name becomes a file name in the workspace.
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(table)) throw new FlowConfigError(`"${table}" is not a valid table name (letters, digits, _ . -)`, at('table'));
  let workspace = contextWorkspace;
  if (args.workspace !== undefined && args.workspace !== null && args.workspace !== '') {
    if (typeof args.workspace !== 'string') throw new FlowConfigError('must be a folder path', at('workspace'));
    workspace = isAbsolute(args.workspace) ? args.workspace : resolve(args.workspace);
  }
  if (backend === 'lancedb' && !workspace) {
    throw new FlowConfigError('lancedb needs a workspace: set `workspace:` on the executor in flow.yml (or with: { workspace }), or use backend: memory', at('backend'));
  }
  let ann: IndexerSettings['ann'];
  if (args.ann !== undefined && args.ann !== false && args.ann !== null) {
    if (backend !== 'lancedb') throw new FlowConfigError('ANN indexes need backend: lancedb (the memory backend is always exact)', at('ann'));
    const spec = args.ann === true ? {} : args.ann;
    if (typeof spec !== 'object' || Array.isArray(spec)) throw new FlowConfigError('expected true or { type, num_partitions, num_sub_vectors, min_rows }', at('ann'));
    const s = spec as Record<string, unknown>;
    ann = { ...annOptions(s, at('ann')), minRows: configInt(s.min_rows, at('ann.min_rows')) ?? DEFAULT_ANN_MIN_ROWS };
  }
  return {
    backend: backend as IndexBackendName,
    workspace,
    table,
    metric: 'cosine',
    ann,
    compactBytes: configInt(args.compact_bytes, at('compact_bytes')),
    optimizeEvery: configInt(args.optimize_every, at('optimize_every')),
    ignored: Object.keys(args).filter((k) => !KNOWN.has(k)),
  };
}

/**
 * ANN options from flow.yml (`ann:`) or `/build_index` parameters: `type`
 * (IVF_PQ | IVF_FLAT, default IVF_PQ), `num_partitions`, `num_sub_vectors`.
 */
export function annOptions(p: Record<string, unknown>, where: string): AnnIndexOptions {
  const fromYaml = where.startsWith('uses.');
  const int = (key: string) => (fromYaml ? configInt(p[key], `${where}.${key}`) : positiveIntParam(p[key], key));
  const type = String(p.type ?? p.index_type ?? 'IVF_PQ').toUpperCase();
  if (type !== 'IVF_PQ' && type !== 'IVF_FLAT') {
    const message = `unknown ANN index type "${String(p.type ?? p.index_type)}"; known: IVF_PQ, IVF_FLAT`;
    throw fromYaml ? new FlowConfigError(message, `${where}.type`) : new BadRequestError(`parameters.type: ${message}`);
  }
  const options: AnnIndexOptions = { type };
  const numPartitions = int('num_partitions');
  const numSubVectors = int('num_sub_vectors');
  if (numPartitions) options.numPartitions = numPartitions;
  if (numSubVectors) options.numSubVectors = numSubVectors;
  return options;
}

/** A positive integer request parameter, or undefined when absent; anything else is the caller's error. */
export function positiveIntParam(v: unknown, key: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new BadRequestError(`parameters.${key}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function configInt(v: unknown, path: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new FlowConfigError(`must be a positive integer, got ${JSON.stringify(v)}`, path);
  return v;
}
