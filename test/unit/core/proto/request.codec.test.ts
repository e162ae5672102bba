import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Long from 'long';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { BadRequestError } from '../../../../core/errors.js';
import { DataRequest, type RequestStatus } from '../../../../core/request/data-request.js';
import {
  dataRequestToProto, decodeDataRequest, decodeEndpoints, decodeInfo, decodeStatus, encodeDataRequest,
  encodeEndpoints, encodeInfo, encodeStatus, msToTimestamp, timestampToMs,
} from '../../../../core/proto/request.codec.js';
import { f32bytes, hex, ld, pyEncode, sub, tags, vf, walk } from './wire.js';

const f32 = (xs: number[]): Uint8Array => new Uint8Array(f32bytes(xs));
// protobufjs ships google.protobuf.Struct with camelCase names (keepCase does not reach it).
const num = (n: number) => ({ numberValue: n });
const str = (s: string) => ({ stringValue: s });

/** An embedding exactly as docarray v1 serializes a float32 numpy vector. */
const embedding = (xs: number[], dtype = '<f4', buffer = f32(xs)) => ({
  dense: { buffer, shape: [xs.length], dtype },
  cls_name: 'numpy',
});

/** A request as Jina's Python client (plus a gateway's route) fills DataRequestProto. */
function pythonRequest(): Record<string, unknown> {
  return {
    header: { request_id: '6f1c0d2e8a9b4c3d9e8f7a6b5c4d3e2f', exec_endpoint: '/rank' },
    parameters: {
      fields: {
        limit: num(5),
        drop_image_content: { boolValue: true },
        model: str('ViT-B-32::openai'),
        nothing: { nullValue: 0 },
        nested: { structValue: { fields: { ids: { listValue: { values: [num(1), str('two'), { boolValue: false }] } } } } },
      },
    },
    routes: [
      { executor: 'gateway', start_time: { seconds: 1732650000, nanos: 123456000 }, end_time: { seconds: 1732650001, nanos: 999999000 } },
      { executor: 'clip_o', start_time: { seconds: 1732650000, nanos: 500000000 }, end_time: { seconds: 1732650001, nanos: 1000 }, status: {} },
    ],
    data: {
      docs: {
        docs: [
          {
            id: 'a0000000000000000000000000000001',
            text: 'a photo of a dog',
            mime_type: 'text/plain',
            tags: { fields: { source: str('clip_client'), rank: num(2.5), meta: { structValue: { fields: { lang: str('en') } } } } },
            embedding: embedding([0.1, -0.2, 0.30000001192092896, 1e-7]),
            matches: [
              {
                id: 'm1', uri: 'https://example.com/dog.jpg', mime_type: 'image/jpeg', adjacency: 1,
                scores: { clip_score: { value: 0.75, op_name: 'softmax' }, clip_score_cosine: { value: 0.3125, op_name: 'cosine' } },
              },
              { id: 'm2', text: 'a dog', adjacency: 1, scores: { clip_score: { value: 0.25 } } },
            ],
            chunks: [{ id: 'c1', text: 'dog', granularity: 1, parent_id: 'a0000000000000000000000000000001', location: [2, 5] }],
          },
          { id: 'b0000000000000000000000000000002', blob: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]), uri: 'cat.png', mime_type: 'image/png' },
          {
            id: 'c0000000000000000000000000000003',
            tensor: { dense: { buffer: new Uint8Array([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]), shape: [2, 2, 3], dtype: '|u1' }, cls_name: 'numpy' },
            weight: 0.5,
            modality: 'image',
            evaluations: { precision: { value: 1, description: 'p@1', ref_id: 'q1' } },
          },
          { id: 'd0000000000000000000000000000004', uri: 'https://example.com/x.webp', offset: 3 },
        ],
      },
    },
  };
}

describe('request codec: byte-exact round trip of what the Python client sends', () => {
  it('decode -> encode gives identical bytes', () => {
    const bytes = pyEncode('jina.DataRequestProto', pythonRequest());
    const out = encodeDataRequest(decodeDataRequest(bytes));
    assert.equal(hex(out), hex(bytes));
  });

  it('also from a Node Buffer (what grpc-js hands over)', () => {
    const bytes = Buffer.from(pyEncode('jina.DataRequestProto', pythonRequest()));
    const req = decodeDataRequest(bytes);
    assert.deepEqual(Array.from(req.docs[0]!.embedding!), Array.from(new Float32Array([0.1, -0.2, 0.30000001192092896, 1e-7])));
    assert.equal(hex(encodeDataRequest(req)), hex(bytes));
  });

  it('decodes every field to the right place', () => {
    const req = decodeDataRequest(pyEncode('jina.DataRequestProto', pythonRequest()));
    assert.equal(req.requestId, '6f1c0d2e8a9b4c3d9e8f7a6b5c4d3e2f');
    assert.equal(req.endpoint, '/rank');
    assert.deepEqual(req.parameters, {
      limit: 5, drop_image_content: true, model: 'ViT-B-32::openai', nothing: null, nested: { ids: [1, 'two', false] },
    });
    assert.equal(req.routes.length, 2);
    assert.equal(req.routes[0]!.executor, 'gateway');
    assert.ok(Math.abs(req.routes[0]!.startTime! - 1732650000123.456) < 1e-3);
    assert.ok(Math.abs(req.routes[0]!.endTime! - 1732650001999.999) < 1e-3);
    assert.deepEqual(req.routes[1]!.status, { code: 'SUCCESS', description: '' });

    const [text, blob, tensor, uri] = req.docs;
    assert.equal(req.docs.length, 4);
    assert.equal(text!.id, 'a0000000000000000000000000000001');
    assert.equal(text!.text, 'a photo of a dog');
    assert.equal(text!.mimeType, 'text/plain');
    assert.deepEqual(text!.tags, { source: 'clip_client', rank: 2.5, meta: { lang: 'en' } });
    assert.ok(text!.embedding instanceof Float32Array);
    assert.deepEqual(text!.embedding, new Float32Array([0.1, -0.2, 0.30000001192092896, 1e-7]));
    assert.deepEqual(text!.matches.map((m) => m.id), ['m1', 'm2']);
    assert.deepEqual(text!.matches[0]!.scores, {
      clip_score: { value: 0.75, opName: 'softmax' }, clip_score_cosine: { value: 0.3125, opName: 'cosine' },
    });
    assert.equal(text!.matches[0]!.uri, 'https://example.com/dog.jpg');
    assert.deepEqual([text!.chunks[0]!.parentId, text!.chunks[0]!.granularity, text!.chunks[0]!.location], [text!.id, 1, [2, 5]]);
    assert.deepEqual([...blob!.blob!], [0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    assert.equal(blob!.contentType, 'blob');
    assert.deepEqual(tensor!.tensor!.toNested(), [[[0, 1, 2], [3, 4, 5]], [[250, 251, 252], [253, 254, 255]]]);
    assert.deepEqual(tensor!.evaluations, { precision: { value: 1, description: 'p@1', refId: 'q1' } });
    assert.equal(uri!.uri, 'https://example.com/x.webp');
    assert.equal(uri!.offset, 3);
  });

  it('round trips a gateway reply: status ERROR with exception, target executor, timeout', () => {
    const reply = {
      header: {
        request_id: 'r1',
        exec_endpoint: '/encode',
        target_executor: 'clip_o',
        timeout: 3000,
        status: {
          code: 1, // ERROR
          description: 'ValueError: bad image',
          exception: { name: 'ValueError', args: ['bad image', 'doc x'], stacks: ['Traceback...', '  line 1'], executor: 'clip_o' },
        },
      },
      routes: [{ executor: 'gateway', start_time: { seconds: 1700000000, nanos: 1000 }, status: { code: 1, description: 'x' } }],
      data: { docs: { docs: [{ id: 'x', uri: 'file:///nope.png' }] } },
    };
    const bytes = pyEncode('jina.DataRequestProto', reply);
    const req = decodeDataRequest(bytes);
    assert.equal(req.targetExecutor, 'clip_o');
    assert.equal(req.timeout, 3000);
    assert.ok(req.failed);
    assert.deepEqual(req.status, {
      code: 'ERROR', description: 'ValueError: bad image',
      exception: { name: 'ValueError', args: ['bad image', 'doc x'], stacks: ['Traceback...', '  line 1'], executor: 'clip_o' },
    });
    assert.equal(hex(encodeDataRequest(req)), hex(bytes));
  });
});

describe('request codec: field numbers on the wire', () => {
  it('decodes a hand-assembled DataRequestProto', () => {
    const doc = [...ld(1, 'doc-1'), ...ld(4, 'hello')];
    const bytes = new Uint8Array([
      ...ld(1, [...ld(1, 'req-9'), ...ld(3, '/encode')]), // header { request_id=1, exec_endpoint=3 }
      ...ld(2, ld(1, [...ld(1, 'k'), ...ld(2, ld(3, 'v'))])), // parameters Struct { k: 'v' }
      ...ld(4, ld(1, ld(1, doc))), // data { docs=1 { docs=1 [doc] } }
    ]);
    const req = decodeDataRequest(bytes);
    assert.equal(req.requestId, 'req-9');
    assert.equal(req.endpoint, '/encode');
    assert.deepEqual(req.parameters, { k: 'v' });
    assert.equal(req.docs[0]!.id, 'doc-1');
    assert.equal(req.docs[0]!.text, 'hello');
  });

  it('encodes header=1, parameters=2, routes=3, data=4 and the header fields under their numbers', () => {
    const req = new DataRequest({
      requestId: 'id1', endpoint: '/encode', targetExecutor: 't', timeout: 10, parameters: { a: 1 },
      routes: [{ executor: 'gateway', startTime: 1000.5, endTime: 2000 }],
      docs: new DocumentArray([{ id: 'd', text: 'x' }]),
      status: { code: 'ERROR', description: 'boom' },
    });
    const bytes = encodeDataRequest(req);
    assert.deepEqual(tags(bytes), ['0a', '12', '1a', '22']);
    const header = sub(bytes, 1);
    assert.deepEqual(tags(header), ['0a', '12', '1a', '22', '28']);
    assert.equal(Buffer.from(sub(header, 3)).toString(), '/encode');
    const route = walk(sub(bytes, 3));
    assert.deepEqual(route.map((f) => f.tag), ['0a', '12', '1a']);
    // start 1000.5 ms = { seconds: 1, nanos: 500000 }; end 2000 ms = { seconds: 2 } (nanos 0 left off)
    assert.equal(hex(route[1]!.bytes!), hex(new Uint8Array([...vf(1, 1), ...vf(2, 500000)])));
    assert.equal(hex(route[2]!.bytes!), hex(new Uint8Array(vf(1, 2))));
    const docs = sub(sub(sub(bytes, 4), 1), 1);
    assert.deepEqual(tags(docs), ['0a', '22']);
  });

  it('a fresh request names the default endpoint "/" and sends no empty parameters or routes', () => {
    const p = dataRequestToProto(new DataRequest({ requestId: 'x' }));
    assert.equal(p.header!.execEndpoint, '/');
    assert.equal(p.parameters, undefined);
    assert.equal(p.routes, undefined);
    assert.deepEqual(tags(encodeDataRequest(new DataRequest({ requestId: 'x' }))), ['0a', '22']);
  });
});

describe('request codec: decoding edge cases', () => {
  it('an empty message is a request for the default endpoint with no docs', () => {
    const req = decodeDataRequest(new Uint8Array(0));
    assert.equal(req.endpoint, '/');
    assert.equal(req.docs.length, 0);
    assert.match(req.requestId, /^[0-9a-f]{32}$/);
  });

  it('/default and a missing slash normalize', () => {
    assert.equal(decodeDataRequest(new Uint8Array(ld(1, ld(3, '/default')))).endpoint, '/');
    assert.equal(decodeDataRequest(new Uint8Array(ld(1, ld(3, 'encode')))).endpoint, '/encode');
  });

  it('refuses pickled docs_bytes with a BadRequestError naming data.docs_bytes', () => {
    const bytes = pyEncode('jina.DataRequestProto', { header: { request_id: 'p' }, data: { docs_bytes: new Uint8Array([0x80, 4, 0x95]) } });
    assert.throws(() => decodeDataRequest(bytes), (e: unknown) => {
      assert.ok(e instanceof BadRequestError);
      assert.match(e.message, /data\.docs_bytes/);
      assert.equal(e.httpStatus, 400);
      return true;
    });
  });

  for (const [label, bytes] of [
    ['a length past the end', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]],
    ['a truncated nested message', [0x22, 0x02, 0x0a, 0x05]],
    ['an invalid wire type', [0x0f]],
    ['JSON text', [...Buffer.from('{"data":[{"text":"hi"}]}')]],
    ['an HTTP request line', [...Buffer.from('GET / HTTP/1.1\r\n\r\n')]],
  ] as const) {
    it(`answers garbage (${label}) with a BadRequestError`, () => {
      assert.throws(() => decodeDataRequest(new Uint8Array(bytes)), (e: unknown) => {
        assert.ok(e instanceof BadRequestError, String(e));
        assert.match(e.message, /not a valid jina\.DataRequestProto/);
        return true;
      });
    });
  }

  it('names the document in content errors', () => {
    const badDoc = ld(16, ld(1, [...ld(1, [1, 2, 3]), ...ld(3, '<f4')]));
    const bytes = new Uint8Array(ld(4, ld(1, [...ld(1, ld(1, 'ok')), ...ld(1, [...ld(1, 'bad'), ...badDoc])])));
    assert.throws(() => decodeDataRequest(bytes), (e: unknown) => e instanceof BadRequestError && /^data\.docs\[1\]\.embedding/.test(e.message));
  });
});

describe('request codec: timestamps', () => {
  it('Timestamp -> ms -> Timestamp is exact at microsecond precision', () => {
    const cases = [
      { seconds: 1732650000, nanos: 123456000 },
      { seconds: 1732650000, nanos: 999999000 },
      { seconds: 1732650000, nanos: 1000 },
      { seconds: 4102444800, nanos: 500001000 }, // 2100-01-01
      { seconds: 1, nanos: 999000 },
    ];
    // and a thousand pseudo-random present-day instants
    let x = 12345;
    for (let i = 0; i < 1000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      cases.push({ seconds: 1_600_000_000 + (x % 200_000_000), nanos: (x % 1_000_000) * 1000 });
    }
    for (const t of cases) assert.deepEqual(msToTimestamp(timestampToMs(t)!), t);
  });

  it('ms -> Timestamp -> ms keeps microseconds', () => {
    for (const ms of [0.001, 1732650000123.456, 1732650000999.999, 1e12 + 0.5]) {
      assert.ok(Math.abs(timestampToMs(msToTimestamp(ms))! - ms) < 5e-4, String(ms));
    }
  });

  it('carries a fraction that rounds up to a whole second into the seconds', () => {
    assert.deepEqual(msToTimestamp(1999.9999999), { seconds: 2 });
    assert.deepEqual(msToTimestamp(1732650000999.9999), { seconds: 1732650001 });
  });

  it('leaves zero fields off, like Python (proto3 defaults)', () => {
    assert.deepEqual(msToTimestamp(0), {});
    assert.deepEqual(msToTimestamp(5000), { seconds: 5 });
    assert.deepEqual(msToTimestamp(0.5), { nanos: 500000 });
  });

  it('reads int64 seconds given as a Long and missing fields as zero', () => {
    assert.equal(timestampToMs({ seconds: Long.fromNumber(1732650000), nanos: 5_000_000 }), 1732650000005);
    assert.equal(timestampToMs({}), 0);
    assert.equal(timestampToMs(undefined), undefined);
  });
});

describe('request codec: status, endpoints, info', () => {
  it('round trips an ERROR status with exception name, args, stacks and executor', () => {
    const s: RequestStatus = {
      code: 'ERROR', description: 'RangeError: boom',
      exception: { name: 'RangeError', args: ['boom'], stacks: ['at x', 'at y'], executor: 'failing' },
    };
    const bytes = encodeStatus(s);
    assert.deepEqual(tags(bytes), ['08', '12', '1a']);
    assert.deepEqual(tags(sub(bytes, 3)), ['0a', '12', '1a', '1a', '22']);
    assert.deepEqual(decodeStatus(bytes), s);
  });

  it('encodes SUCCESS as Python does (no fields) and decodes it back', () => {
    const bytes = encodeStatus({ code: 'SUCCESS', description: '' });
    assert.equal(bytes.length, 0);
    assert.deepEqual(decodeStatus(bytes), { code: 'SUCCESS', description: '' });
    assert.deepEqual(decodeStatus(encodeStatus({ code: 'SUCCESS', description: 'ok' })), { code: 'SUCCESS', description: 'ok' });
  });

  it('leaves empty exception fields off the wire', () => {
    const bytes = encodeStatus({ code: 'ERROR', description: 'x', exception: { name: 'E', args: [], stacks: [], executor: '' } });
    assert.deepEqual(tags(sub(bytes, 3)), ['0a']);
  });

  it('does not put our errorCode on the wire', () => {
    const a = encodeStatus({ code: 'ERROR', description: 'd', errorCode: 'INVALID_ARGUMENT' });
    const b = encodeStatus({ code: 'ERROR', description: 'd' });
    assert.equal(hex(a), hex(b));
  });

  it('encodes and decodes endpoints (endpoints=1, write_endpoints=2)', () => {
    const bytes = encodeEndpoints(['/', '/encode', '/rank'], ['/index']);
    assert.deepEqual(tags(bytes), ['0a', '0a', '0a', '12']);
    assert.deepEqual(decodeEndpoints(bytes), { endpoints: ['/', '/encode', '/rank'], writeEndpoints: ['/index'] });
    assert.deepEqual(decodeEndpoints(encodeEndpoints([])), { endpoints: [], writeEndpoints: [] });
    const py = pyEncode('jina.EndpointsProto', { endpoints: ['/a'], write_endpoints: ['/b'] });
    assert.deepEqual(decodeEndpoints(py), { endpoints: ['/a'], writeEndpoints: ['/b'] });
  });

  it('encodes and decodes info maps (jina=1, envs=2)', () => {
    const bytes = encodeInfo({ jina: '3.25.0', 'proto-backend': 'upb' }, { JINA_LOG_LEVEL: 'INFO' });
    assert.deepEqual(tags(bytes), ['0a', '0a', '12']);
    assert.deepEqual(decodeInfo(bytes), { jina: { jina: '3.25.0', 'proto-backend': 'upb' }, envs: { JINA_LOG_LEVEL: 'INFO' } });
  });
});
