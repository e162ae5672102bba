// BAD_INPUT.md, wire rows: malformed bodies, wrong types, invalid UTF-8, unknown
// endpoints, oversize messages, too many documents, over-long text and deep
// nesting, on every protocol, each beside a good request that must succeed.
import { after, before, describe, it } from 'node:test';
import { Document } from '../../../core/document/document.js';
import { assertDocumentRefused, assertRefused } from './expect.js';
import { grpcAddress, serveHardening, withNeighbour, type Served } from './harness.js';
import { grpcUnary, httpPost, requestBytes, requestJson, sendDocs, withGoodFirst, wsOnce } from './wire.js';

const MAX_MESSAGE = 1024 * 1024;

/** `text: "héllo"` with the é's second byte replaced by 0xff, as raw JSON bytes. */
function jsonWithBadUtf8(): Buffer {
  const body = Buffer.from(JSON.stringify({ data: [{ id: 'bad-1', text: 'héllo' }], execEndpoint: '/encode' }));
  body[body.indexOf(Buffer.from('é')) + 1] = 0xff;
  return body;
}

/** A DataRequestProto whose document text carries invalid UTF-8. */
function protoWithBadUtf8(): Buffer {
  const bytes = requestBytes([new Document({ id: 'bad-1', text: 'héllo' })]);
  bytes[bytes.indexOf(Buffer.from('é')) + 1] = 0xff;
  return bytes;
}

/** `{"data":[{"chunks":[{"chunks":[ ... ]}]}]}`, `depth` levels deep. */
function nestedJson(depth: number): string {
  return `{"execEndpoint":"/encode","data":[${'{"chunks":['.repeat(depth)}{"text":"x"}${']}'.repeat(depth)}]}`;
}

/** A length-delimited field: tag byte, varint length, payload. */
function field(tag: number, payload: Buffer): Buffer {
  const len: number[] = [];
  let n = payload.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n);
  return Buffer.concat([Buffer.from([tag, ...len]), payload]);
}

/** Written by hand: protobufjs's own encoder refuses to build a message this deep. */
function nestedProto(depth: number): Buffer {
  let doc = field(0x22, Buffer.from('x')); // DocumentProto.text
  for (let i = 0; i < depth; i++) doc = field(0x72, doc); // DocumentProto.chunks (14)
  return field(0x22, field(0x0a, field(0x0a, doc))); // DataRequestProto.data.docs.docs[0]
}

describe('bad requests on the wire, every protocol, each beside a good request', () => {
  let s: Served;
  before(async () => {
    s = await serveHardening({ gateway: `  max_message_size: ${MAX_MESSAGE}\n  max_docs_per_request: 50\n  max_text_chars: 1000` });
  });
  after(() => s.close(1000));

  it('invalid JSON / undecodable protobuf: 400, INVALID_ARGUMENT, WS error frame', async () => {
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), '{"data": [')), { via: 'status', code: 400 }, /request body: invalid JSON/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'json', '{"data": [')), { via: 'status', code: 'INVALID_ARGUMENT' }, /frame: invalid JSON/);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), Buffer.from([0x22, 0x09, 0x0a, 0x01]))), { via: 'status', code: 'INVALID_ARGUMENT' }, /not a valid jina\.DataRequestProto/);
  });

  it('wrong field types: 400 / error frame naming the field; protobuf with a mis-typed field is INVALID_ARGUMENT', async () => {
    const body = JSON.stringify({ data: [{ id: 'fine-0', text: 'ok' }, { id: 'bad-1', text: 5 }], execEndpoint: '/encode' });
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), body)), { via: 'status', code: 400 }, /data\[1\]\.text: expected a string, got a number \(document id "bad-1"\)/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'json', body)), { via: 'status', code: 'INVALID_ARGUMENT' }, /data\[1\]\.text: expected a string/);
    // DocumentProto.text (field 4) sent as a varint instead of a length-delimited string.
    const doc = Buffer.from([0x20, 0x05]);
    const docs = Buffer.concat([Buffer.from([0x0a, doc.length]), doc]);
    const data = Buffer.concat([Buffer.from([0x0a, docs.length]), docs]);
    const wrong = Buffer.concat([Buffer.from([0x22, data.length]), data]);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), wrong)), { via: 'status', code: 'INVALID_ARGUMENT' }, /not a valid jina\.DataRequestProto/);
    const params = JSON.stringify({ data: [], parameters: [1, 2] });
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), params)), { via: 'status', code: 400 }, /parameters: expected an object, got a list/);
  });

  it('invalid UTF-8: JSON body 400, protobuf string INVALID_ARGUMENT, WS text frame closed 1007, WS binary json frame error', async () => {
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), jsonWithBadUtf8())), { via: 'status', code: 400 }, /request body: not valid UTF-8 \(at byte \d+\)/);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), protoWithBadUtf8())), { via: 'status', code: 'INVALID_ARGUMENT' }, /invalid UTF-8 at byte \d+/);
    // RFC 6455 requires closing the connection on a text frame that is not UTF-8 (1007); only that socket goes.
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'json', jsonWithBadUtf8(), { binary: false })), { via: 'close', code: 1007 }, /^/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'json', jsonWithBadUtf8(), { binary: true })), { via: 'status', code: 'INVALID_ARGUMENT' }, /frame: not valid UTF-8/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'bytes', protoWithBadUtf8())), { via: 'in-band', code: 'BadRequestError' }, /invalid UTF-8/);
  });

  it('unknown endpoint: 404 / in-band NotFoundError listing the served endpoints', async () => {
    const docs = [new Document({ text: 'x' })];
    assertRefused('http', await withNeighbour(s, 'http', () => sendDocs('http', s, docs, '/nope')), { via: 'in-band', code: 404 }, /no executor serves endpoint \/nope; served endpoints: .*\/encode/);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => sendDocs('grpc', s, docs, '/nope')), { via: 'in-band', code: 'NotFoundError' }, /no executor serves endpoint \/nope/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => sendDocs('websocket', s, docs, '/nope')), { via: 'in-band', code: 'NotFoundError' }, /no executor serves endpoint \/nope/);
  });

  it('oversize message (over max_message_size): 413, RESOURCE_EXHAUSTED, WS closed 1009', async () => {
    const big = [new Document({ id: 'big', blob: new Uint8Array(MAX_MESSAGE + 1024) })];
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), requestJson(big))), { via: 'status', code: 413 }, /request body: larger than the 1048576-byte limit/);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), requestBytes(big))), { via: 'status', code: 'RESOURCE_EXHAUSTED' }, /larger than max/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'bytes', requestBytes(big))), { via: 'close', code: 1009 }, /^/);
  });

  it('too many documents (over max_docs_per_request): 413 / RESOURCE_EXHAUSTED / in-band', async () => {
    const many = Array.from({ length: 51 }, (_, i) => new Document({ text: `t${i}` }));
    const why = /more than 50 documents .*max_docs_per_request/;
    assertRefused('http', await withNeighbour(s, 'http', () => sendDocs('http', s, many)), { via: 'in-band', code: 413 }, why);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => sendDocs('grpc', s, many)), { via: 'status', code: 'RESOURCE_EXHAUSTED' }, why);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => sendDocs('websocket', s, many)), { via: 'in-band', code: 'PayloadTooLargeError' }, why);
  });

  it('text over max_text_chars: the caller\'s error, naming the document (nested ones too)', async () => {
    for (const protocol of ['grpc', 'http', 'websocket'] as const) {
      const long = new Document({ id: 'bad-1', text: 'é'.repeat(1001) });
      const seen = await withNeighbour(s, protocol, () => sendDocs(protocol, s, withGoodFirst(long)));
      assertDocumentRefused(protocol, seen, /document bad-1 \(index 1\)/, /text is 1001 characters, over the limit of 1000 \(max_text_chars\)/);
      const query = new Document({ id: 'q', text: 'query', matches: [{ id: 'm0', text: 'fine' }, { id: 'm1', text: 'x'.repeat(1500) }] });
      const nested = await withNeighbour(s, protocol, () => sendDocs(protocol, s, [query], '/rank'));
      assertDocumentRefused(protocol, nested, /document m1 \(index 0, matches\[1\]\)/, /1500 characters/);
    }
  });

  it('documents nested too deep: 400 / INVALID_ARGUMENT / error frame, never a stack overflow', async () => {
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), nestedJson(300))), { via: 'status', code: 400 }, /nested more than 100 levels deep/);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => wsOnce(s.url('websocket'), 'json', nestedJson(300))), { via: 'status', code: 'INVALID_ARGUMENT' }, /nested more than 100 levels deep/);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), nestedProto(150))), { via: 'status', code: 'INVALID_ARGUMENT' }, /nesting depth/);
  });
});
