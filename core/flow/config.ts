/**
 * The validated, normalised form of a flow.yml. The loader produces it (and
 * freezes it); everything downstream reads only this, never raw YAML.
 */
export type Protocol = 'grpc' | 'http' | 'websocket';

export interface TlsConfig {
  /** PEM certificate chain file path. */
  cert: string;
  /** PEM private key file path. */
  key: string;
}

export interface DynamicBatchingConfig {
  preferredBatchSize: number;
  /** Milliseconds to wait for a batch to fill. */
  timeout: number;
  /** Calls started ahead for full batches while every replica is busy (clipflow's; default 0). */
  lookahead?: number;
}

export interface UsesConfig {
  jtype: string;
  with: Record<string, unknown>;
  metas: Record<string, unknown>;
  /** endpoint -> method name (Jina's `requests:`). */
  requests?: Record<string, string>;
  /** endpoint -> batching settings (Jina's `uses_dynamic_batching`). */
  dynamicBatching?: Record<string, DynamicBatchingConfig>;
  /** Custom modules to import before resolving `jtype` (absolute paths). */
  modules: string[];
}

export interface ExecutorConfig {
  name: string;
  uses: UsesConfig;
  replicas: number;
  shards: number;
  /** Upstream node names; `gateway` is the flow's entry. Never empty once loaded. */
  needs: string[];
  workspace?: string;
  env: Record<string, string>;
  /** `ANY` / `ALL`, or per endpoint. */
  polling?: string | Record<string, string>;
  /** A worker that runs elsewhere: `host` + `port` (several ports = replicas). */
  external: boolean;
  host?: string;
  port?: number[];
  tls: boolean;
  /** Milliseconds; how long one call into this executor may take (Jina's `timeout_send`). */
  timeoutSend?: number;
  retries?: number;
}

export interface GatewayConfig {
  host: string;
  /** One port per protocol, same order as `protocols`. */
  ports: number[];
  protocols: Protocol[];
  name: string;
  title?: string;
  description?: string;
  cors: boolean;
  /** Largest accepted/sent message in bytes, on every protocol. */
  maxMessageSize: number;
  tls?: TlsConfig;
  /** Response compression where the protocol has it. */
  compression: boolean;
  /** Max requests in flight per client stream (0 = unbounded). */
  prefetch: number;
  noDebugEndpoints: boolean;
  noCrudEndpoints: boolean;
  env: Record<string, string>;
  /** Milliseconds per request end to end; undefined = none. */
  timeout?: number;
  // The settings below are optional in the type so hand-built configs keep compiling;
  // the loader always fills them, and readers fall back to the DEFAULT_* constants.
  /** Documents per request, matches and chunks included; more is PAYLOAD_TOO_LARGE. */
  maxDocsPerRequest?: number;
  /** Characters (code points) in any one document's text; more is the caller's error. */
  maxTextChars?: number;
  /** Token every data call must present (`Authorization`); undefined = no auth. */
  authToken?: string;
  /** HTTP paths and gRPC service names answered without the token. */
  authOpenPaths?: string[];
  /** How long shutdown waits for in-flight requests before aborting them (ms). */
  shutdownGraceMs?: number;
  /** Executor work still pending after this many ms marks the process not live (ms). */
  livenessStuckMs?: number;
}

export interface FlowConfig {
  name: string;
  gateway: GatewayConfig;
  executors: ExecutorConfig[];
  /** Folder of the flow file: relative paths in it resolve from here. */
  baseDir: string;
  /** The file it came from, if any. */
  source?: string;
  /** Non-fatal notes produced while loading (e.g. ignored py_modules). */
  warnings: string[];
}

export const DEFAULT_PORT = 51000;
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Far above any real batch (clip_client sends 8-32 per request), far below what exhausts memory. */
export const DEFAULT_MAX_DOCS_PER_REQUEST = 10_000;
/** CLIP reads 77 tokens (a few hundred characters); 100k leaves room for any real caption or page. */
export const DEFAULT_MAX_TEXT_CHARS = 100_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;
/** Health checks stay reachable for probes that cannot carry a token; metrics and data do not. */
export const DEFAULT_AUTH_OPEN_PATHS: readonly string[] = ['/', '/health', '/health/live', '/health/ready', 'grpc.health.v1.Health'];
/** Without a request timeout, work pending this long (10 min) counts as wedged. */
export const DEFAULT_LIVENESS_STUCK_MS = 600_000;

/** The liveness threshold: the configured one, else 3 x the request timeout, else 10 minutes. */
export function livenessStuckMs(gateway: GatewayConfig): number {
  return gateway.livenessStuckMs ?? (gateway.timeout ? 3 * gateway.timeout : DEFAULT_LIVENESS_STUCK_MS);
}
