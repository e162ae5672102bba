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

function record(bag: Record<PropertyKey, unknown>, endpoints: string[], method: string): void {
  const existing = Object.prototype.hasOwnProperty.call(bag, KEY) ? (bag[KEY] as Array<[string, string]>) : [];
  bag[KEY] = [...existing, ...endpoints.map((e) => [e, method] as [string, string])];
}

/**
 * Binds a method to one or more endpoints (`@requests('/upper')`,
 * `@requests(['/a', '/b'])`, `@requests({ on: '/a' })`); bare `@requests()` binds
 * the default endpoint. It only records metadata; the registry wires it at boot.
 * Works with both TypeScript's legacy decorators and standard (TC39) decorators.
 */
export function requests(spec?: RequestsSpec) {
  const endpoints = endpointsOf(spec);
  return function (target: unknown, key: unknown, descriptor?: unknown): void {
    if (key && typeof key === 'object' && 'kind' in key) {
      // Standard decorators: (method, context). Metadata lands on the class's Symbol.metadata.
      const ctx = key as { kind: string; name: string | symbol; static?: boolean; private?: boolean; metadata?: Record<PropertyKey, unknown> };
      if (ctx.kind !== 'method') throw new TypeError('@requests decorates methods only');
      if (ctx.static || ctx.private) throw new TypeError(`@requests decorates public instance methods only, not ${String(ctx.name)}`);
      if (!ctx.metadata) throw new TypeError('@requests needs decorator metadata support (TypeScript >= 5.2)');
      record(ctx.metadata, endpoints, String(ctx.name));
      return;
    }
    // Legacy decorators: (prototype, name, descriptor).
    void descriptor;
    // On a static method the target is the class itself; the binding would silently vanish.
    if (typeof target === 'function') throw new TypeError(`@requests decorates instance methods only, not static ${String(key)}`);
    const proto = target as object;
    const list: Array<[string, string]> = Reflect.getOwnMetadata(KEY, proto) ?? [];
    Reflect.defineMetadata(KEY, [...list, ...endpoints.map((e) => [e, String(key)] as [string, string])], proto);
  };
}

/** Every `@requests` binding of a class, base classes first so subclasses override. */
export function decoratedBindings(cls: Function): EndpointBindings {
  const chain: Function[] = [];
  for (let c: unknown = cls; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) chain.unshift(c as Function);
  const out: EndpointBindings = new Map();
  for (const c of chain) {
    const legacy: Array<[string, string]> = (c.prototype && Reflect.getOwnMetadata(KEY, c.prototype)) ?? [];
    const standard: Array<[string, string]> = [];
    for (const sym of metadataKeys()) {
      const meta = Object.prototype.hasOwnProperty.call(c, sym) ? (c as unknown as Record<symbol, Record<PropertyKey, unknown> | null>)[sym] : undefined;
      if (meta && Object.prototype.hasOwnProperty.call(meta, KEY)) standard.push(...(meta[KEY] as Array<[string, string]>));
    }
    for (const [e, m] of [...legacy, ...standard]) out.set(e, m);
  }
  return out;
}
