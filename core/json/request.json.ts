import { BadRequestError } from '../errors.js';
import { DataRequest, type RequestStatus, type Route } from '../request/data-request.js';
import { documentsFromJson, documentToJson, typeName, type JsonDoc } from './document.json.js';

/**
 * DataRequest <-> Jina's HTTP/WebSocket JSON body. The reply holds only
 * DataRequestProto fields (header, parameters, routes, data): Jina's Python client
 * parses it with protobuf's strict ParseDict, which rejects unknown keys.
 */
export function statusToJson(s: RequestStatus, integerCodes = false): JsonDoc {
  const out: JsonDoc = { code: integerCodes ? (s.code === 'ERROR' ? 1 : 0) : s.code, description: s.description };
  if (s.exception) out.exception = { ...s.exception };
  return out;
}

function isoTime(ms: number): string {
  // Round once, on the whole microsecond count, so 999.9996 us carries into the next ms.
  const totalMicros = Math.round(ms * 1000);
  const whole = Math.floor(totalMicros / 1000);
  const micros = totalMicros - whole * 1000;
  const iso = new Date(whole).toISOString(); // ...sss Z
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

function routeToJson(r: Route): JsonDoc {
  const out: JsonDoc = { executor: r.executor };
  if (r.startTime !== undefined) out.start_time = isoTime(r.startTime);
  if (r.endTime !== undefined) out.end_time = isoTime(r.endTime);
  if (r.status) out.status = statusToJson(r.status);
  return out;
}

export function dataRequestToJson(req: DataRequest): JsonDoc {
  const header: JsonDoc = { request_id: req.requestId, exec_endpoint: req.endpoint };
  if (req.status) header.status = statusToJson(req.status);
  if (req.targetExecutor) header.target_executor = req.targetExecutor;
  return {
    header,
    parameters: req.parameters,
    routes: req.routes.map(routeToJson),
    data: req.docs.map(documentToJson),
  };
}

function optString(body: JsonDoc, where: string, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = body[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new BadRequestError(`${where === '' ? '' : where + '.'}${k}: expected a string, got ${typeName(v)}`);
    return v;
  }
  return undefined;
}

/**
 * Parses a Jina HTTP body. `endpoint` (from the URL path) overrides the body's
 * `execEndpoint`; unknown top-level keys are ignored as Jina's gateway does.
 */
export function dataRequestFromJson(body: unknown, endpoint?: string): DataRequest {
  if (body === undefined || body === null) body = {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestError(`request body: expected a JSON object, got ${typeName(body)}`);
  const b = body as JsonDoc;
  let header: JsonDoc = {};
  if (b.header !== undefined && b.header !== null) {
    if (typeof b.header !== 'object' || Array.isArray(b.header)) throw new BadRequestError(`header: expected an object, got ${typeName(b.header)}`);
    header = b.header as JsonDoc;
  }
  const params = b.parameters;
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    throw new BadRequestError(`parameters: expected an object, got ${typeName(params)}`);
  }
  const timeout = header.timeout;
  if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0 || timeout > 0xffffffff)) {
    throw new BadRequestError(`header.timeout: expected milliseconds as a non-negative integer, got ${typeof timeout === 'number' ? timeout : typeName(timeout)}`);
  }
  return new DataRequest({
    requestId: optString(header, 'header', 'request_id', 'requestId'),
    ...(typeof timeout === 'number' ? { timeout } : {}),
    endpoint: endpoint ?? optString(b, '', 'execEndpoint', 'exec_endpoint') ?? optString(header, 'header', 'exec_endpoint', 'execEndpoint'),
    targetExecutor: optString(b, '', 'targetExecutor', 'target_executor') ?? optString(header, 'header', 'target_executor', 'targetExecutor'),
    parameters: (params as Record<string, unknown>) ?? {},
    docs: documentsFromJson(b.data, 'data'),
  });
}
