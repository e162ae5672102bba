import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { load as parseYaml, YAMLException } from 'js-yaml';
import { FlowConfigError, errorMessage } from '../errors.js';
import {
  DEFAULT_AUTH_OPEN_PATHS, DEFAULT_MAX_DOCS_PER_REQUEST, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_MAX_TEXT_CHARS, DEFAULT_PORT,
  DEFAULT_SHUTDOWN_GRACE_MS,
  type ExecutorConfig, type FlowConfig, type GatewayConfig, type Protocol, type UsesConfig,
} from './config.js';
import {
  EXECUTOR_IGNORED_WITH_WARNING, normalizeProtocol, parseRawFlow,
  type RawExecutor, type RawFlow, type RawGatewaySettings, type RawMetas,
} from './schema.js';

/** CLI flags that win over the flow file. */
export interface FlowOverrides {
  /** One per protocol, paired in order (`--port`). */
  port?: number[];
  /** `--protocol`; several allowed. */
  protocol?: Protocol[];
  host?: string;
  /** Sets every non-external executor's replicas. */
  replicas?: number;
  /** Merged into every executor's `uses.with`, e.g. `{name, model_path, runtime}` from `--model`, `--model-path`, `--runtime`. */
  executorWith?: Record<string, unknown>;
}

const GATEWAY = 'gateway';

/**
 * Reads and validates a flow.yml; relative paths in it resolve against its folder.
 * @throws FlowConfigError (with the key path) when the file is unreadable or invalid.
 */
export async function loadFlowFile(file: string, overrides?: FlowOverrides): Promise<FlowConfig> {
  const { abs, text } = await readFlowText(file);
  return parseFlow(text, dirname(abs), overrides, abs);
}

/** A flow file's absolute path and text; an unreadable file is a FlowConfigError naming it. */
export async function readFlowText(file: string): Promise<{ abs: string; text: string }> {
  const abs = resolve(file);
  try {
    return { abs, text: await readFile(abs, 'utf8') };
  } catch (e) {
    throw new FlowConfigError(`cannot read flow file ${abs}: ${errorMessage(e)}`);
  }
}

/**
 * Parses flow.yml text (Jina 3 syntax) into a deeply frozen {@link FlowConfig}.
 * `${{ ENV.VAR }}` is substituted from process.env before YAML parsing.
 * @param baseDir folder that relative paths (workspace, metas.modules, tls) resolve against.
 * @param source the file the text came from; named in error messages.
 * @throws FlowConfigError naming the offending key path.
 */
export function parseFlow(yamlText: string, baseDir: string, overrides: FlowOverrides = {}, source?: string): FlowConfig {
  try {
    const raw = parseRawFlow(readDocument(substituteEnv(yamlText), source));
    if (raw.version != null && String(raw.version) !== '1') {
      throw new FlowConfigError(`unsupported version '${raw.version}'; only '1' is supported`, 'version');
    }
    const dir = resolve(baseDir);
    const settings: RawGatewaySettings = { ...raw.with, ...withoutNulls(raw.gateway ?? {}) };
    // Errors about a gateway key name the section it really came from.
    const where = (key: keyof RawGatewaySettings) => (raw.gateway?.[key] != null ? `gateway.${key}` : `with.${key}`);
    const gateway = buildGateway(settings, where, dir, overrides);
    const warnings: string[] = [];
    const executors = buildExecutors(raw, settings, dir, overrides, warnings);
    checkNeeds(executors);
    const name = settings.name ?? (source ? basename(source, extname(source)) : 'flow');
    return deepFreeze({ name, gateway, executors, baseDir: dir, ...(source ? { source } : {}), warnings });
  } catch (e) {
    if (!(e instanceof FlowConfigError) || !source) throw e;
    const bare = e.path ? e.message.slice(e.path.length + 2) : e.message;
    throw new FlowConfigError(`${bare} (in ${source})`, e.path);
  }
}

const ENV_REF = /\$\{\{\s*(?:ENV|env)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Jina's `${{ ENV.VAR }}`, textually, so it works in any scalar (numbers included). */
function substituteEnv(text: string): string {
  return text
    .split('\n')
    .map((line, i) =>
      // A commented-out line must not demand its variables.
      /^\s*#/.test(line)
        ? line
        : line.replace(ENV_REF, (ref: string, name: string) => {
            const value = process.env[name];
            if (value === undefined) throw new FlowConfigError(`environment variable ${name} is not set (${ref} on line ${i + 1})`);
            return value;
          }),
    )
    .join('\n');
}

function readDocument(text: string, source?: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text, source ? { filename: source } : {});
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    throw new FlowConfigError(`invalid YAML at line ${e.mark.line + 1}, column ${e.mark.column + 1}: ${e.reason}`);
  }
  if (doc == null) throw new FlowConfigError('the flow is empty; expected a mapping with jtype: Flow');
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new FlowConfigError(`expected a mapping at the top level, got ${Array.isArray(doc) ? 'a list' : typeof doc}`);
  }
  return doc as Record<string, unknown>;
}

function buildGateway(
  s: RawGatewaySettings,
  where: (key: keyof RawGatewaySettings) => string,
  dir: string,
  o: FlowOverrides,
): GatewayConfig {
  const { protocols, ports } = pairPorts(s, where, o);
  if (o.host !== undefined && !String(o.host).trim()) throw new FlowConfigError('must be a host name or address', '--host');
  if (s.tls && (s.ssl_certfile || s.ssl_keyfile)) {
    throw new FlowConfigError('give either tls or ssl_certfile/ssl_keyfile, not both', where(s.ssl_certfile ? 'ssl_certfile' : 'ssl_keyfile'));
  }
  if (!s.tls && !s.ssl_certfile !== !s.ssl_keyfile) {
    throw new FlowConfigError('ssl_certfile and ssl_keyfile go together', where(s.ssl_certfile ? 'ssl_keyfile' : 'ssl_certfile'));
  }
  const cert = s.tls?.cert ?? s.ssl_certfile;
  const key = s.tls?.key ?? s.ssl_keyfile;
  return {
    host: o.host ?? s.host ?? '0.0.0.0',
    ports,
    protocols,
    name: s.name ?? GATEWAY,
    ...(s.title != null ? { title: s.title } : {}),
    ...(s.description != null ? { description: s.description } : {}),
    cors: s.cors ?? false,
    maxMessageSize: s.max_message_size ?? DEFAULT_MAX_MESSAGE_SIZE,
    ...(cert && key ? { tls: { cert: resolve(dir, cert), key: resolve(dir, key) } } : {}),
    compression: s.compression === true || s.compression === 'gzip' || s.compression === 'deflate',
    prefetch: s.prefetch ?? 0,
    noDebugEndpoints: s.no_debug_endpoints ?? false,
    noCrudEndpoints: s.no_crud_endpoints ?? false,
    env: stringify(s.env),
    ...(s.timeout != null && s.timeout > 0 ? { timeout: s.timeout } : {}),
    maxDocsPerRequest: s.max_docs_per_request ?? DEFAULT_MAX_DOCS_PER_REQUEST,
    maxTextChars: s.max_text_chars ?? DEFAULT_MAX_TEXT_CHARS,
    ...authSettings(s, where),
    shutdownGraceMs: s.shutdown_grace_ms ?? DEFAULT_SHUTDOWN_GRACE_MS,
    ...(s.liveness_stuck_ms != null ? { livenessStuckMs: s.liveness_stuck_ms } : {}),
  };
}

/**
 * The token comes from `auth_token` or, when the file sets none, from
 * CLIPFLOW_AUTH_TOKEN (so it need not be written into a flow file). An empty
 * token would accept an empty header: refuse it rather than silently open the gateway.
 */
function authSettings(s: RawGatewaySettings, where: (key: keyof RawGatewaySettings) => string): Pick<GatewayConfig, 'authToken' | 'authOpenPaths'> {
  // An empty variable is an unset one (`CLIPFLOW_AUTH_TOKEN= clipflow serve`).
  const token = s.auth_token ?? (process.env.CLIPFLOW_AUTH_TOKEN || undefined);
  if (token !== undefined && token.trim() === '') throw new FlowConfigError('must not be empty (leave it out to serve without auth)', where('auth_token'));
  return { ...(token !== undefined ? { authToken: token } : {}), authOpenPaths: [...(s.auth_open_paths ?? DEFAULT_AUTH_OPEN_PATHS)] };
}

/**
 * Pairs protocols with ports in order. Without any port, protocol i gets
 * 51000 + i; when `--protocol` changes the count, ports count up from the
 * file's first port. Port 0 ("any free port") may repeat.
 */
function pairPorts(s: RawGatewaySettings, where: (key: 'port' | 'protocol') => string, o: FlowOverrides) {
  let protocols: Protocol[] = s.protocol ?? ['grpc'];
  // An empty list from the CLI means the flag was not given.
  o = { ...o, protocol: o.protocol?.length ? o.protocol : undefined, port: o.port?.length ? o.port : undefined };
  if (o.protocol !== undefined) {
    const normalized = (o.protocol as unknown[]).map((p) => normalizeProtocol(p));
    const bad = o.protocol.find((_, i) => !normalized[i]);
    if (bad !== undefined) throw new FlowConfigError(`expected grpc, http or websocket, got '${String(bad)}'`, '--protocol');
    protocols = normalized as Protocol[];
  }
  const from = (first: number) => protocols.map((_, i) => (first === 0 ? 0 : first + i));
  let ports: number[];
  let path = where('port');
  if (o.port !== undefined) {
    path = '--port';
    const bad = o.port.find((p) => !Number.isInteger(p) || p < 0 || p > 65535);
    if (bad !== undefined) throw new FlowConfigError(`ports are integers 0..65535, got ${bad}`, path);
    ports = o.port;
  } else if (s.port) {
    ports = s.port.length !== protocols.length && o.protocol ? from(s.port[0]!) : s.port;
  } else {
    ports = from(DEFAULT_PORT);
  }
  if (ports.length !== protocols.length) {
    throw new FlowConfigError(`${protocols.length} protocol(s) (${protocols.join(', ')}) need one port each, got ${ports.length}`, path);
  }
  if (ports.some((p) => p > 65535)) throw new FlowConfigError(`ports counted up from ${ports[0]} pass 65535`, path);
  const dup = ports.find((p, i) => p !== 0 && ports.indexOf(p) !== i);
  if (dup !== undefined) throw new FlowConfigError(`port ${dup} is used twice`, path);
  return { protocols, ports };
}

function buildExecutors(raw: RawFlow, s: RawGatewaySettings, dir: string, o: FlowOverrides, warnings: string[]): ExecutorConfig[] {
  const list = raw.executors ?? [];
  const names = list.map((e, i) => e.name ?? `executor${i}`);
  names.forEach((name, i) => {
    if (name === GATEWAY) throw new FlowConfigError(`'${GATEWAY}' is reserved for the flow's entry`, `executors[${i}].name`);
    const first = names.indexOf(name);
    if (first !== i) throw new FlowConfigError(`duplicate executor name '${name}' (also executors[${first}])`, `executors[${i}].name`);
  });
  if (o.replicas !== undefined && (!Number.isInteger(o.replicas) || o.replicas < 1)) {
    throw new FlowConfigError(`must be an integer >= 1, got ${o.replicas}`, '--replicas');
  }
  return list.map((e, i) => buildExecutor(e, `executors[${i}]`, names[i]!, i === 0 ? GATEWAY : names[i - 1]!, s, dir, o, warnings));
}

function buildExecutor(
  e: RawExecutor, at: string, name: string, previous: string,
  s: RawGatewaySettings, dir: string, o: FlowOverrides, warnings: string[],
): ExecutorConfig {
  for (const key of EXECUTOR_IGNORED_WITH_WARNING) {
    if (e[key] != null) warnings.push(`${at}.${key}: ignored (a Jina feature clipflow does not implement)`);
  }
  const external = e.external ?? false;
  const host = Array.isArray(e.host) ? e.host.join(',') : e.host;
  if (external && !host) throw new FlowConfigError('required when external: true', `${at}.host`);
  if (external && !e.port) throw new FlowConfigError('required when external: true', `${at}.port`);
  if (external && e.port!.includes(0)) throw new FlowConfigError('an external executor needs real ports, not 0', `${at}.port`);
  const timeoutSend = e.timeout_send ?? s.timeout_send;
  const retries = e.retries ?? s.retries;
  return {
    name,
    uses: buildUses(e, at, dir, o, warnings),
    // Several ports of an external executor are its replicas.
    replicas: external ? Math.max(e.port!.length, host!.split(',').filter((h) => h.trim()).length) : o.replicas ?? e.replicas ?? 1,
    shards: e.shards ?? 1,
    needs: [...new Set(e.needs ?? [previous])],
    ...(e.workspace ? { workspace: resolve(dir, e.workspace) } : {}),
    env: stringify(e.env),
    ...(e.polling != null ? { polling: e.polling } : {}),
    external,
    ...(host ? { host } : {}),
    ...(e.port ? { port: e.port } : {}),
    tls: e.tls ?? false,
    ...(timeoutSend != null && timeoutSend > 0 ? { timeoutSend } : {}),
    ...(retries != null ? { retries } : {}),
  };
}

function buildUses(e: RawExecutor, at: string, dir: string, o: FlowOverrides, warnings: string[]): UsesConfig {
  const u = e.uses;
  const metas: RawMetas = { ...u.metas, ...withoutNulls(e.uses_metas ?? {}) };
  const metasAt = e.uses_metas?.py_modules != null ? `${at}.uses_metas` : `${at}.uses.metas`;
  const { py_modules: pyModules, modules, ...rest } = metas;
  if (pyModules != null) {
    warnings.push(`${metasAt}.py_modules: ignored (clipflow cannot load Python modules; executor '${u.jtype}' must be built in or named in metas.modules)`);
  }
  const requests = normalizeEndpoints({ ...u.requests, ...e.uses_requests });
  const batching = Object.entries(e.uses_dynamic_batching ?? {}).map(
    // Jina's default batching timeout is 10 000 ms.
    ([ep, b]) => [ep, { preferredBatchSize: b.preferred_batch_size, timeout: b.timeout ?? 10_000, ...(b.lookahead != null ? { lookahead: b.lookahead } : {}) }] as const,
  );
  return {
    jtype: u.jtype,
    // A CLI flag left out arrives as undefined and must not erase the file's value.
    with: { ...u.with, ...e.uses_with, ...withoutNulls(o.executorWith ?? {}) },
    metas: rest,
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(batching.length ? { dynamicBatching: normalizeEndpoints(Object.fromEntries(batching)) } : {}),
    modules: (modules ?? []).map((m) => resolve(dir, m)),
  };
}

/** Endpoints always start with `/` (`encode: encode` means `/encode`). */
function normalizeEndpoints<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).map(([ep, v]) => [ep.startsWith('/') ? ep : `/${ep}`, v]));
}

/** Every need names a node; the graph has no cycle (so every executor is reachable from the gateway). */
function checkNeeds(executors: ExecutorConfig[]): void {
  const index = new Map(executors.map((e, i) => [e.name, i]));
  executors.forEach((e, i) => {
    for (const need of e.needs) {
      if (need === e.name) throw new FlowConfigError(`executor '${e.name}' needs itself`, `executors[${i}].needs`);
      if (need !== GATEWAY && !index.has(need)) {
        throw new FlowConfigError(`unknown node '${need}'; known: ${[GATEWAY, ...index.keys()].join(', ')}`, `executors[${i}].needs`);
      }
    }
  });
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    if (name === GATEWAY || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...stack.slice(stack.indexOf(name)), name];
      throw new FlowConfigError(`cycle in needs: ${cycle.join(' -> ')}`, `executors[${index.get(name)}].needs`);
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const up of executors[index.get(name)!]!.needs) visit(up);
    stack.pop();
    state.set(name, 'done');
  };
  for (const e of executors) visit(e.name);
}

function stringify(env: Record<string, string | number | boolean> | null | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(env ?? {}).map(([k, v]) => [k, String(v)]));
}

function withoutNulls<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v != null)) as Partial<T>;
}

/** Freezes every nested object; `seen` guards against YAML aliases sharing a node. */
function deepFreeze<T>(value: T, seen = new WeakSet<object>()): T {
  // Typed arrays (YAML !!binary) cannot be frozen; they are leaves anyway.
  if (value !== null && typeof value === 'object' && !seen.has(value) && !ArrayBuffer.isView(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v, seen);
  }
  return value;
}
