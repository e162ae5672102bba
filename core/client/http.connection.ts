import * as http from 'node:http';
import * as https from 'node:https';
import { dataRequestFromJson } from '../json/request.json.js';
import { jsonRequestBody } from '../json/request-body.js';
import type { DataRequest, RequestStatus, Route } from '../request/data-request.js';
import type { Connection, ConnectionOptions, RequestStream } from './connection.js';
import { TransportError, messageOf } from './errors.js';

const DEFAULT_DRY_RUN_MS = 10_000;

interface RawReply {
  status: number;
  text: string;
}

/**
 * HTTP transport: each request one `POST /post` with Jina's JSON body. It uses
 * node's http/https rather than global fetch because fetch cannot take an extra
 * CA without undici's Agent, which is not a dependency; a keep-alive agent
 * reuses sockets across a post's batches.
 */
export class HttpConnection implements Connection {
  private readonly agent: http.Agent;

  constructor(private readonly options: ConnectionOptions) {
    const agentOptions: https.AgentOptions = { keepAlive: true };
    if (options.ca !== undefined) agentOptions.ca = options.ca;
    this.agent = options.tls ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  }

  async open(): Promise<RequestStream> {
    const controller = new AbortController();
    return {
      send: (request) => this.post(request, controller.signal),
      end: async () => {},
      abort: (reason) => controller.abort(reason ?? new TransportError('request stream aborted')),
    };
  }

  private async post(request: DataRequest, signal: AbortSignal): Promise<DataRequest> {
    const body = jsonRequestBody({
      execEndpoint: request.endpoint,
      parameters: request.parameters,
      ...(request.targetExecutor ? { targetExecutor: request.targetExecutor } : {}),
      header: { request_id: request.requestId },
    }, request.docs);
    const reply = await this.request('POST', '/post', body, signal, this.options.timeoutMs);
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply.text);
    } catch {
      throw httpFailure(reply);
    }
    if (!isDataRequestBody(parsed)) {
      if (reply.status >= 300) throw httpFailure(reply, parsed);
      throw new TransportError(`the server's reply to ${request.endpoint} is not a Jina DataRequest`);
    }
    const response = responseFromJson(parsed);
    // A non-2xx reply with a Jina body is an in-band failure even if the status inside says otherwise.
    if (reply.status >= 300 && response.status?.code !== 'ERROR') {
      response.status = { code: 'ERROR', description: `HTTP ${reply.status}${response.status?.description ? `: ${response.status.description}` : ''}` };
    }
    return response;
  }

  async dryRun(): Promise<RequestStatus> {
    const reply = await this.request('GET', '/dry_run', undefined, undefined, this.options.timeoutMs ?? DEFAULT_DRY_RUN_MS);
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply.text);
    } catch {
      throw httpFailure(reply);
    }
    if (parsed && typeof parsed === 'object' && 'code' in parsed) return statusFromJson(parsed as Record<string, unknown>);
    if (reply.status >= 300) throw httpFailure(reply, parsed);
    return { code: 'SUCCESS', description: '' };
  }

  private request(method: string, path: string, body: Buffer | undefined, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<RawReply> {
    const { tls, host, port, basePath, authorization, maxMessageSize } = this.options;
    const signals = [signal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined].filter((s): s is AbortSignal => !!s);
    const headers: http.OutgoingHttpHeaders = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (authorization) headers.Authorization = authorization;
    return new Promise<RawReply>((resolve, reject) => {
      const req = (tls ? https : http).request(
        {
          method,
          host: host.replace(/^\[(.*)\]$/, '$1'),
          port,
          path: `${basePath}${path}`,
          headers,
          agent: this.agent,
          ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxMessageSize) {
              req.destroy(new Error(`reply larger than maxMessageSize (${maxMessageSize} bytes)`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => reject(transportError(e, timeoutMs)));
        },
      );
      req.on('error', (e) => reject(transportError(e, timeoutMs)));
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

function transportError(e: Error, timeoutMs: number | undefined): TransportError {
  if (e.name === 'AbortError' && e.cause instanceof Error) {
    if (e.cause.name === 'TimeoutError') return new TransportError(`no reply within ${timeoutMs} ms`, undefined, { cause: e });
    return e.cause instanceof TransportError ? e.cause : new TransportError(e.cause.message, undefined, { cause: e });
  }
  return new TransportError(e.message, undefined, { cause: e });
}

function isDataRequestBody(v: unknown): v is Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return !!o.header && typeof o.header === 'object' && ('data' in o || 'routes' in o || 'parameters' in o);
}

/** An HTTP failure without a Jina body: the server's own message when it sent one. */
function httpFailure(reply: RawReply, parsed?: unknown): TransportError {
  let message = reply.text.trim().slice(0, 500);
  if (parsed && typeof parsed === 'object') {
    let o = parsed as Record<string, unknown>;
    // clipflow's transport errors nest the message: {"error": {code, status, message}}.
    if (o.error && typeof o.error === 'object') o = o.error as Record<string, unknown>;
    const found = [o.message, o.detail, o.error, o.description].find((x) => typeof x === 'string');
    if (found) message = found as string;
  }
  return new TransportError(`HTTP ${reply.status}${message ? `: ${message}` : ''}`, reply.status);
}

/** Parses a Jina JSON reply, including what request parsing ignores: status and routes. */
export function responseFromJson(body: Record<string, unknown>): DataRequest {
  let response: DataRequest;
  try {
    response = dataRequestFromJson(body);
  } catch (e) {
    throw new TransportError(`malformed reply from the server: ${messageOf(e)}`);
  }
  const header = body.header as Record<string, unknown>;
  if (header.status && typeof header.status === 'object') response.status = statusFromJson(header.status as Record<string, unknown>);
  if (Array.isArray(body.routes)) response.routes = body.routes.map(routeFromJson);
  return response;
}

function statusFromJson(o: Record<string, unknown>): RequestStatus {
  const status: RequestStatus = {
    code: o.code === 1 || o.code === 'ERROR' ? 'ERROR' : 'SUCCESS',
    description: typeof o.description === 'string' ? o.description : '',
  };
  const ex = o.exception as Record<string, unknown> | undefined;
  if (ex && typeof ex === 'object') {
    status.exception = {
      name: String(ex.name ?? ''),
      args: Array.isArray(ex.args) ? ex.args.map(String) : [],
      stacks: Array.isArray(ex.stacks) ? ex.stacks.map(String) : [],
      executor: String(ex.executor ?? ''),
    };
  }
  return status;
}

function routeFromJson(value: unknown): Route {
  const o = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const route: Route = { executor: String(o.executor ?? '') };
  const start = timeFromJson(o.start_time ?? o.startTime);
  const end = timeFromJson(o.end_time ?? o.endTime);
  if (start !== undefined) route.startTime = start;
  if (end !== undefined) route.endTime = end;
  if (o.status && typeof o.status === 'object') route.status = statusFromJson(o.status as Record<string, unknown>);
  return route;
}

/** RFC 3339 with up to nanosecond digits (protobuf's JSON Timestamp) to epoch ms, keeping sub-ms digits. */
function timeFromJson(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return undefined;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(v);
  if (!m) return undefined;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(whole)) return undefined;
  return whole + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}
