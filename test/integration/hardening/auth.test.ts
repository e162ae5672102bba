// Gateway auth (`with: { auth_token }`) on every protocol: raw and Bearer tokens,
// 401 / UNAUTHENTICATED otherwise, health open and metrics guarded by default,
// the WebSocket upgrade (header or ?token=), our TS Client's `credential`.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Client } from '../../../core/client/client.js';
import { Document } from '../../../core/document/document.js';
import { EMPTY } from '../../../core/proto/request.codec.js';
import { DIM, PROTOCOLS, grpcAddress, serveHardening, withNeighbour, type Served } from './harness.js';
import { grpcUnary, requestBytes, wsOnce } from './wire.js';

const TOKEN = 'tok-3f9a7c21d0e84b6b';

function unary(address: string, path: string, metadata: Record<string, string> = {}): Promise<{ code: number; details: string }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(EMPTY), md, (err) => {
      client.close();
      resolve({ code: err?.code ?? grpc.status.OK, details: err?.details ?? '' });
    });
  });
}

/** Opens a Call stream, sends one request, resolves with the stream's final status code. */
function callStream(address: string, metadata: Record<string, string>): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const call = client.makeBidiStreamRequest('/jina.JinaRPC/Call', (b: Buffer) => b, (b: Buffer) => b, md);
  return new Promise((resolve) => {
    call.on('data', () => {});
    call.on('error', () => {});
    call.on('status', (s: grpc.StatusObject) => (client.close(), resolve(s.code)));
    call.end(requestBytes([new Document({ text: 'x' })]));
  });
}

function upgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'json', { headers });
    ws.on('open', () => (ws.close(), resolve(101)));
    ws.on('unexpected-response', (_req, res) => (res.resume(), resolve(res.statusCode ?? 0)));
    ws.on('error', reject);
  });
}

describe('auth_token on every protocol', () => {
  let s: Served;
  let open: Served;
  before(async () => {
    s = await serveHardening({ gateway: `  auth_token: ${TOKEN}` });
    open = await serveHardening({ gateway: `  auth_token: ${TOKEN}\n  auth_open_paths: ['/health', '/metrics', 'grpc.health.v1.Health']` });
  });
  after(() => Promise.all([s.close(1000), open.close(1000)]));

  it('http: 401 without or with a wrong token (WWW-Authenticate: Bearer); raw, Bearer and bearer tokens pass', async () => {
    const post = (headers: Record<string, string>) => fetch(`${s.url('http')}/encode`, { method: 'POST', body: JSON.stringify({ data: [{ text: 'hi' }] }), headers });
    const wrong: Array<Record<string, string>> = [{}, { authorization: 'wrong' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: TOKEN.slice(0, -1) }];
    for (const headers of wrong) {
      const res = await withNeighbour(s, 'http', () => post(headers), { credential: TOKEN });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="clipflow"');
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'UNAUTHENTICATED');
      assert.match(body.error.message, /missing or invalid credentials/);
    }
    for (const authorization of [TOKEN, `Bearer ${TOKEN}`, `bearer  ${TOKEN}`]) assert.equal((await post({ authorization })).status, 200, authorization);
  });

  it('http: /health, /health/live and / are open; /metrics, /status and /openapi.json need the token', async () => {
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${s.url('http')}${path}`, { headers }).then((r) => r.status);
    for (const path of ['/health', '/health/ready', '/health/live', '/']) assert.equal(await get(path), 200, path);
    for (const path of ['/metrics', '/status', '/openapi.json', '/dry_run']) {
      assert.equal(await get(path), 401, path);
      assert.equal(await get(path, { authorization: `Bearer ${TOKEN}` }), 200, path);
    }
  });

  it('grpc: UNAUTHENTICATED on every Jina service without the token; raw and Bearer metadata pass; health is open', async () => {
    const address = grpcAddress(s);
    const paths = ['/jina.JinaDiscoverEndpointsRPC/endpoint_discovery', '/jina.JinaGatewayDryRunRPC/dry_run', '/jina.JinaInfoRPC/_status'];
    for (const path of paths) {
      const denied = await unary(address, path);
      assert.equal(denied.code, grpc.status.UNAUTHENTICATED, path);
      assert.match(denied.details, /missing or invalid credentials/);
      assert.equal((await unary(address, path, { authorization: TOKEN })).code, grpc.status.OK, path);
      assert.equal((await unary(address, path, { authorization: `Bearer ${TOKEN}` })).code, grpc.status.OK, path);
    }
    const seen = await withNeighbour(s, 'grpc', () => grpcUnary(address, requestBytes([new Document({ text: 'x' })]), { metadata: { authorization: 'nope' } }), { credential: TOKEN });
    assert.deepEqual([seen.ok, !seen.ok && seen.code], [false, 'UNAUTHENTICATED']);
    assert.equal(await callStream(address, {}), grpc.status.UNAUTHENTICATED);
    assert.equal(await callStream(address, { authorization: TOKEN }), grpc.status.OK);
    assert.equal((await unary(address, '/grpc.health.v1.Health/Check')).code, grpc.status.OK);
  });

  it('websocket: the upgrade needs the token (Authorization header or ?token=); 401 otherwise', async () => {
    const url = s.url('websocket');
    assert.equal(await withNeighbour(s, 'websocket', () => upgrade(url), { credential: TOKEN }), 401);
    assert.equal(await upgrade(url, { authorization: 'Bearer wrong' }), 401);
    assert.equal(await upgrade(`${url}/?token=wrong`), 401);
    assert.equal(await upgrade(url, { authorization: `Bearer ${TOKEN}` }), 101);
    assert.equal(await upgrade(`${url}/?token=${TOKEN}`), 101);
    const seen = await wsOnce(`${url}/?token=${encodeURIComponent(TOKEN)}`, 'json', JSON.stringify({ data: [{ text: 'via query' }], execEndpoint: '/encode' }));
    assert.equal(seen.ok, true, JSON.stringify(seen));
  });

  for (const protocol of PROTOCOLS) {
    it(`${protocol}: our Client with credential encodes; without it the call fails as unauthenticated`, async () => {
      const good = new Client(s.url(protocol), { credential: TOKEN });
      const bare = new Client(s.url(protocol), { credential: '' });
      try {
        const [v] = (await good.encode(['hello'])) as Float32Array[];
        assert.equal(v!.length, DIM);
        await assert.rejects(bare.encode(['hello']), (e: Error & { status?: number }) => {
          assert.match(`${e.message} ${e.status}`, /401|Unauthorized|UNAUTHENTICATED|missing or invalid credentials|16/i);
          return true;
        });
      } finally {
        await Promise.all([good.close(), bare.close()]);
      }
    });
  }

  it('auth_open_paths opens exactly what it lists (here /metrics, not /)', async () => {
    const get = (path: string) => fetch(`${open.url('http')}${path}`).then((r) => r.status);
    assert.equal(await get('/metrics'), 200);
    assert.equal(await get('/health'), 200);
    assert.equal(await get('/'), 401);
    assert.equal(await get('/health/live'), 401);
  });
});
