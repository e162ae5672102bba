import { FlowConfigError } from '../errors.js';
import { DEFAULT_ENDPOINT, decoratedBindings } from './decorators.js';
import type { HandlerArgs, HandlerResult } from './executor.js';

export type Handler = (args: HandlerArgs) => HandlerResult | Promise<HandlerResult>;

/**
 * The endpoint -> handler table of one executor instance: `@requests` metadata,
 * overridden by flow.yml `requests: { /endpoint: method }` (Jina's syntax, which is
 * also how plain JS classes without decorators are bound).
 */
export class HandlerTable {
  private constructor(
    private readonly table: Map<string, Handler>,
    private readonly methods: Map<string, string>,
  ) {}

  static build(instance: object, yamlRequests: Record<string, string> | undefined, path: string): HandlerTable {
    const names = decoratedBindings(instance.constructor);
    for (const [endpoint, method] of Object.entries(yamlRequests ?? {})) {
      names.set(endpoint === '/default' || endpoint === 'default' ? DEFAULT_ENDPOINT : endpoint.startsWith('/') ? endpoint : `/${endpoint}`, method);
    }
    const table = new Map<string, Handler>();
    for (const [endpoint, method] of names) {
      const fn = (instance as Record<string, unknown>)[method];
      // `constructor`, `toString`, ... are functions on every object but never handlers.
      const inherited = method === 'constructor' || (method in Object.prototype && fn === (Object.prototype as Record<string, unknown>)[method]);
      if (typeof fn !== 'function' || inherited) {
        throw new FlowConfigError(`endpoint ${endpoint} is bound to "${method}", which is not a method of ${instance.constructor.name}`, `${path}.requests`);
      }
      table.set(endpoint, (fn as Handler).bind(instance));
    }
    return new HandlerTable(table, names);
  }

  /** The handler for an endpoint: exact match, else the default handler, else none (skip). */
  lookup(endpoint: string): Handler | undefined {
    return this.table.get(endpoint) ?? this.table.get(DEFAULT_ENDPOINT);
  }

  /** The method name serving an endpoint (exact, else default), for per-method settings. */
  methodFor(endpoint: string): string | undefined {
    return this.methods.get(endpoint) ?? this.methods.get(DEFAULT_ENDPOINT);
  }

  /** Endpoints with an explicit binding (the default one shows as `/default`). */
  endpoints(): string[] {
    return [...this.table.keys()];
  }
}
