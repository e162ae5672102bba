import { z } from 'zod';
import { FlowConfigError } from '../errors.js';
import type { Protocol } from './config.js';

// zod schemas for a raw flow.yml (Jina 3 syntax): shapes and types only; cross-field
// rules (needs, port pairing, external) live in load.ts. Objects are strict so a typo is
// reported with its key path instead of being silently dropped.

// YAML leaves `key:` with no value as null; treat that like an absent key.
const opt = <T extends z.ZodType>(s: T) => s.nullish();

/** Accepts one value or a list of them (Jina allows both for port, protocol, needs...). */
const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v == null || Array.isArray(v) ? v : [v]), z.array(item).min(1));

/** Maps accepted protocol spellings (`GRPC`, `ws`, ...) to ours; undefined when unknown. */
export function normalizeProtocol(v: unknown): Protocol | undefined {
  if (typeof v !== 'string') return undefined;
  const p = v.trim().toLowerCase();
  if (p === 'ws') return 'websocket';
  return p === 'grpc' || p === 'http' || p === 'websocket' ? p : undefined;
}

const protocol = z.preprocess((v) => normalizeProtocol(v) ?? v, z.enum(['grpc', 'http', 'websocket']));

// Quoted ports (e.g. from `'${{ ENV.PORT }}'`) are still ports.
const port = z.preprocess((v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v), z.int().min(0).max(65535));

// YAML turns `CUDA_VISIBLE_DEVICES: 0` into a number, so env scalars are stringified later.
const envMap = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));
const freeMap = z.record(z.string(), z.unknown());
const requestsMap = z.record(z.string(), z.string().min(1));
const polling = z.preprocess((v) => (typeof v === 'string' ? v.trim().toUpperCase() : v), z.enum(['ANY', 'ALL']));
// Jina's -1 / null mean "no timeout"; load.ts maps them to undefined.
const millis = z.number().min(-1);

// One shared instance so shapeAt() callers can tell accepted-but-ignored keys apart.
const IGNORED = z.unknown().optional();

/** Shape entries for Jina keys we accept for compatibility but do not act on. */
function ignoredKeys<K extends string>(keys: readonly K[]): Record<K, typeof IGNORED> {
  return Object.fromEntries(keys.map((k) => [k, IGNORED])) as Record<K, typeof IGNORED>;
}

const GATEWAY_IGNORED = [
  'monitoring', 'port_monitoring', 'tracing', 'traces_exporter_host', 'traces_exporter_port', 'metrics',
  'metrics_exporter_host', 'metrics_exporter_port', 'log_config', 'uvicorn_kwargs', 'grpc_server_options',
  'expose_endpoints', 'timeout_ready', 'reload', 'quiet', 'quiet_error',
] as const;

/** `with:` / `gateway:` — the gateway and flow-wide settings. */
export const gatewaySettingsSchema = z.strictObject({
  port: opt(oneOrMany(port)),
  protocol: opt(oneOrMany(protocol)),
  host: opt(z.string().min(1)),
  name: opt(z.string().min(1)),
  title: opt(z.string()),
  description: opt(z.string()),
  cors: opt(z.boolean()),
  prefetch: opt(z.int().min(0)),
  // Jina spells gRPC compression as Gzip / Deflate / NoCompression.
  compression: opt(
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
      z.union([z.boolean(), z.enum(['gzip', 'deflate', 'none', 'nocompression'])]),
    ),
  ),
  max_message_size: opt(z.int().min(1)),
  timeout: opt(millis),
  tls: opt(z.strictObject({ cert: z.string().min(1), key: z.string().min(1) })),
  ssl_certfile: opt(z.string().min(1)),
  ssl_keyfile: opt(z.string().min(1)),
  no_debug_endpoints: opt(z.boolean()),
  no_crud_endpoints: opt(z.boolean()),
  env: opt(envMap),
  timeout_send: opt(millis),
  retries: opt(z.int().min(-1)),
  max_docs_per_request: opt(z.int().min(1)),
  max_text_chars: opt(z.int().min(1)),
  auth_token: opt(z.string()),
  auth_open_paths: opt(z.array(z.string().min(1))),
  shutdown_grace_ms: opt(z.int().min(0)),
  liveness_stuck_ms: opt(z.int().min(1)),
  ...ignoredKeys(GATEWAY_IGNORED),
});

const metasSchema = z.looseObject({
  py_modules: opt(oneOrMany(z.string())),
  modules: opt(oneOrMany(z.string().min(1))),
});

const usesObject = z.strictObject({
  jtype: z.string().min(1),
  with: opt(freeMap),
  metas: opt(metasSchema),
  requests: opt(requestsMap),
});

const dynamicBatching = z.strictObject({
  preferred_batch_size: z.int().min(1),
  timeout: opt(z.number().min(0)),
  flush_all: opt(z.boolean()),
  // clipflow's: full batches started ahead while the replicas are busy (see @dynamicBatching).
  lookahead: opt(z.int().min(0)),
});

const EXECUTOR_IGNORED = [
  'timeout_ready', 'gpus', 'monitoring', 'port_monitoring', 'exit_on_exceptions', 'reload',
  'install_requirements', 'force_update', 'quiet', 'quiet_error', 'log_config', 'grpc_server_options',
  'output_array_type', 'disable_reduce', 'no_reduce', 'upload_files', 'tracing',
  'traces_exporter_host', 'traces_exporter_port', 'metrics', 'metrics_exporter_host', 'metrics_exporter_port',
  'raft_configuration', 'peer_ports',
  // Read by `clipflow export` for Kubernetes / docker-compose; nothing to do when serving in one process.
  'resources',
] as const;

/**
 * Ignored keys that change what a flow does in Jina; load.ts warns when they are
 * set so nobody believes they took effect.
 */
export const EXECUTOR_IGNORED_WITH_WARNING = ['py_modules', 'floating', 'when', 'uses_before', 'uses_after', 'stateful'] as const;

/** One entry of `executors:`. */
export const executorSchema = z.strictObject({
  name: opt(z.string().min(1)),
  // `uses: ClipEncoder` is shorthand for `uses: {jtype: ClipEncoder}`.
  uses: z.preprocess((v) => (typeof v === 'string' && v.trim() ? { jtype: v.trim() } : v), usesObject),
  uses_with: opt(freeMap),
  uses_metas: opt(metasSchema),
  uses_requests: opt(requestsMap),
  uses_dynamic_batching: opt(z.record(z.string(), dynamicBatching)),
  replicas: opt(z.int().min(1)),
  shards: opt(z.int().min(1)),
  needs: opt(oneOrMany(z.string().min(1))),
  workspace: opt(z.string().min(1)),
  env: opt(envMap),
  polling: opt(z.union([polling, z.record(z.string(), polling)])),
  external: opt(z.boolean()),
  // External replicas on several machines: a list, or one string with commas.
  host: opt(z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])),
  port: opt(oneOrMany(port)),
  tls: opt(z.boolean()),
  timeout_send: opt(millis),
  retries: opt(z.int().min(-1)),
  ...ignoredKeys(EXECUTOR_IGNORED_WITH_WARNING),
  ...ignoredKeys(EXECUTOR_IGNORED),
});

/** The whole document. */
export const flowSchema = z.strictObject({
  jtype: opt(z.literal('Flow')),
  version: opt(z.union([z.string(), z.number()])),
  with: opt(gatewaySettingsSchema),
  gateway: opt(gatewaySettingsSchema),
  executors: opt(z.array(executorSchema)),
});

export type RawFlow = z.output<typeof flowSchema>;
export type RawGatewaySettings = z.output<typeof gatewaySettingsSchema>;
export type RawExecutor = z.output<typeof executorSchema>;
export type RawMetas = z.output<typeof metasSchema>;

/**
 * Validates a parsed YAML document against {@link flowSchema}.
 * @throws FlowConfigError naming the first offending key path (e.g. `executors[0].uses.wiht`).
 */
export function parseRawFlow(doc: unknown): RawFlow {
  const result = flowSchema.safeParse(doc);
  if (result.success) return result.data;
  const issues = result.error.issues;
  // A misspelt key usually also leaves a required one missing; the typo is the real cause.
  const first = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const { path, message } = describeIssue(first, [], doc);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new FlowConfigError(message + more, path || undefined);
}

/** Formats a key path the way Jina users write it: `executors[1].uses.with`, `polling["/index"]`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

type Issue = z.core.$ZodIssue;

/**
 * Turns one zod issue into a path + message. Paths are re-walked over the raw
 * document so list indices that oneOrMany() added to a scalar don't show up.
 */
function describeIssue(issue: Issue, prefix: PropertyKey[], doc: unknown): { path: string; message: string } {
  const zodPath = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union') return describeUnion(issue, zodPath, doc);
  const { segments, value } = walk(doc, zodPath);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const shape = shapeAt(zodPath);
      const used = Object.keys(shape).filter((k) => shape[k] !== IGNORED);
      const ignored = Object.keys(shape).length - used.length;
      const key = issue.keys[0]!;
      const hint = closest(key, Object.keys(shape));
      const others = issue.keys.length > 1 ? ` (also unknown: ${issue.keys.slice(1).join(', ')})` : '';
      const tail = ignored ? ` (plus ${ignored} Jina keys accepted and ignored)` : '';
      return {
        path: formatPath([...segments, key]),
        message: `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; known keys: ${used.join(', ')}${tail}${others}`,
      };
    }
    case 'invalid_type': {
      const message = value === undefined ? 'required' : `expected ${typeName(issue.expected)}, got ${show(value)}`;
      return { path: formatPath(segments), message };
    }
    case 'invalid_value':
      return { path: formatPath(segments), message: `expected one of ${issue.values.map((v) => show(v)).join(', ')}, got ${show(value)}` };
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what = issue.origin === 'array' ? 'number of items' : issue.origin === 'string' ? 'length' : 'value';
      return { path: formatPath(segments), message: `${what} must be ${op} ${String(bound)}, got ${show(value)}` };
    }
    default:
      return { path: formatPath(segments), message: issue.message };
  }
}

/**
 * A union failed in every branch. Report the branch that got past the type
 * check (the user meant that shape); if none did, list the expected types.
 */
function describeUnion(issue: Extract<Issue, { code: 'invalid_union' }>, zodPath: PropertyKey[], doc: unknown) {
  const deep = issue.errors.find((branch) => branch.some((i) => i.path.length > 0 || i.code === 'invalid_union'));
  if (deep) return describeIssue(deep[0]!, zodPath, doc);
  const { segments, value } = walk(doc, zodPath);
  const expected = issue.errors.map((branch) => {
    const first = branch[0];
    if (first?.code === 'invalid_type') return typeName(first.expected);
    if (first?.code === 'invalid_value') return `one of ${first.values.map((v) => show(v)).join(', ')}`;
    return first?.message ?? 'something else';
  });
  return { path: formatPath(segments), message: `expected ${expected.join(' or ')}, got ${show(value)}` };
}

/** Follows a zod path through the raw document, skipping indices that only exist after oneOrMany(). */
function walk(doc: unknown, zodPath: PropertyKey[]): { segments: (string | number)[]; value: unknown } {
  const segments: (string | number)[] = [];
  let value = doc;
  for (const seg of zodPath) {
    if (typeof seg === 'number' && !Array.isArray(value)) continue;
    segments.push(typeof seg === 'number' ? seg : String(seg));
    value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
  }
  return { segments, value };
}

/** The shape of the object schema at `zodPath` (for "known keys" hints); empty when none. */
function shapeAt(zodPath: PropertyKey[]): Record<string, z.ZodType> {
  const unwrap = (t: z.ZodType): z.ZodType => {
    if (t instanceof z.ZodOptional || t instanceof z.ZodNullable) return unwrap(t.unwrap() as z.ZodType);
    if (t instanceof z.ZodPipe) return unwrap(t.out as z.ZodType);
    if (t instanceof z.ZodUnion) return unwrap((t.options as z.ZodType[]).find((o) => unwrap(o) instanceof z.ZodObject) ?? t);
    return t;
  };
  let s: z.ZodType | undefined = flowSchema;
  for (const seg of zodPath) {
    const t: z.ZodType = unwrap(s);
    if (t instanceof z.ZodObject) s = (t.shape as Record<string, z.ZodType>)[String(seg)];
    else if (t instanceof z.ZodArray) s = t.element as z.ZodType;
    else if (t instanceof z.ZodRecord) s = t.valueType as z.ZodType;
    else return {};
    if (!s) return {};
  }
  const t = unwrap(s);
  return t instanceof z.ZodObject ? (t.shape as Record<string, z.ZodType>) : {};
}

function typeName(expected: string): string {
  return expected === 'int' ? 'an integer' : expected === 'object' || expected === 'record' ? 'a mapping' : expected === 'array' ? 'a list' : `a ${expected}`;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return v === null ? 'null' : 'nothing';
  if (typeof v === 'object') return Array.isArray(v) ? 'a list' : 'a mapping';
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Nearest known key by edit distance, for typos like `wiht` -> `with`. */
function closest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
