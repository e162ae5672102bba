import 'reflect-metadata';

/** The endpoint a bare `@requests()` binds: the fallback for endpoints nobody else handles. */
export const DEFAULT_ENDPOINT = '/default';

const KEY = Symbol.for('clipflow:requests');
const SYMBOL_METADATA: symbol = (Symbol as { metadata?: symbol }).metadata ?? Symbol.for('Symbol.metadata');

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
      const ctx = key as { kind: string; name: string | symbol; metadata?: Record<PropertyKey, unknown> };
      if (ctx.kind !== 'method') throw new TypeError('@requests decorates methods only');
      if (!ctx.metadata) throw new TypeError('@requests needs decorator metadata support (TypeScript >= 5.2)');
      record(ctx.metadata, endpoints, String(ctx.name));
      return;
    }
    // Legacy decorators: (prototype, name, descriptor).
    void descriptor;
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
    const meta = Object.prototype.hasOwnProperty.call(c, SYMBOL_METADATA) ? (c as unknown as Record<symbol, Record<PropertyKey, unknown>>)[SYMBOL_METADATA] : undefined;
    const standard = meta && Object.prototype.hasOwnProperty.call(meta, KEY) ? (meta[KEY] as Array<[string, string]>) : [];
    for (const [e, m] of [...legacy, ...standard]) out.set(e, m);
  }
  return out;
}
