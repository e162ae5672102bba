import { dirname } from 'node:path';
import { dump, load } from 'js-yaml';
import { FlowConfigError, errorMessage } from '../errors.js';
import type { FlowConfig } from '../flow/config.js';
import { parseFlow, readFlowText } from '../flow/load.js';

/** Kubernetes-style compute resources of one executor (`resources:` in its flow.yml entry). */
export interface ResourceSpec {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** A flow file as the exporters read it. */
export interface ExportSource {
  file: string;
  /** The validated flow (what `clipflow serve` would run). */
  config: FlowConfig;
  /** The YAML document, minus the deploy-only keys below: what the workers load. */
  raw: Record<string, unknown>;
  /** `resources:` per executor name. */
  resources: Map<string, ResourceSpec>;
  /** `gpus:` per executor name, as written (Jina's syntax: a count, `all`, or `device=0,1`). */
  gpus: Map<string, unknown>;
}

/** Keys of an executor entry that only deployment reads; the flow loader doesn't know them. */
const DEPLOY_ONLY_KEYS = ['resources'] as const;

/**
 * Reads a flow file for export. `resources:` (Kubernetes requests/limits, or a
 * flat `{cpu, memory}` taken as requests) is read from the raw YAML and
 * removed before the flow is validated, because the flow schema rejects keys
 * it does not know; the rest is validated exactly as `clipflow serve` would.
 * @throws FlowConfigError naming the file and key path.
 */
export async function readExportSource(file: string): Promise<ExportSource> {
  const { abs, text } = await readFlowText(file);
  let doc: unknown;
  try {
    doc = load(text, { filename: abs });
  } catch (e) {
    throw new FlowConfigError(`invalid YAML in ${abs}: ${errorMessage(e)}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new FlowConfigError(`expected a mapping with jtype: Flow (in ${abs})`);
  const raw = structuredClone(doc) as Record<string, unknown>;
  const resources = new Map<string, ResourceSpec>();
  const gpus = new Map<string, unknown>();
  const entries = Array.isArray(raw.executors) ? (raw.executors as Record<string, unknown>[]) : [];
  entries.forEach((e, i) => {
    if (!e || typeof e !== 'object') return;
    const name = typeof e.name === 'string' ? e.name : `executor${i}`;
    if (e.resources != null) resources.set(name, resourceSpec(e.resources, `executors[${i}].resources`));
    if (e.gpus != null) gpus.set(name, e.gpus);
    for (const key of DEPLOY_ONLY_KEYS) delete e[key];
  });
  const config = parseFlow(dump(raw, { lineWidth: -1, noRefs: true }), dirname(abs), {}, abs);
  return { file: abs, config, raw, resources, gpus };
}

function quantities(value: unknown, at: string): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new FlowConfigError('expected a mapping of resource quantities', at);
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => {
      if (typeof v !== 'string' && typeof v !== 'number') throw new FlowConfigError(`expected a quantity such as 2, 500m or 4Gi, got ${JSON.stringify(v)}`, `${at}.${k}`);
      return [k, String(v)];
    }),
  );
}

/** `{requests, limits}` as written, or a flat map of quantities taken as requests. */
function resourceSpec(value: unknown, at: string): ResourceSpec {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new FlowConfigError('expected a mapping (requests/limits, or cpu/memory)', at);
  const v = value as Record<string, unknown>;
  if ('requests' in v || 'limits' in v) {
    const unknown = Object.keys(v).filter((k) => k !== 'requests' && k !== 'limits');
    if (unknown.length) throw new FlowConfigError(`unknown key '${unknown[0]}'; use requests and limits`, at);
    return {
      ...(v.requests != null ? { requests: quantities(v.requests, `${at}.requests`) } : {}),
      ...(v.limits != null ? { limits: quantities(v.limits, `${at}.limits`) } : {}),
    };
  }
  return { requests: quantities(v, at) };
}

/**
 * GPUs an executor needs: Jina's `gpus:` (a count, `all` = 1, `device=0,1` =
 * the devices listed), and at least one when its encoder runs on cuda or
 * tensorrt (`with: { runtime }`).
 */
export function gpuCount(gpus: unknown, runtime: unknown): number {
  let n = 0;
  if (typeof gpus === 'number' && Number.isFinite(gpus)) n = Math.max(0, Math.floor(gpus));
  else if (typeof gpus === 'string') {
    const s = gpus.trim().toLowerCase();
    if (s === 'all') n = 1;
    else if (/^\d+$/.test(s)) n = Number(s);
    else if (s.startsWith('device=')) n = s.slice(7).split(',').filter(Boolean).length;
  }
  if (n === 0 && (runtime === 'cuda' || runtime === 'tensorrt')) n = 1;
  return n;
}
