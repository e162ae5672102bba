import 'reflect-metadata';

/** The endpoint a bare `@requests()` binds: the fallback for endpoints nobody else handles. */
export const DEFAULT_ENDPOINT = '/default';

const KEY = Symbol.for('clipflow:requests');

/**
 * Where standard decorators keep class metadata. Read at lookup time, not import
 * time: a `Symbol.metadata` polyfill installed after this module loads must count.
 */
function metadataKeys(): symbol[] {
  const keys = [Symbol.for('Symbol.metadata')];
  const native = (Symbol as { metadata?: symbol }).metadata;
  if (native && native !== keys[0]) keys.unshift(native);
  return keys;
}

/** endpoint -> method name, as recorded by `@requests`. */
export type EndpointBindings = Map<string, string>;

type RequestsSpec = string | string[] | { on?: string | string[] } | undefined;

function endpointsOf(spec: RequestsSpec): string[] {
  const on = typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec.on : spec;
  if (on === undefined) return [DEFAULT_ENDPOINT];
  const list = Array.isArray(on) ? on : [on];
  return list.map((e) => (e.startsWith('/') ? e : `/${e}`));
}

/**
 * Binds a method to one or more endpoints (`@requests('/upper')`,
 * `@requests(['/a', '/b'])`, `@requests({ on: '/a' })`); bare `@requests()` binds
 * the default endpoint. It only records metadata; the registry wires it at boot.
 * Works with both TypeScript's legacy decorators and standard (TC39) decorators.
 */
export function requests(spec?: RequestsSpec) {
  const endpoints = endpointsOf(spec);
  return methodDecorator('@requests', KEY, (method) => endpoints.map((e) => [e, method] as [string, string]));
}

/** Every `@requests` binding of a class, base classes first so subclasses override. */
export function decoratedBindings(cls: Function): EndpointBindings {
  return new Map(collectMethodMetadata<[string, string]>(cls, KEY));
}

/** Jina's dynamic batching settings for one handler. */
export interface DynamicBatchingOptions {
  /** Documents per batch the handler prefers. */
  preferredBatchSize: number;
  /**
   * Milliseconds to wait for the batch to fill. 0 (our default) dispatches as soon
   * as a replica is free: no added latency when idle, full batches under load.
   */
  timeout?: number;
  /**
   * A method run per request BEFORE it joins a batch (same arguments as a
   * handler). Slow per-request work (e.g. fetching remote inputs) done here only
   * delays its own request, never the batch it would have joined.
   */
  prepare?: string;
  /**
   * Calls that may start while every replica is busy, when a full batch is
   * waiting (default 0, as in Jina). For handlers whose heavy part queues on a
   * resource of its own (a model session on its own thread): the next call
   * decodes and packs its batch while the running one holds the model, so the
   * model never waits for it.
   */
  lookahead?: number;
}

const BATCHING_KEY = Symbol.for('clipflow:dynamic-batching');

/**
 * Merges concurrent requests to this handler into larger batches (Jina's
 * `@dynamic_batching`). flow.yml's `uses_dynamic_batching` overrides it per endpoint.
 */
export function dynamicBatching(options: DynamicBatchingOptions) {
  if (!Number.isInteger(options.preferredBatchSize) || options.preferredBatchSize < 1) {
    throw new TypeError('@dynamicBatching: preferredBatchSize must be a positive integer');
  }
  const lookahead = options.lookahead ?? 0;
  if (!Number.isInteger(lookahead) || lookahead < 0) throw new TypeError('@dynamicBatching: lookahead must be a non-negative integer');
  const value: BatchingSettings = { preferredBatchSize: options.preferredBatchSize, timeout: options.timeout ?? 0, lookahead, prepare: options.prepare };
  return methodDecorator('@dynamicBatching', BATCHING_KEY, (method) => [[method, value] as [string, BatchingSettings]]);
}

export type BatchingSettings = Required<Omit<DynamicBatchingOptions, 'prepare'>> & { prepare?: string };

/** method name -> batching options recorded by `@dynamicBatching` (subclasses override). */
export function decoratedBatching(cls: Function): Map<string, BatchingSettings> {
  return new Map(collectMethodMetadata<[string, BatchingSettings]>(cls, BATCHING_KEY));
}

type Entry = [string, unknown];

/**
 * A method decorator that only records entries under `key`, working with both
 * TypeScript's legacy decorators (metadata on the prototype) and standard TC39
 * decorators (metadata on the class's Symbol.metadata).
 */
function methodDecorator<E extends Entry>(label: string, key: symbol, entries: (method: string) => E[]) {
  return function (target: unknown, name: unknown, descriptor?: unknown): void {
    if (name && typeof name === 'object' && 'kind' in name) {
      const ctx = name as { kind: string; name: string | symbol; static?: boolean; private?: boolean; metadata?: Record<PropertyKey, unknown> };
      if (ctx.kind !== 'method') throw new TypeError(`${label} decorates methods only`);
      if (ctx.static || ctx.private) throw new TypeError(`${label} decorates public instance methods only, not ${String(ctx.name)}`);
      if (!ctx.metadata) throw new TypeError(`${label} needs decorator metadata support (TypeScript >= 5.2)`);
      const bag = ctx.metadata;
      const existing = Object.prototype.hasOwnProperty.call(bag, key) ? (bag[key] as E[]) : [];
      bag[key] = [...existing, ...entries(String(ctx.name))];
      return;
    }
    void descriptor;
    // On a static method the target is the class itself; the binding would silently vanish.
    if (typeof target === 'function') throw new TypeError(`${label} decorates instance methods only, not static ${String(name)}`);
    const proto = target as object;
    const list: E[] = Reflect.getOwnMetadata(key, proto) ?? [];
    Reflect.defineMetadata(key, [...list, ...entries(String(name))], proto);
  };
}

/** All entries recorded under `key` along the class chain, base classes first. */
function collectMethodMetadata<E extends Entry>(cls: Function, key: symbol): E[] {
  const chain: Function[] = [];
  for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) chain.unshift(c as Function);
  const out: E[] = [];
  for (const c of chain) {
    out.push(...((c.prototype && (Reflect.getOwnMetadata(key, c.prototype) as E[])) ?? []));
    for (const sym of metadataKeys()) {
      const meta = Object.prototype.hasOwnProperty.call(c, sym) ? (c as unknown as Record<symbol, Record<PropertyKey, unknown> | null>)[sym] : undefined;
      if (meta && Object.prototype.hasOwnProperty.call(meta, key)) out.push(...(meta[key] as E[]));
    }
  }
  return out;
}
