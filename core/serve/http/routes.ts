import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { NotFoundError, STATUS_MAP } from '../../errors.js';
import { dataRequestFromJson, dataRequestToJson, statusToJson } from '../../json/request.json.js';
import type { DataRequest } from '../../request/data-request.js';
import type { GatewayHandler } from '../handler.js';
import type { TransportOptions } from '../transport.js';
import { bodyHasRequestId, disconnectSignal, headerMetadata } from './body.js';
import { HttpStatusError, ProcessFailure, pathOf } from './errors.js';
import { buildOpenApi } from './openapi.js';

/** Jina's CRUD routes; update and delete also take POST for clients that cannot send PUT/DELETE with a body. */
export const CRUD_ROUTES: ReadonlyArray<{ path: string; methods: HTTPMethods[] }> = [
  { path: '/index', methods: ['POST'] },
  { path: '/search', methods: ['POST'] },
  { path: '/update', methods: ['PUT', 'POST'] },
  { path: '/delete', methods: ['DELETE', 'POST'] },
];

/** GET routes with no request body. */
export const GET_ROUTES = ['/', '/status', '/dry_run', '/health', '/health/ready', '/health/live', '/metrics', '/openapi.json'] as const;
/** Routes that `noDebugEndpoints` hides (as Jina's `no_debug_endpoints`). */
export const DEBUG_ROUTES: ReadonlySet<string> = new Set(['/status', '/dry_run']);

/** What the not-found handler and the OpenAPI builder need to know about the registered routes. */
export interface RouteTable {
  /** Methods a path answers, or undefined for a path we do not serve. */
  allowed(path: string): string[] | undefined;
  /** Fixed routes (path -> methods), in registration order. */
  readonly fixed: ReadonlyMap<string, readonly string[]>;
}

/** `/encode/` and `/encode` are the same endpoint. */
function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Registers every route of Jina's HTTP gateway shape on `app`. */
export function registerRoutes(app: FastifyInstance, handler: GatewayHandler, options: TransportOptions): RouteTable {
  const fixed = new Map<string, string[]>();
  // Paths that would be routes but are switched off: never treat them as endpoints.
  const hidden = new Set<string>();
  const add = (methods: HTTPMethods[], path: string, fn: (rq: FastifyRequest, rp: FastifyReply) => Promise<unknown>) => {
    app.route({ method: methods, url: path, handler: fn });
    const list = fixed.get(path) ?? [];
    for (const m of methods) list.push(m, ...(m === 'GET' ? ['HEAD'] : []));
    fixed.set(path, list);
  };

  async function serveData(request: FastifyRequest, reply: FastifyReply, endpoint?: string): Promise<unknown> {
    const req = dataRequestFromJson(request.body, endpoint);
    // Without a client-chosen id, reuse the HTTP request id so logs and reply agree.
    if (!bodyHasRequestId(request.body)) req.requestId = request.id;
    reply.header('x-request-id', req.requestId);
    const { signal, dispose } = disconnectSignal(reply);
    let res: DataRequest;
    try {
      res = await handler.process(req, { protocol: 'http', signal, metadata: headerMetadata(request.headers) });
    } catch (e) {
      // Nobody is listening any more: not worth an error-level log line.
      if (signal.aborted) throw new HttpStatusError(499, 'request cancelled: the client disconnected');
      throw new ProcessFailure(req.requestId, e);
    } finally {
      dispose();
    }
    const status = res.status?.code === 'ERROR' ? STATUS_MAP[res.status.errorCode ?? 'EXECUTOR_FAILED'].http : 200;
    return reply.code(status).send(dataRequestToJson(res));
  }

  for (const path of GET_ROUTES) {
    if (options.noDebugEndpoints && DEBUG_ROUTES.has(path)) {
      hidden.add(path);
      continue;
    }
    add(['GET'], path, async (request, reply) => getRoute(path, request, reply));
  }

  async function getRoute(path: (typeof GET_ROUTES)[number], _request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    switch (path) {
      case '/':
        return {}; // Jina's gateway health check answers an empty object
      case '/status':
        return handler.info();
      case '/dry_run':
        return statusToJson(await handler.dryRun(), true);
      case '/health':
      case '/health/ready':
        return handler.ready() ? { status: 'ok' } : reply.code(STATUS_MAP.UNAVAILABLE.http).send({ status: 'not ready' });
      case '/health/live': {
        // Liveness only: a draining or still-starting process is alive and must not be restarted.
        const live = handler.liveness?.() ?? { live: true, pending: 0, oldestMs: 0 };
        const body = { status: live.live ? 'alive' : 'stuck', pending: live.pending, oldest_ms: live.oldestMs, ...(live.reason ? { reason: live.reason } : {}) };
        return live.live ? body : reply.code(STATUS_MAP.UNAVAILABLE.http).send(body);
      }
      case '/metrics': {
        const m = await handler.metrics();
        return reply.type(m.contentType).send(m.body);
      }
      case '/openapi.json':
        return buildOpenApi(table, handler, options);
    }
  }

  add(['POST'], '/post', (request, reply) => serveData(request, reply));
  for (const { path, methods } of CRUD_ROUTES) {
    if (options.noCrudEndpoints) hidden.add(path);
    else add(methods, path, (request, reply) => serveData(request, reply, path));
  }

  // Every other POST path names an endpoint, as `/encode` or `/encode/ViT-B-32`.
  app.post('/*', async (request, reply) => {
    const path = trimSlash(pathOf(request.url));
    const methods = fixed.get(path);
    if (methods?.includes('POST')) return serveData(request, reply, path === '/post' ? undefined : path);
    if (methods) throw new HttpStatusError(405, `POST ${path}: method not allowed; use ${methods.join(' or ')}`, { allow: methods.join(', ') });
    if (hidden.has(path)) throw new NotFoundError(`POST ${path}: no such route (disabled on this gateway)`);
    return serveData(request, reply, path);
  });

  const table: RouteTable = {
    fixed,
    allowed(path: string) {
      const p = trimSlash(path);
      const known = fixed.get(p);
      if (known) return [...known];
      if (hidden.has(p)) return undefined;
      // A flow endpoint only answers POST; any other unknown path is a plain 404.
      const eps = handler.endpoints();
      return eps.endpoints.includes(p) && p !== '/' ? ['POST'] : undefined;
    },
  };
  return table;
}
