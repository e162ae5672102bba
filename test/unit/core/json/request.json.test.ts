import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DocumentArray } from '../../../../core/document/document-array.js';
import { BadRequestError } from '../../../../core/errors.js';
import { dataRequestFromJson, dataRequestToJson, statusToJson } from '../../../../core/json/request.json.js';
import { DataRequest } from '../../../../core/request/data-request.js';

function throwsAt(fn: () => unknown, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BadRequestError, String(e));
    assert.ok(e.message.startsWith(`${path}: `), `"${e.message}" should start with "${path}: "`);
    return true;
  });
}

describe('dataRequestFromJson', () => {
  it('reads the body clip_client posts to /post', () => {
    const req = dataRequestFromJson({
      data: [{ text: 'hello' }, { uri: 'https://x/y.jpg' }, { blob: 'AQID' }],
      execEndpoint: '/',
      parameters: { drop_image_content: true },
    });
    assert.equal(req.endpoint, '/');
    assert.deepEqual(req.parameters, { drop_image_content: true });
    assert.equal(req.docs.length, 3);
    assert.deepEqual(req.docs.map((d) => d.contentType), ['text', 'uri', 'blob']);
  });

  it('takes the endpoint from execEndpoint, exec_endpoint or header.exec_endpoint', () => {
    assert.equal(dataRequestFromJson({ execEndpoint: '/encode' }).endpoint, '/encode');
    assert.equal(dataRequestFromJson({ exec_endpoint: '/rank' }).endpoint, '/rank');
    assert.equal(dataRequestFromJson({ header: { exec_endpoint: '/index' } }).endpoint, '/index');
    assert.equal(dataRequestFromJson({ header: { execEndpoint: 'search' } }).endpoint, '/search');
    assert.equal(dataRequestFromJson({}).endpoint, '/');
    assert.equal(dataRequestFromJson({ execEndpoint: '/default' }).endpoint, '/');
  });

  it('prefers the body field over the header, and the URL override over both', () => {
    assert.equal(dataRequestFromJson({ execEndpoint: '/a', header: { exec_endpoint: '/b' } }).endpoint, '/a');
    assert.equal(dataRequestFromJson({ execEndpoint: '/a', header: { exec_endpoint: '/b' } }, '/rank').endpoint, '/rank');
  });

  it('keeps header.request_id and target executor', () => {
    const req = dataRequestFromJson({ header: { request_id: 'abc', target_executor: 'clip_o' } });
    assert.equal(req.requestId, 'abc');
    assert.equal(req.targetExecutor, 'clip_o');
    assert.match(dataRequestFromJson({}).requestId, /^[0-9a-f]{32}$/);
  });

  it('accepts {"data": {"docs": [...]}}, an empty body and null parts', () => {
    assert.deepEqual(dataRequestFromJson({ data: { docs: [{ id: 'a' }] } }).docs.map((d) => d.id), ['a']);
    assert.equal(dataRequestFromJson(undefined).docs.length, 0);
    assert.equal(dataRequestFromJson(null).docs.length, 0);
    const req = dataRequestFromJson({ data: null, parameters: null, header: null });
    assert.deepEqual(req.parameters, {});
  });

  it('ignores unknown top-level keys, as Jina\'s gateway does', () => {
    assert.equal(dataRequestFromJson({ data: [], something: 1 }).docs.length, 0);
  });

  for (const [label, body, path] of [
    ['parameters is a list', { parameters: [1] }, 'parameters'],
    ['parameters is a string', { parameters: 'x' }, 'parameters'],
    ['header is a string', { header: 'h' }, 'header'],
    ['header is a list', { header: [] }, 'header'],
    ['execEndpoint is a number', { execEndpoint: 5 }, 'execEndpoint'],
    ['header.request_id is a number', { header: { request_id: 1 } }, 'header.request_id'],
    ['header.exec_endpoint is a list', { header: { exec_endpoint: ['/'] } }, 'header.exec_endpoint'],
    ['data is a number', { data: 3 }, 'data'],
    ['a doc field is wrong', { data: [{}, { text: 1 }] }, 'data[1].text'],
    ['the body is a list', [{ text: 'x' }], 'request body'],
    ['the body is a string', 'hello', 'request body'],
  ] as const) {
    it(`refuses a body where ${label}, naming ${path}`, () => throwsAt(() => dataRequestFromJson(body), path));
  }
});

describe('dataRequestToJson', () => {
  const req = (): DataRequest => new DataRequest({
    requestId: 'r1',
    endpoint: '/encode',
    parameters: { limit: 3 },
    docs: new DocumentArray([{ id: 'd1', text: 'hi', embedding: [0.5, 1] }]),
    routes: [
      { executor: 'gateway', startTime: 1732650000123.456, endTime: 1732650000124 },
      { executor: 'clip_o', startTime: 1000.9996, endTime: 1700000000000.001 },
    ],
  });

  it('has exactly the DataRequestProto keys header, parameters, routes, data', () => {
    const out = dataRequestToJson(req());
    assert.deepEqual(Object.keys(out).sort(), ['data', 'header', 'parameters', 'routes']);
    assert.deepEqual(out.header, { request_id: 'r1', exec_endpoint: '/encode' });
    assert.deepEqual(out.parameters, { limit: 3 });
    assert.deepEqual(out.data, [{ id: 'd1', text: 'hi', embedding: [0.5, 1] }]);
  });

  it('writes route times as RFC 3339 with microseconds', () => {
    const routes = dataRequestToJson(req()).routes as Array<Record<string, string>>;
    for (const r of routes) for (const k of ['start_time', 'end_time']) assert.match(r[k]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.deepEqual(routes[0], { executor: 'gateway', start_time: '2024-11-26T19:40:00.123456Z', end_time: '2024-11-26T19:40:00.124000Z' });
    // 1000.9996 ms rounds up to 1.001000 s, it does not spill into a seventh digit.
    assert.equal(routes[1]!.start_time, '1970-01-01T00:00:01.001000Z');
    assert.equal(routes[1]!.end_time, '2023-11-14T22:13:20.000001Z');
    for (const r of routes) assert.ok(!Number.isNaN(Date.parse(r.start_time!)));
  });

  it('adds status (enum names, exception) and target_executor to the header when set', () => {
    const r = req();
    r.targetExecutor = 'clip_o';
    r.status = { code: 'ERROR', description: 'bad', exception: { name: 'ValueError', args: ['bad'], stacks: [], executor: 'clip_o' }, errorCode: 'INVALID_ARGUMENT' };
    const header = dataRequestToJson(r).header as Record<string, unknown>;
    assert.deepEqual(header, {
      request_id: 'r1', exec_endpoint: '/encode', target_executor: 'clip_o',
      status: { code: 'ERROR', description: 'bad', exception: { name: 'ValueError', args: ['bad'], stacks: [], executor: 'clip_o' } },
    });
    assert.equal(statusToJson(r.status, true).code, 1);
  });

  it('round trips through dataRequestFromJson', () => {
    const body = JSON.parse(JSON.stringify(dataRequestToJson(req()))) as Record<string, unknown>;
    const back = dataRequestFromJson(body);
    assert.equal(back.requestId, 'r1');
    assert.equal(back.endpoint, '/encode');
    assert.deepEqual(back.parameters, { limit: 3 });
    assert.deepEqual(dataRequestToJson(back).data, body.data);
  });

  it('an empty request still has all four keys', () => {
    const out = dataRequestToJson(new DataRequest({ requestId: 'x' }));
    assert.deepEqual(out, { header: { request_id: 'x', exec_endpoint: '/' }, parameters: {}, routes: [], data: [] });
  });
});
