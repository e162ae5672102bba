import type { GatewayHandler } from '../handler.js';
import type { TransportOptions } from '../transport.js';
import type { RouteTable } from './routes.js';

/**
 * The gateway's OpenAPI 3.0 description, built from the routes actually
 * registered plus one POST path per endpoint the flow serves, so it never
 * drifts from what the server answers.
 */
export type OpenApiDocument = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });

const SCHEMAS = {
  Document: {
    type: 'object',
    description: "A docarray v1 Document (snake_case keys, as docarray's to_dict).",
    properties: {
      id: { type: 'string' },
      text: { type: 'string' },
      uri: { type: 'string', description: 'http(s) URL or data: URI of an image' },
      blob: { type: 'string', format: 'byte', description: 'base64 of the raw bytes (e.g. an encoded image)' },
      tensor: { type: 'array', items: {} },
      mime_type: { type: 'string' },
      tags: { type: 'object', additionalProperties: true },
      embedding: { type: 'array', items: { type: 'number' } },
      scores: { type: 'object', additionalProperties: { type: 'object', properties: { value: { type: 'number' }, op_name: { type: 'string' } } } },
      matches: { type: 'array', items: { $ref: '#/components/schemas/Document' } },
      chunks: { type: 'array', items: { $ref: '#/components/schemas/Document' } },
    },
  },
  DataRequest: {
    type: 'object',
    description: "Jina's HTTP request body. On `/post` the endpoint comes from `execEndpoint`; on `/<endpoint>` from the path.",
    properties: {
      data: { type: 'array', items: ref('Document') },
      execEndpoint: { type: 'string', default: '/' },
      exec_endpoint: { type: 'string', description: 'alias of execEndpoint (sent by the Python client)' },
      targetExecutor: { type: 'string' },
      parameters: { type: 'object', additionalProperties: true },
      header: { type: 'object', properties: { request_id: { type: 'string' }, exec_endpoint: { type: 'string' } } },
    },
  },
  Status: {
    type: 'object',
    properties: {
      code: { oneOf: [{ type: 'string', enum: ['SUCCESS', 'ERROR'] }, { type: 'integer', enum: [0, 1] }] },
      description: { type: 'string' },
      exception: {
        type: 'object',
        properties: { name: { type: 'string' }, args: { type: 'array', items: { type: 'string' } }, executor: { type: 'string' } },
      },
    },
  },
  DataResponse: {
    type: 'object',
    description: 'Only DataRequestProto fields, so protobuf ParseDict accepts it. Executor errors arrive with header.status.code = ERROR.',
    properties: {
      header: {
        type: 'object',
        properties: { request_id: { type: 'string' }, exec_endpoint: { type: 'string' }, status: ref('Status') },
      },
      parameters: { type: 'object', additionalProperties: true },
      routes: {
        type: 'array',
        items: {
          type: 'object',
          properties: { executor: { type: 'string' }, start_time: { type: 'string' }, end_time: { type: 'string' }, status: ref('Status') },
        },
      },
      data: { type: 'array', items: ref('Document') },
    },
  },
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'status', 'message'],
        properties: { code: { type: 'string', example: 'INVALID_ARGUMENT' }, status: { type: 'integer' }, message: { type: 'string' } },
      },
    },
  },
};

const ERROR_RESPONSES = {
  '400': { description: 'Malformed request; the message names the field', content: json(ref('Error')) },
  '401': { description: 'Missing or invalid token (when the gateway sets auth_token)', content: json(ref('Error')) },
  '413': { description: 'Body larger than the max message size, or more documents than max_docs_per_request', content: json(ref('Error')) },
  '415': { description: 'Unsupported content type', content: json(ref('Error')) },
};

function dataOperation(summary: string, tag: string) {
  return {
    summary,
    tags: [tag],
    requestBody: { required: false, content: json(ref('DataRequest')) },
    responses: {
      '200': { description: 'The processed documents', content: json(ref('DataResponse')) },
      ...ERROR_RESPONSES,
      '500': { description: 'An executor failed (full body, header.status ERROR) or an internal error', content: json({ oneOf: [ref('DataResponse'), ref('Error')] }) },
      '503': { description: 'Not ready or shutting down; retry elsewhere', content: json({ oneOf: [ref('DataResponse'), ref('Error')] }) },
      '504': { description: 'The request exceeded its time limit (gateway timeout or header.timeout)', content: json(ref('DataResponse')) },
    },
  };
}

const GET_OPERATIONS: Record<string, { summary: string; schema: unknown; extra?: Record<string, unknown> }> = {
  '/': { summary: 'Gateway liveness (always {})', schema: { type: 'object' } },
  '/status': {
    summary: 'Versions and environment',
    schema: { type: 'object', properties: { jina: { type: 'object', additionalProperties: { type: 'string' } }, envs: { type: 'object', additionalProperties: { type: 'string' } } } },
  },
  '/dry_run': { summary: 'Sends an empty request through every executor; code 0 = SUCCESS', schema: ref('Status') },
  '/health': {
    summary: 'Readiness: 200 once every executor is initialised',
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'not ready'] } } },
    extra: { '503': { description: 'Not ready', content: json({ type: 'object', properties: { status: { type: 'string' } } }) } },
  },
  '/health/ready': {
    summary: 'Readiness (same as /health)',
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'not ready'] } } },
    extra: { '503': { description: 'Not ready (starting or shutting down)', content: json({ type: 'object', properties: { status: { type: 'string' } } }) } },
  },
  '/health/live': {
    summary: 'Liveness: 503 when executor work has been stuck past liveness_stuck_ms',
    schema: { type: 'object', properties: { status: { type: 'string', enum: ['alive', 'stuck'] }, pending: { type: 'integer' }, oldest_ms: { type: 'integer' }, reason: { type: 'string' } } },
    extra: { '503': { description: 'Stuck: restart the process', content: json({ type: 'object', properties: { status: { type: 'string' }, reason: { type: 'string' } } }) } },
  },
  '/metrics': { summary: 'Prometheus metrics (text exposition)', schema: { type: 'string' } },
  '/openapi.json': { summary: 'This document', schema: { type: 'object' } },
};

/** Builds the document for the routes in `table` and the endpoints `handler` reports now. */
export function buildOpenApi(table: RouteTable, handler: GatewayHandler, options: TransportOptions): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of table.fixed) {
    const item: Record<string, unknown> = {};
    for (const m of methods) {
      if (m === 'HEAD' || m === 'OPTIONS') continue;
      if (m === 'GET') {
        const op = GET_OPERATIONS[path];
        const content = path === '/metrics' ? { 'text/plain': { schema: op?.schema } } : json(op?.schema ?? {});
        item.get = { summary: op?.summary ?? path, tags: ['gateway'], responses: { '200': { description: 'OK', content }, ...(op?.extra ?? {}) } };
      } else {
        const summary = path === '/post' ? 'Run a request; the endpoint comes from execEndpoint' : `Jina CRUD endpoint ${path}`;
        item[m.toLowerCase()] = dataOperation(summary, path === '/post' ? 'data' : 'crud');
      }
    }
    paths[path] = item;
  }
  for (const ep of [...new Set(handler.endpoints().endpoints)].sort()) {
    // `/` is what /post reaches by default; fixed paths already have their entry.
    if (ep === '/' || paths[ep]) continue;
    paths[ep] = { post: dataOperation(`Run endpoint ${ep}`, 'endpoints') };
  }
  const info = handler.info();
  return {
    openapi: '3.0.3',
    info: {
      title: options.title ?? 'clipflow',
      description: options.description ?? 'CLIP-as-a-service gateway (Jina-compatible HTTP interface)',
      version: info.jina.clipflow ?? info.jina.jina ?? info.jina.version ?? '0.0.0',
    },
    paths,
    components: { schemas: SCHEMAS },
  };
}
