import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../../core/flow/config.js';
import { Flow } from '../../../core/flow/flow.js';
import { startHttpServer } from '../../../core/serve/http/http.server.js';
import type { RunningServer, TransportOptions } from '../../../core/serve/transport.js';
import { hashEmbedding } from '../../fixtures/executors/basic.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../../fixtures/executors/basic.js');
const MB = 1024 * 1024;
const uses = (jtype: string, extra = '') => `{ jtype: ${jtype}, ${extra} metas: { modules: [${JSON.stringify(FIXTURES)}] } }`;

/** upper (tags on any endpoint, upper-cases /upper) → enc (embeds on /, /encode, /index, /search) → failing (/fail) → slow. */
const FLOW_YAML = `
jtype: Flow
executors:
  - { name: upper, uses: ${uses('Upper')} }
  - { name: enc, uses: ${uses('HashEncoder', 'with: { dim: 4 },')} }
  - { name: failing, uses: ${uses('Failing')} }
  - { name: slow, uses: ${uses('Slow', 'with: { delay_ms: 0 },')} }
`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function options(over: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: '127.0.0.1', port: 0, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, compression: true, cors: false,
    noDebugEndpoints: false, noCrudEndpoints: false, logger: pino({ level: 'silent' }), ...over,
  };
}

describe('HTTP gateway', () => {
  let flow: Flow;
  let server: RunningServer; // defaults: 64 MB, gzip on
  let small: RunningServer; // 1 MB, no gzip, CORS, no debug/CRUD routes
  const call = async (path: string, body?: unknown, init: RequestInit = {}) => {
    const res = await fetch(`${server.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });
    const text = await res.text();
    return { res, status: res.status, body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Json };
  };

  before(async () => {
    flow = Flow.fromYaml(FLOW_YAML, here, undefined, { logger: pino({ level: 'silent' }) });
    await flow.start();
    server = await startHttpServer(flow, options());
    small = await startHttpServer(flow, options({ maxMessageSize: MB, compression: false, cors: true, noDebugEndpoints: true, noCrudEndpoints: true }));
  });
  after(async () => {
    await Promise.all([server?.close(), small?.close()]);
    await flow?.close();
  });

  test('reports the real port and an http url', () => {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  test('POST /post round-trips ids, request_id, parameters and routes', async () => {
    const { status, body, res } = await call('/post', {
      data: [{ id: 'a', text: 'hello' }, { id: 'b', text: 'world' }],
      execEndpoint: '/upper', parameters: { k: 1, nested: { x: [1, 2] } }, header: { request_id: 'req-1' },
    });
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(body).sort(), ['data', 'header', 'parameters', 'routes']);
    assert.equal(body.header.request_id, 'req-1');
    assert.equal(body.header.exec_endpoint, '/upper');
    assert.equal(res.headers.get('x-request-id'), 'req-1');
    assert.deepEqual(body.parameters, { k: 1, nested: { x: [1, 2] } });
    assert.deepEqual(body.data.map((d: Json) => [d.id, d.text]), [['a', 'HELLO'], ['b', 'WORLD']]);
    assert.equal(body.routes[0].executor, 'gateway');
    assert.ok(body.routes.some((r: Json) => r.executor === 'upper' && r.start_time && r.end_time));
  });

  test("POST /post takes the Python client's exec_endpoint and makes up a request id", async () => {
    const { status, body, res } = await call('/post', { data: [{ id: 'x', text: 'py' }], exec_endpoint: '/upper' });
    assert.equal(status, 200);
    assert.equal(body.data[0].text, 'PY');
    assert.match(body.header.request_id, /^\S+$/);
    assert.equal(res.headers.get('x-request-id'), body.header.request_id);
  });

  test('POST /<endpoint> takes the endpoint from the path', async () => {
    const enc = await call('/encode', { data: [{ id: 'e', text: 'abc' }] });
    assert.equal(enc.status, 200);
    assert.equal(enc.body.header.exec_endpoint, '/encode');
    assert.deepEqual(enc.body.data[0].embedding, Array.from(hashEmbedding('abc', 4)));
    const nested = await call('/encode/ViT-B-32', { data: [{ id: 'n', text: 'q' }] });
    assert.equal(nested.status, 200);
    assert.equal(nested.body.header.exec_endpoint, '/encode/ViT-B-32');
    assert.deepEqual(nested.body.data[0].tags.seen_by, ['upper']);
  });

  test('CRUD routes answer with their methods; a wrong method gets 405', async () => {
    for (const [method, path] of [['POST', '/index'], ['POST', '/search'], ['PUT', '/update'], ['POST', '/update'], ['DELETE', '/delete'], ['POST', '/delete']]) {
      const { status, body } = await call(path!, { data: [{ id: 'c', text: 'crud' }] }, { method });
      assert.equal(status, 200, `${method} ${path}`);
      assert.equal(body.header.exec_endpoint, path);
      assert.equal(body.data[0].id, 'c');
    }
    const wrong = await call('/index');
    assert.equal(wrong.status, 405);
    assert.equal(wrong.res.headers.get('allow'), 'POST');
    assert.equal(wrong.body.error.status, 405);
  });

  test('an executor error is in-band: 500 with the full body and header.status ERROR', async () => {
    const { status, body } = await call('/fail', { data: [{ id: 'f' }], parameters: { message: 'nope' }, header: { request_id: 'bad-1' } });
    assert.equal(status, 500);
    assert.equal(body.header.request_id, 'bad-1');
    assert.equal(body.header.status.code, 'ERROR');
    assert.equal(body.header.status.exception.executor, 'failing');
    assert.equal(body.header.status.exception.name, 'RangeError');
    assert.deepEqual(body.header.status.exception.args, ['nope']);
    assert.equal(body.data[0].id, 'f');
  });

  test('caller mistakes are 400 JSON errors naming the problem', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{"data": [', /invalid JSON/],
      ['[1, 2]', /request body: expected a JSON object/],
      ['{"data":[{"text":5}]}', /data\[0\]\.text/],
      ['{"data":[{"blob":"@@not base64@@"}]}', /data\[0\]\.blob/],
      ['{"parameters": 3}', /parameters/],
    ];
    for (const [raw, message] of cases) {
      const { status, body } = await call('/post', raw);
      assert.equal(status, 400, raw);
      assert.equal(body.error.code, 'INVALID_ARGUMENT');
      assert.equal(body.error.status, 400);
      assert.match(body.error.message, message);
      assert.doesNotMatch(JSON.stringify(body), /\n\s+at /); // no stack trace
    }
  });

  test('accepts JSON sent as text/plain or without a content type; refuses other media types', async () => {
    const body = JSON.stringify({ data: [{ text: 'curl' }] });
    assert.equal((await call('/upper', body, { headers: { 'content-type': 'text/plain' } })).body.data[0].text, 'CURL');
    const none = await fetch(`${server.url}/upper`, { method: 'POST', body: Buffer.from(body) });
    assert.equal(none.status, 200);
    const octet = await call('/upper', body, { headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(octet.status, 415);
    assert.match(octet.body.error.message, /content-type/);
  });

  test('a 20 MB body passes with the default limit', async () => {
    const blob = Buffer.alloc(15 * MB, 7).toString('base64'); // 20 MB of base64
    const { status, body } = await call('/upper', { data: [{ id: 'big', blob }] }, { headers: { 'content-type': 'application/json', 'accept-encoding': 'identity' } });
    assert.equal(status, 200);
    assert.equal(body.data[0].blob.length, blob.length);
  });

  test('a body over maxMessageSize is 413, gzipped or not', async () => {
    const big = JSON.stringify({ data: [{ text: 'x'.repeat(2 * MB) }] });
    for (const init of [{ body: big }, { body: gzipSync(big), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }]) {
      const res = await fetch(`${small.url}/post`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...init });
      assert.equal(res.status, 413);
      const body = (await res.json()) as Json;
      assert.equal(body.error.code, 'PAYLOAD_TOO_LARGE');
      assert.match(body.error.message, /1048576/);
    }
  });

  test('gzip request bodies are inflated; responses are gzipped when enabled', async () => {
    const data = Array.from({ length: 50 }, (_, i) => ({ id: `g${i}`, text: `gzip text ${i}` }));
    const res = await fetch(`${server.url}/upper`, {
      method: 'POST', body: gzipSync(JSON.stringify({ data })),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'accept-encoding': 'gzip' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-encoding'), 'gzip');
    const body = (await res.json()) as Json; // fetch inflates it
    assert.equal(body.data[49].text, 'GZIP TEXT 49');
    const plain = await fetch(`${small.url}/upper`, { method: 'POST', body: JSON.stringify({ data }), headers: { 'accept-encoding': 'gzip' } });
    assert.equal(plain.headers.get('content-encoding'), null);
  });

  test('GET /, /status, /dry_run, /health, /metrics', async () => {
    assert.deepEqual((await call('/')).body, {});
    const st = await call('/status');
    assert.equal(typeof st.body.jina, 'object');
    assert.equal(typeof st.body.envs, 'object');
    assert.deepEqual((await call('/dry_run')).body, { code: 0, description: '' });
    const health = await call('/health');
    assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
    const metrics = await call('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.res.headers.get('content-type') ?? '', /text\/plain/);
  });

  test('GET /openapi.json lists /post, the CRUD routes and the flow endpoints', async () => {
    const { status, body } = await call('/openapi.json');
    assert.equal(status, 200);
    assert.match(body.openapi, /^3\.0\./);
    for (const p of ['/post', '/index', '/update', '/upper', '/fail', '/encode', '/health']) assert.ok(body.paths[p], p);
    assert.ok(body.paths['/update'].put && body.paths['/delete'].delete && body.paths['/upper'].post);
    assert.ok(body.components.schemas.DataRequest);
  });

  test('unknown paths are 404, wrong methods 405, disabled routes 404 — all in the error shape', async () => {
    const unknown = await call('/nope');
    assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'NOT_FOUND']);
    const getPost = await call('/post');
    assert.deepEqual([getPost.status, getPost.res.headers.get('allow')], [405, 'POST']);
    const postHealth = await call('/health', {});
    assert.equal(postHealth.status, 405);
    for (const [method, path] of [['GET', '/status'], ['GET', '/dry_run'], ['POST', '/index'], ['PUT', '/update']]) {
      const res = await fetch(`${small.url}${path}`, { method, body: method === 'GET' ? undefined : '{}' });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(((await res.json()) as Json).error.status, 404);
    }
  });

  test('CORS headers and preflight only when enabled', async () => {
    const pre = await fetch(`${small.url}/post`, { method: 'OPTIONS', headers: { origin: 'http://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    const none = await fetch(`${server.url}/`, { headers: { origin: 'http://app.example' } });
    assert.equal(none.headers.get('access-control-allow-origin'), null);
  });

  test('close() lets an in-flight request finish', async () => {
    const extra = await startHttpServer(flow, options());
    const pending = fetch(`${extra.url}/post`, { method: 'POST', body: JSON.stringify({ data: [{ id: 's', text: 'slow' }], parameters: { delay_ms: 300 } }) });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await extra.close(5000);
    assert.ok(Date.now() - t0 < 2000, 'close returns once the request is answered, not at the grace deadline');
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Json).data[0].id, 's');
  });

  test('TLS with a self-signed certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clipflow-tls-'));
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
      const tls = await startHttpServer(flow, options({ tls: { key, cert } }));
      try {
        assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
        const reply = await new Promise<{ status: number; body: Json }>((resolve, reject) => {
          const req = https.request(`${tls.url}/post`, { method: 'POST', ca: readFileSync(cert), headers: { 'content-type': 'application/json' } }, (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (c: string) => (text += c)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
          });
          req.on('error', reject).end(JSON.stringify({ data: [{ text: 'secure' }], execEndpoint: '/upper' }));
        });
        assert.equal(reply.status, 200);
        assert.equal(reply.body.data[0].text, 'SECURE');
      } finally {
        await tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
