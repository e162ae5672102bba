import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClipflowError, STATUS_MAP, errorMessage, type ErrorCode } from '../../errors.js';

/**
 * The one shape every transport-level HTTP error takes, whoever raised it (our
 * code, fastify, @fastify/compress): `{"error": {code, status, message}}`. In-band
 * executor errors are not transport errors: they keep the Jina body.
 */
export interface HttpErrorBody {
  error: { code: ErrorCode; status: number; message: string };
}

/** A transport failure with an HTTP status of its own (405, 415, ...) that no ErrorCode maps to one to one. */
export class HttpStatusError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

/**
 * Wraps whatever `handler.process` threw: the framework failed on a request whose
 * id we know, so the reply can name the id while the details stay in the log.
 */
export class ProcessFailure extends Error {
  constructor(readonly requestId: string, readonly original: unknown) {
    super(errorMessage(original), { cause: original });
    this.name = 'ProcessFailure';
  }
}

/** The transport error body: `{"error": {code, status, message}}`. */
export function errorBody(code: ErrorCode, status: number, message: string): HttpErrorBody {
  return { error: { code, status, message } };
}

/** The ErrorCode for a bare HTTP status, read back from STATUS_MAP so the table stays the single source. */
export function codeForStatus(status: number): ErrorCode {
  if (status === STATUS_MAP.INTERNAL.http) return 'INTERNAL';
  const hit = (Object.keys(STATUS_MAP) as ErrorCode[]).find((c) => STATUS_MAP[c].http === status);
  if (hit) return hit;
  return status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
}

interface Mapped {
  status: number;
  code: ErrorCode;
  message: string;
  headers?: Record<string, string>;
  /** `error`: our bug, logged with the full error; `warn`: a deliberate 5xx; `debug`: the caller's mistake. */
  level: 'error' | 'warn' | 'debug';
}

function fastifyCode(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

function httpStatusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' && s >= 400 && s <= 599 ? s : undefined;
}

/** A mapping whose HTTP status is the ErrorCode's, read from STATUS_MAP. */
function byCode(code: ErrorCode, message: string, level: Mapped['level'] = 'debug'): Mapped {
  return { status: STATUS_MAP[code].http, code, message, level };
}

function typed(e: ClipflowError): Mapped {
  const status = e.httpStatus;
  return { status, code: e.code, message: e.message, level: status < 500 ? 'debug' : e.code === 'INTERNAL' ? 'error' : 'warn' };
}

/** Maps any thrown value to a status + safe message. Stack traces never leave the process. */
export function mapError(err: unknown, maxMessageSize: number): Mapped {
  if (err instanceof ProcessFailure) {
    // A typed error thrown on purpose by the gateway (e.g. UNAVAILABLE while
    // starting) is meant for the caller; anything else is our bug.
    const inner = err.original;
    if (inner instanceof ClipflowError && inner.code !== 'INTERNAL') return typed(inner);
    return byCode('INTERNAL', `internal error while processing request ${err.requestId}; see the server log`, 'error');
  }
  if (err instanceof ClipflowError) return typed(err);
  if (err instanceof HttpStatusError) {
    return { status: err.statusCode, code: codeForStatus(err.statusCode), message: err.message, headers: err.headers, level: 'debug' };
  }
  if ((err as { decompressError?: unknown } | null)?.decompressError) {
    // @fastify/compress keeps zlib's error object; its message alone ("incorrect header check") names nothing.
    return byCode('INVALID_ARGUMENT', 'request body: cannot be decompressed with its content-encoding');
  }
  const fcode = fastifyCode(err);
  if (fcode === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return byCode('PAYLOAD_TOO_LARGE', `request body: larger than the ${maxMessageSize}-byte limit (max message size)`);
  }
  if (fcode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, code: 'INVALID_ARGUMENT', message: 'content-type: unsupported media type; send application/json', level: 'debug' };
  }
  if (fcode === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return byCode('INVALID_ARGUMENT', 'request body: length does not match content-length');
  }
  const status = httpStatusOf(err);
  if (status !== undefined && status < 500) {
    // fastify's and @fastify/compress's 4xx messages are short and safe to show.
    return { status, code: codeForStatus(status), message: errorMessage(err), level: 'debug' };
  }
  return byCode('INTERNAL', 'internal server error; see the server log', 'error');
}

/**
 * Installs the error handler and the not-found handler on `app`.
 * `allowedMethods(path)` lists the methods a known path answers, so a wrong
 * method gets 405 + `Allow` instead of 404.
 */
export function installErrorHandling(
  app: FastifyInstance,
  maxMessageSize: number,
  allowedMethods: (path: string) => string[] | undefined,
  /** Counts each refused request (metrics); called before the reply is sent. */
  onRejected: (code: ErrorCode) => void = () => {},
): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const m = mapError(err, maxMessageSize);
    onRejected(m.code);
    const requestId = requestIdOf(request, reply);
    if (m.level === 'error') request.log.error({ err: err instanceof ProcessFailure ? err.original : err, requestId }, 'request failed');
    else request.log[m.level]({ status: m.status, code: m.code, message: m.message, requestId }, 'request rejected');
    // A body we refused to read may still be on the wire; don't reuse the socket.
    if (m.code === 'PAYLOAD_TOO_LARGE') reply.header('connection', 'close');
    reply.code(m.status).headers(m.headers ?? {}).send(errorBody(m.code, m.status, m.message));
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = pathOf(request.url);
    const methods = allowedMethods(path);
    onRejected(methods ? 'INVALID_ARGUMENT' : 'NOT_FOUND');
    if (methods && !methods.includes(request.method)) {
      reply.code(405).header('allow', methods.join(', '));
      reply.send(errorBody('INVALID_ARGUMENT', 405, `${request.method} ${path}: method not allowed; use ${methods.join(' or ')}`));
      return;
    }
    reply.code(STATUS_MAP.NOT_FOUND.http).send(errorBody('NOT_FOUND', STATUS_MAP.NOT_FOUND.http, `${request.method} ${path}: no such route`));
  });
}

function requestIdOf(request: FastifyRequest, reply: FastifyReply): string {
  const h = reply.getHeader('x-request-id');
  return typeof h === 'string' ? h : request.id;
}

/** The URL's path without query string, percent-decoded where valid. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
