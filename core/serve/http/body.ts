import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError } from '../../errors.js';
import { hasProtoKey, jsonText } from '../../json/parse.js';
import { firstInvalidUtf8 } from '../../util/utf8.js';
import { HttpStatusError } from './errors.js';

/**
 * Request-side plumbing shared by the HTTP routes: body parsing, request ids,
 * header metadata, disconnect detection and CORS.
 */

// curl's `-d` sends form-urlencoded, browsers' simple requests send text/plain:
// both carry our JSON in practice, and neither opens a hole that text/plain does not.
const JSON_LIKE = new Set(['application/json', 'text/plain', 'application/x-www-form-urlencoded']);

function isJsonLike(contentType: string): boolean {
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return JSON_LIKE.has(media) || media.endsWith('+json');
}

/** Parses a body text as JSON with a message that says what is wrong. Empty means no body. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(`request body: invalid JSON (${(e as Error).message})`);
  }
  // Refused so that no later merge of `parameters` or tags can set a prototype.
  if (hasProtoKey(body)) throw new BadRequestError('request body: the key "__proto__" is not allowed');
  return body;
}

/**
 * Replaces fastify's parsers with one that reads JSON whatever the JSON-ish
 * content type (or none); other media types get 415 in our error shape.
 */
export function installBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  // Read as bytes: decoding to a string would silently turn invalid UTF-8 into U+FFFD,
  // and a client whose text came out mangled deserves a 400, not a wrong embedding.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req: FastifyRequest, body: string | Buffer, done) => {
    const ct = req.headers['content-type'];
    if (ct !== undefined && ct !== '' && !isJsonLike(ct)) {
      done(new HttpStatusError(415, `content-type: ${ct.split(';', 1)[0]} is not supported; send application/json`), undefined);
      return;
    }
    try {
      if (typeof body !== 'string' && !isUtf8(body)) throw new BadRequestError(`request body: not valid UTF-8 (at byte ${firstInvalidUtf8(body)}); JSON must be UTF-8`);
      done(null, parseJsonBody(typeof body === 'string' ? body : jsonText(body)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

const SAFE_ID = /^[\w.:-]{1,128}$/;

/** fastify `genReqId`: honour a sane incoming `x-request-id` (proxies set one), else a fresh hex uuid like Jina's. */
export function genRequestId(req: IncomingMessage): string {
  const h = req.headers['x-request-id'];
  if (typeof h === 'string' && SAFE_ID.test(h)) return h;
  return randomUUID().replaceAll('-', '');
}

/** True when the Jina body names its own request id (the client matches replies by it). */
export function bodyHasRequestId(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const header = (body as { header?: unknown }).header;
  if (!header || typeof header !== 'object') return false;
  const h = header as Record<string, unknown>;
  return !!(h.request_id || h.requestId);
}

/** Request headers as CallContext metadata (Node already lower-cases the names). */
export function headerMetadata(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * An AbortSignal that fires when the client goes away before we answered.
 * `close` on the response also fires after a normal reply, so only an
 * unfinished response counts as a disconnect.
 */
export function disconnectSignal(reply: FastifyReply): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const raw = reply.raw;
  const onClose = () => {
    if (!raw.writableEnded) ac.abort(new Error('client disconnected'));
  };
  raw.once('close', onClose);
  return { signal: ac.signal, dispose: () => raw.removeListener('close', onClose) };
}

/**
 * CORS as Jina's gateway configures it (any origin, any method, any header),
 * echoing the caller's origin so credentialed requests work too.
 */
export function installCors(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    reply.header('access-control-allow-origin', origin ?? '*');
    if (origin) {
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-credentials', 'true');
    }
    reply.header('access-control-expose-headers', 'x-request-id');
  });
  app.options('/*', async (request, reply) => {
    const wanted = request.headers['access-control-request-headers'];
    reply.header('access-control-allow-methods', 'GET, POST, PUT, DELETE, OPTIONS');
    reply.header('access-control-allow-headers', typeof wanted === 'string' ? wanted : 'content-type, authorization');
    reply.header('access-control-max-age', '600');
    reply.code(204).send();
  });
}
