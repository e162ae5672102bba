import { isUtf8 } from 'node:buffer';
import type { RawData } from 'ws';
import { BadRequestError, ClipflowError, errorCodeOf, errorMessage, STATUS_MAP, type ErrorCode } from '../../errors.js';
import { hasProtoKey, jsonText } from '../../json/parse.js';
import { dataRequestFromJson, dataRequestToJson, statusToJson } from '../../json/request.json.js';
import { decodeDataRequest, encodeDataRequest, encodeStatus } from '../../proto/request.codec.js';
import { T } from '../../proto/schema.js';
import { DataRequest, type RequestStatus } from '../../request/data-request.js';
import { firstInvalidUtf8 } from '../../util/utf8.js';

/**
 * Frame codecs for the two WebSocket subprotocols. `bytes` carries serialized
 * DataRequestProto / StatusProto (Jina's Python client); `json` carries the HTTP
 * gateway's JSON bodies. The session logic above them is the same for both.
 */
export type WsMode = 'bytes' | 'json';

/** What one incoming frame asks for. */
export type Incoming =
  | { kind: 'request'; request: DataRequest }
  | { kind: 'dryRun' }
  | { kind: 'end' }
  | { kind: 'invalid'; error: unknown; requestId?: string };

/** Reply payload: a Buffer goes out as a binary frame, a string as a text frame. */
export type Outgoing = Buffer | string;

/** ws hands frames over as a Buffer, a Buffer list (fragments) or an ArrayBuffer; codecs want one Buffer. */
export function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Best effort: the request id of a frame that failed to decode, so the client can match the error. */
function protoRequestId(buf: Buffer): string | undefined {
  try {
    const m = T.dataRequest.decode(buf) as unknown as { header?: { requestId?: string } };
    return m.header?.requestId || undefined;
  } catch {
    return undefined;
  }
}

function jsonRequestId(body: unknown): string | undefined {
  const h = (body as { header?: Record<string, unknown> } | null)?.header;
  const id = h && typeof h === 'object' ? (h.request_id ?? h.requestId) : undefined;
  return typeof id === 'string' && id ? id : undefined;
}

/** Classifies a frame. Never throws: undecodable frames come back as `invalid`. */
export function decodeFrame(mode: WsMode, data: RawData): Incoming {
  const buf = rawToBuffer(data);
  if (mode === 'bytes') {
    // Jina's client: b'' asks for a dry run, bytes(True) == b'\x00' ends its stream.
    if (buf.length === 0) return { kind: 'dryRun' };
    if (buf.length === 1 && buf[0] === 0) return { kind: 'end' };
    try {
      return { kind: 'request', request: decodeDataRequest(buf) };
    } catch (error) {
      return { kind: 'invalid', error, requestId: protoRequestId(buf) };
    }
  }
  // ws already refuses invalid UTF-8 in text frames (closing with 1007); a binary
  // frame on the json subprotocol gets no such check, and must not be decoded lossily.
  if (!isUtf8(buf)) return { kind: 'invalid', error: new BadRequestError(`frame: not valid UTF-8 (at byte ${firstInvalidUtf8(buf)}); JSON must be UTF-8`) };
  const text = jsonText(buf);
  if (text.trim() === '') return { kind: 'dryRun' };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { kind: 'invalid', error: new BadRequestError(`frame: invalid JSON (${(e as Error).message})`) };
  }
  if (body && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return { kind: 'end' };
  if (hasProtoKey(body)) {
    return { kind: 'invalid', error: new BadRequestError('frame: the key "__proto__" is not allowed'), requestId: jsonRequestId(body) };
  }
  try {
    return { kind: 'request', request: dataRequestFromJson(body) };
  } catch (error) {
    return { kind: 'invalid', error, requestId: jsonRequestId(body) };
  }
}

/** A processed request as a frame. */
export function encodeReply(mode: WsMode, res: DataRequest): Outgoing {
  return mode === 'bytes' ? Buffer.from(encodeDataRequest(res)) : JSON.stringify(dataRequestToJson(res));
}

/** A dry-run status as a frame (StatusProto, or the JSON HTTP's GET /dry_run gives). */
export function encodeDryRun(mode: WsMode, status: RequestStatus): Outgoing {
  return mode === 'bytes' ? Buffer.from(encodeStatus(status)) : JSON.stringify(statusToJson(status, true));
}

/**
 * A failure the caller should see. `bytes`: a DataRequest whose header.status is
 * ERROR, so Jina's client raises it for the right request id. `json`: the HTTP
 * error body, plus `request_id` when known so concurrent callers can match it.
 */
export function encodeError(
  mode: WsMode,
  code: ErrorCode,
  message: string,
  opts: { requestId?: string; request?: DataRequest; errorName?: string } = {},
): Outgoing {
  if (mode === 'json') {
    const error: Record<string, unknown> = { code, status: STATUS_MAP[code].http, message };
    const id = opts.request?.requestId ?? opts.requestId;
    if (id) error.request_id = id;
    return JSON.stringify({ error });
  }
  const req = opts.request ?? new DataRequest({ requestId: opts.requestId });
  req.status = {
    code: 'ERROR',
    description: message,
    exception: { name: opts.errorName ?? 'BadRequestError', args: [message], stacks: [], executor: '' },
    errorCode: code,
  };
  return Buffer.from(encodeDataRequest(req));
}

/** The reply for a frame that could not be decoded. */
export function encodeInvalid(mode: WsMode, error: unknown, requestId?: string): Outgoing {
  const name = error instanceof Error ? error.name : 'BadRequestError';
  return encodeError(mode, error instanceof ClipflowError ? errorCodeOf(error) : 'INVALID_ARGUMENT', errorMessage(error), { requestId, errorName: name });
}
