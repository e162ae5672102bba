// Raw per-protocol senders that report exactly what a caller sees: the HTTP
// status and body, the gRPC status (or the in-band header.status), the WebSocket
// reply frame or close code. They bypass our Client so the bytes are the test's.
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';
import { Document } from '../../../core/document/document.js';
import { DocumentArray } from '../../../core/document/document-array.js';
import { documentToJson } from '../../../core/json/document.json.js';
import { decodeDataRequest, encodeDataRequest } from '../../../core/proto/request.codec.js';
import { DataRequest } from '../../../core/request/data-request.js';

/** What a caller got back, normalised across protocols. */
export type Seen =
  | { ok: true; docs: Array<Record<string, unknown>> }
  | {
      ok: false;
      /** in-band = header.status ERROR in a normal reply; status = HTTP/gRPC status or WS error frame; close = WS closed. */
      via: 'in-band' | 'status' | 'close';
      /** HTTP status, gRPC status name, WS error code or close code. */
      code: string | number;
      message: string;
    };

const SINGLE = '/jina.JinaSingleDataRequestRPC/process_single_data';

/** A request with these docs as DataRequestProto bytes (`timeout` = Jina's header.timeout, ms). */
export function requestBytes(docs: Document[], endpoint = '/encode', o: { requestId?: string; timeout?: number; parameters?: Record<string, unknown> } = {}): Buffer {
  const req = new DataRequest({ requestId: o.requestId ?? 'raw-1', endpoint, docs: new DocumentArray(docs), parameters: o.parameters ?? {}, ...(o.timeout !== undefined ? { timeout: o.timeout } : {}) });
  return Buffer.from(encodeDataRequest(req));
}

/** The same request as Jina's HTTP/WS JSON body. */
export function requestJson(docs: Document[], endpoint = '/encode', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ data: docs.map(documentToJson), execEndpoint: endpoint, ...extra });
}

function fromResponse(res: DataRequest): Seen {
  if (res.status?.code === 'ERROR') return { ok: false, via: 'in-band', code: res.status.exception?.name ?? 'ERROR', message: res.status.description };
  return { ok: true, docs: res.docs.map((d) => ({ id: d.id, embedding: d.embedding ? [...d.embedding] : undefined })) };
}

/** process_single_data with raw bytes (and optional metadata / deadline). */
export function grpcUnary(address: string, bytes: Buffer, options: { metadata?: Record<string, string>; deadlineMs?: number } = {}): Promise<Seen> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
  const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
  return new Promise((resolve) => {
    client.makeUnaryRequest(SINGLE, (b: Buffer) => b, (b: Buffer) => b, bytes, md, callOptions, (err, reply) => {
      client.close();
      if (err) return resolve({ ok: false, via: 'status', code: grpc.status[err.code], message: err.details });
      resolve(fromResponse(decodeDataRequest(reply!)));
    });
  });
}

/** POSTs a raw body; a Jina body with header.status ERROR is in-band, `{error}` is a transport status. */
export async function httpPost(url: string, body: string | Buffer, headers: Record<string, string> = {}, path = '/post'): Promise<Seen & { status: number }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const json = (await res.json()) as { header?: { status?: { description: string; exception?: { name: string } } }; error?: { code: string; message: string }; data?: Array<Record<string, unknown>> };
  if (res.status === 200) return { ok: true, docs: json.data ?? [], status: 200 };
  if (json.header?.status) return { ok: false, via: 'in-band', code: res.status, message: json.header.status.description, status: res.status };
  return { ok: false, via: 'status', code: res.status, message: json.error?.message ?? JSON.stringify(json), status: res.status };
}

/**
 * Opens a WebSocket (`json` or `bytes`), sends one frame, and resolves with the
 * first reply or the close. `binary` sends a string payload as a binary frame.
 */
export function wsOnce(url: string, mode: 'json' | 'bytes', frame: string | Buffer, options: { binary?: boolean; headers?: Record<string, string> } = {}): Promise<Seen> {
  const ws = new WebSocket(url, mode, { headers: options.headers ?? {} });
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (seen: Seen) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      resolve(seen);
    };
    ws.on('open', () => ws.send(frame, { binary: options.binary ?? typeof frame !== 'string' }));
    ws.on('message', (data: Buffer) => {
      if (mode === 'bytes') return done(fromResponse(decodeDataRequest(data)));
      const json = JSON.parse(data.toString('utf8')) as { header?: { status?: { code: unknown; description: string; exception?: { name: string } } }; error?: { code: string; message: string }; data?: Array<Record<string, unknown>> };
      if (json.error) return done({ ok: false, via: 'status', code: json.error.code, message: json.error.message });
      const st = json.header?.status;
      if (st && (st.code === 'ERROR' || st.code === 1)) return done({ ok: false, via: 'in-band', code: st.exception?.name ?? 'ERROR', message: st.description });
      done({ ok: true, docs: json.data ?? [] });
    });
    ws.on('close', (code: number, reason: Buffer) => done({ ok: false, via: 'close', code, message: reason.toString() }));
    ws.on('unexpected-response', (_req, res) => done({ ok: false, via: 'status', code: res.statusCode ?? 0, message: res.statusMessage ?? '' }));
    ws.on('error', (e) => (settled ? undefined : reject(e)));
  });
}

/** Sends `docs` on a protocol the way a well-behaved client would frame them (our codecs). */
export function sendDocs(protocol: 'grpc' | 'http' | 'websocket', serving: { url(p: string): string }, docs: Document[], endpoint = '/encode'): Promise<Seen> {
  if (protocol === 'grpc') return grpcUnary(serving.url('grpc').replace(/^grpc:\/\//, ''), requestBytes(docs, endpoint));
  if (protocol === 'http') return httpPost(serving.url('http'), requestJson(docs, endpoint));
  return wsOnce(serving.url('websocket'), 'json', requestJson(docs, endpoint));
}

/** `[good text, bad]`: the bad document sits at index 1 so messages must name the right index. */
export function withGoodFirst(bad: Document): Document[] {
  return [new Document({ id: 'fine-0', text: 'a fine caption' }), bad];
}
