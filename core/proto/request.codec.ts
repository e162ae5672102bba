import { DocumentArray } from '../document/document-array.js';
import { BadRequestError } from '../errors.js';
import { DataRequest, type RequestStatus, type Route } from '../request/data-request.js';
import { documentFromProto, documentToProto, type DocumentProtoObj } from './document.codec.js';
import { strictReader, T } from './schema.js';
import { fromStruct, toStruct, type StructObj } from './struct.js';

interface TimestampObj {
  seconds?: number | { toNumber(): number };
  nanos?: number;
}
interface StatusObj {
  code?: number;
  description?: string;
  exception?: { name?: string; args?: string[]; stacks?: string[]; executor?: string };
}
interface RouteObj {
  executor?: string;
  startTime?: TimestampObj;
  endTime?: TimestampObj;
  status?: StatusObj;
}
interface DataRequestObj {
  header?: { requestId?: string; status?: StatusObj; execEndpoint?: string; targetExecutor?: string; timeout?: number };
  parameters?: StructObj;
  routes?: RouteObj[];
  data?: { docs?: { docs?: DocumentProtoObj[] }; docsBytes?: Uint8Array };
}

const own = (o: object | undefined, k: string): boolean => !!o && Object.prototype.hasOwnProperty.call(o, k);

export function timestampToMs(t: TimestampObj | undefined): number | undefined {
  if (!t) return undefined;
  const s = typeof t.seconds === 'object' && t.seconds ? t.seconds.toNumber() : Number(t.seconds ?? 0);
  return s * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * Epoch ms -> Timestamp, rounded to whole microseconds: a double holding epoch ms
 * is only good to ~0.2 us, so finer digits would be noise, and Python's
 * `Timestamp.GetCurrentTime()` values (whole microseconds) then round trip exactly.
 */
export function msToTimestamp(ms: number): TimestampObj {
  let seconds = Math.floor(ms / 1000);
  let micros = Math.round((ms - seconds * 1000) * 1000);
  // Rounding up to a whole second carries into seconds instead of wrapping to 0.
  if (micros >= 1_000_000) {
    seconds += 1;
    micros -= 1_000_000;
  }
  // Like Python's protobuf, leave zero fields off the wire (proto3 implicit presence).
  const out: TimestampObj = {};
  if (seconds) out.seconds = seconds;
  if (micros) out.nanos = micros * 1000;
  return out;
}

/**
 * Only non-default fields are set: protobufjs writes every property it is given, even
 * `code: 0` or `''`, while Python's protobuf leaves proto3 defaults off the wire.
 */
export function statusToProto(s: RequestStatus): StatusObj {
  const out: StatusObj = {};
  if (s.code === 'ERROR') out.code = 1;
  if (s.description) out.description = s.description;
  if (s.exception) {
    const x = s.exception;
    const exception: NonNullable<StatusObj['exception']> = {};
    if (x.name) exception.name = x.name;
    if (x.args?.length) exception.args = [...x.args];
    if (x.stacks?.length) exception.stacks = [...x.stacks];
    if (x.executor) exception.executor = x.executor;
    out.exception = exception;
  }
  return out;
}

export function statusFromProto(s: StatusObj): RequestStatus {
  const out: RequestStatus = { code: s.code === 1 ? 'ERROR' : 'SUCCESS', description: s.description ?? '' };
  if (s.exception) {
    out.exception = {
      name: s.exception.name ?? '',
      args: Array.from(s.exception.args ?? []),
      stacks: Array.from(s.exception.stacks ?? []),
      executor: s.exception.executor ?? '',
    };
  }
  return out;
}

function routeToProto(r: Route): RouteObj {
  const out: RouteObj = {};
  if (r.executor) out.executor = r.executor;
  if (r.startTime !== undefined) out.startTime = msToTimestamp(r.startTime);
  if (r.endTime !== undefined) out.endTime = msToTimestamp(r.endTime);
  if (r.status) out.status = statusToProto(r.status);
  return out;
}

function routeFromProto(r: RouteObj): Route {
  const out: Route = { executor: r.executor ?? '' };
  const start = timestampToMs(r.startTime);
  const end = timestampToMs(r.endTime);
  if (start !== undefined) out.startTime = start;
  if (end !== undefined) out.endTime = end;
  if (r.status) out.status = statusFromProto(r.status);
  return out;
}

/** DataRequest -> DataRequestProto object. */
export function dataRequestToProto(req: DataRequest): DataRequestObj {
  const header: DataRequestObj['header'] = { requestId: req.requestId, execEndpoint: req.endpoint };
  if (req.status) header.status = statusToProto(req.status);
  if (req.targetExecutor) header.targetExecutor = req.targetExecutor;
  if (req.timeout !== undefined) header.timeout = req.timeout;
  const out: DataRequestObj = { header, data: { docs: { docs: req.docs.map(documentToProto) } } };
  if (Object.keys(req.parameters).length) out.parameters = toStruct(req.parameters);
  if (req.routes.length) out.routes = req.routes.map(routeToProto);
  return out;
}

/** DataRequestProto (decoded) -> DataRequest. Pickled `docs_bytes` is refused: we never unpickle. */
export function dataRequestFromProto(p: DataRequestObj): DataRequest {
  const header = p.header ?? {};
  if (own(p.data, 'docsBytes') && p.data?.docsBytes?.length) {
    throw new BadRequestError('data.docs_bytes: pickled documents are not accepted; send data.docs (DocumentArrayProto)');
  }
  const docs = new DocumentArray((p.data?.docs?.docs ?? []).map((d, i) => documentFromProto(d, `data.docs[${i}]`)));
  const req = new DataRequest({
    requestId: header.requestId || undefined,
    endpoint: own(header, 'execEndpoint') ? header.execEndpoint : undefined,
    targetExecutor: header.targetExecutor || undefined,
    timeout: own(header, 'timeout') ? header.timeout : undefined,
    parameters: fromStruct(p.parameters, 'parameters'),
    docs,
    routes: (p.routes ?? []).map(routeFromProto),
  });
  if (header.status) req.status = statusFromProto(header.status);
  return req;
}

export function encodeDataRequest(req: DataRequest): Uint8Array {
  return T.dataRequest.encode(dataRequestToProto(req) as Record<string, unknown>).finish();
}

/** Decodes wire bytes; any protobuf or content problem is the caller's error. */
export function decodeDataRequest(bytes: Uint8Array): DataRequest {
  let msg: DataRequestObj;
  try {
    msg = T.dataRequest.decode(strictReader(bytes)) as unknown as DataRequestObj;
  } catch (e) {
    throw new BadRequestError(`request is not a valid jina.DataRequestProto: ${(e as Error).message}`);
  }
  return dataRequestFromProto(msg);
}

export function encodeStatus(status: RequestStatus): Uint8Array {
  return T.status.encode(statusToProto(status) as Record<string, unknown>).finish();
}

export function decodeStatus(bytes: Uint8Array): RequestStatus {
  return statusFromProto(T.status.decode(bytes) as unknown as StatusObj);
}

export function encodeEndpoints(endpoints: string[], writeEndpoints: string[] = []): Uint8Array {
  return T.endpoints.encode({ endpoints, writeEndpoints }).finish();
}

export function decodeEndpoints(bytes: Uint8Array): { endpoints: string[]; writeEndpoints: string[] } {
  const m = T.endpoints.decode(bytes) as unknown as { endpoints?: string[]; writeEndpoints?: string[] };
  return { endpoints: Array.from(m.endpoints ?? []), writeEndpoints: Array.from(m.writeEndpoints ?? []) };
}

export function encodeInfo(jina: Record<string, string>, envs: Record<string, string>): Uint8Array {
  return T.info.encode({ jina, envs }).finish();
}

export function decodeInfo(bytes: Uint8Array): { jina: Record<string, string>; envs: Record<string, string> } {
  const m = T.info.decode(bytes) as unknown as { jina?: Record<string, string>; envs?: Record<string, string> };
  return { jina: { ...(m.jina ?? {}) }, envs: { ...(m.envs ?? {}) } };
}

export const EMPTY = new Uint8Array(0);
