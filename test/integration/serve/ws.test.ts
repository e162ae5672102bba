import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { DocumentArray } from '../../../core/document/document-array.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../../core/flow/config.js';
import { Flow } from '../../../core/flow/flow.js';
import { decodeDataRequest, decodeStatus, encodeDataRequest } from '../../../core/proto/request.codec.js';
import { DataRequest, type DataRequestInit } from '../../../core/request/data-request.js';
import type { RunningServer, TransportOptions } from '../../../core/serve/transport.js';
import { startWebSocketServer } from '../../../core/serve/ws/ws.server.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../../fixtures/executors/basic.js');
const MB = 1024 * 1024;
const uses = (jtype: string, extra = '') => `{ jtype: ${jtype}, ${extra} metas: { modules: [${JSON.stringify(FIXTURES)}] } }`;
// Field 1 (header) declares 127 bytes but none follow: protobuf cannot decode it.
const MALFORMED = Buffer.from([0x0a, 0x7f, 0x01]);
const EOI = Buffer.from([0]);

/** upper (tags on any endpoint, upper-cases /upper) → failing (/fail) → slow (waits parameters.delay_ms). */
const FLOW_YAML = `
jtype: Flow
# The compression tests send multi-MB texts; lift the per-text limit (default 100 000).
with: { max_text_chars: 10000000 }
executors:
  - { name: upper, uses: ${uses('Upper')} }
  - { name: failing, uses: ${uses('Failing')} }
  - { name: slow, uses: ${uses('Slow', 'with: { delay_ms: 0 },')} }
`;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function options(over: Partial<TransportOptions> = {}): TransportOptions {
  return {
    host: '127.0.0.1', port: 0, maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE, compression: false, cors: false,
    noDebugEndpoints: false, noCrudEndpoints: false, logger: pino({ level: 'silent' }), ...over,
  };
}

/** A WebSocket whose incoming frames can be awaited one by one, and whose close code can be awaited. */
class Client {
  private readonly frames: RawData[] = [];
  private waiters: Array<(d: RawData) => void> = [];
  readonly closed: Promise<number>;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (d: RawData) => {
      const w = this.waiters.shift();
      if (w) w(d);
      else this.frames.push(d);
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number) => resolve(code)));
    ws.on('error', () => {}); // close carries the outcome
  }
  static async open(url: string, protocol?: string, opts: ClientOptions = {}): Promise<Client> {
    const ws = new WebSocket(url, protocol === undefined ? [] : [protocol], { maxPayload: 0, ...opts });
    const c = new Client(ws);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return c;
  }
  next(): Promise<RawData> {
    const f = this.frames.shift();
    return f !== undefined ? Promise.resolve(f) : new Promise((resolve) => this.waiters.push(resolve));
  }
  async nextRequest(): Promise<DataRequest> {
    return decodeDataRequest((await this.next()) as Buffer);
  }
  async nextJson(): Promise<Json> {
    return JSON.parse(String(await this.next()));
  }
  sendRequest(init: DataRequestInit): void {
    this.ws.send(encodeDataRequest(new DataRequest(init)));
  }
}

describe('WebSocket gateway', () => {
  let flow: Flow;
  let server: RunningServer;
  let small: RunningServer; // 1 MB limit, permessage-deflate on

  before(async () => {
    flow = Flow.fromYaml(FLOW_YAML, here, undefined, { logger: pino({ level: 'silent' }) });
    await flow.start();
    server = await startWebSocketServer(flow, options());
    small = await startWebSocketServer(flow, options({ maxMessageSize: MB, compression: true }));
  });
  after(async () => {
    await Promise.all([server?.close(), small?.close()]);
    await flow?.close();
  });

  test('reports the real port and a ws url', () => {
    assert.ok(server.port > 0);
    assert.equal(server.url, `ws://127.0.0.1:${server.port}`);
  });

  test('bytes: requests run concurrently, replies come when ready, EOI closes with 1000 after the last', async () => {
    const c = await Client.open(server.url, 'bytes');
    assert.equal(c.ws.protocol, 'bytes');
    for (const [id, delay] of [['r-300', 300], ['r-150', 150], ['r-0', 0]] as const) {
      c.sendRequest({ requestId: id, endpoint: '/upper', parameters: { delay_ms: delay }, docs: new DocumentArray([{ id: `d-${id}`, text: id }]) });
    }
    c.ws.send(EOI); // Jina's client ends its stream right after its last request
    const replies = [await c.nextRequest(), await c.nextRequest(), await c.nextRequest()];
    assert.deepEqual(replies.map((r) => r.requestId), ['r-0', 'r-150', 'r-300']);
    for (const r of replies) {
      assert.equal(r.status?.code ?? 'SUCCESS', 'SUCCESS');
      assert.equal(r.endpoint, '/upper');
      assert.equal(r.docs[0]!.id, `d-${r.requestId}`);
      assert.equal(r.docs[0]!.text, r.requestId.toUpperCase());
      assert.equal(r.routes[0]!.executor, 'gateway');
    }
    assert.equal(await c.closed, 1000);
  });

  test('bytes: an empty frame is a dry run answered with a StatusProto', async () => {
    const c = await Client.open(server.url, 'bytes');
    c.ws.send(Buffer.alloc(0));
    assert.equal(decodeStatus((await c.next()) as Buffer).code, 'SUCCESS');
    c.ws.close();
  });

  test('bytes: a malformed frame gets an in-band error and the socket keeps serving', async () => {
    const c = await Client.open(server.url, 'bytes');
    c.ws.send(MALFORMED);
    const err = await c.nextRequest();
    assert.equal(err.status?.code, 'ERROR');
    assert.match(err.status!.description, /DataRequestProto/);
    c.sendRequest({ requestId: 'after', endpoint: '/upper', docs: new DocumentArray([{ text: 'ok' }]) });
    const ok = await c.nextRequest();
    assert.deepEqual([ok.requestId, ok.docs[0]!.text, ok.status?.code ?? 'SUCCESS'], ['after', 'OK', 'SUCCESS']);
    c.ws.close();
  });

  test('bytes: an executor error comes back in-band with the executor name', async () => {
    const c = await Client.open(server.url, 'bytes');
    c.sendRequest({ requestId: 'boom', endpoint: '/fail', parameters: { message: 'nope' } });
    const r = await c.nextRequest();
    assert.equal(r.requestId, 'boom');
    assert.equal(r.status?.code, 'ERROR');
    assert.equal(r.status?.exception?.executor, 'failing');
    assert.deepEqual(r.status?.exception?.args, ['nope']);
    c.ws.close();
  });

  test('bytes: a 20 MB frame passes with the default limit', async () => {
    const c = await Client.open(server.url, 'bytes');
    const blob = new Uint8Array(20 * MB).fill(9);
    c.sendRequest({ requestId: 'big', endpoint: '/upper', docs: new DocumentArray([{ id: 'b', blob }]) });
    const r = await c.nextRequest();
    assert.equal(r.docs[0]!.blob?.byteLength, blob.byteLength);
    c.ws.close();
  });

  test('a frame over maxMessageSize closes the socket with 1009', async () => {
    const c = await Client.open(small.url, 'bytes');
    c.sendRequest({ endpoint: '/upper', docs: new DocumentArray([{ blob: new Uint8Array(2 * MB) }]) });
    assert.equal(await c.closed, 1009);
  });

  test('json: text frames shaped like the HTTP body; {} ends the stream', async () => {
    const c = await Client.open(server.url, 'json');
    assert.equal(c.ws.protocol, 'json');
    c.ws.send(JSON.stringify({ data: [{ id: 'j', text: 'json' }], execEndpoint: '/upper', parameters: { p: 1 }, header: { request_id: 'j1' } }));
    const r = await c.nextJson();
    assert.deepEqual(Object.keys(r).sort(), ['data', 'header', 'parameters', 'routes']);
    assert.deepEqual([r.header.request_id, r.header.exec_endpoint, r.parameters.p, r.data[0].id, r.data[0].text], ['j1', '/upper', 1, 'j', 'JSON']);
    c.ws.send('{}');
    assert.equal(await c.closed, 1000);
  });

  test('json is the default without a subprotocol; bad frames get error replies naming the field', async () => {
    const c = await Client.open(server.url);
    assert.equal(c.ws.protocol, '');
    c.ws.send('{"data": [');
    const bad = await c.nextJson();
    assert.deepEqual([bad.error.code, bad.error.status], ['INVALID_ARGUMENT', 400]);
    assert.match(bad.error.message, /invalid JSON/);
    c.ws.send(JSON.stringify({ data: [{ text: 5 }], header: { request_id: 'typed' } }));
    const typed = await c.nextJson();
    assert.match(typed.error.message, /data\[0\]\.text/);
    assert.equal(typed.error.request_id, 'typed');
    c.ws.send(JSON.stringify({ data: [{ text: 'still here' }], execEndpoint: '/upper' }));
    assert.equal((await c.nextJson()).data[0].text, 'STILL HERE');
    c.ws.send(JSON.stringify({ execEndpoint: '/fail', parameters: { message: 'in-band' } }));
    const failed = await c.nextJson();
    assert.equal(failed.header.status.code, 'ERROR');
    assert.equal(failed.header.status.exception.executor, 'failing');
    c.ws.close();
  });

  test('permessage-deflate is negotiated when compression is on', async () => {
    const c = await Client.open(small.url, 'json');
    assert.match(c.ws.extensions, /permessage-deflate/);
    const text = 'compress me '.repeat(10_000);
    c.ws.send(JSON.stringify({ data: [{ id: 'z', text }], execEndpoint: '/upper' }));
    assert.equal((await c.nextJson()).data[0].text, text.toUpperCase());
    c.ws.close();
    const plain = await Client.open(server.url, 'json');
    assert.equal(plain.ws.extensions, '');
    plain.ws.close();
  });

  test('close() lets in-flight requests finish, then closes sockets with 1001', async () => {
    const extra = await startWebSocketServer(flow, options());
    const c = await Client.open(extra.url, 'bytes');
    c.sendRequest({ requestId: 'slow', parameters: { delay_ms: 300 }, docs: new DocumentArray([{ text: 's' }]) });
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const closing = extra.close(5000);
    const r = await c.nextRequest();
    assert.deepEqual([r.requestId, r.status?.code ?? 'SUCCESS'], ['slow', 'SUCCESS']);
    assert.equal(await c.closed, 1001);
    await closing;
    assert.ok(Date.now() - t0 < 2000, 'close returns once the request is answered, not at the grace deadline');
  });

  test('wss with a self-signed certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clipflow-wss-'));
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
      const tls = await startWebSocketServer(flow, options({ tls: { key, cert } }));
      try {
        assert.match(tls.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
        const c = await Client.open(tls.url, 'bytes', { ca: readFileSync(cert) });
        c.sendRequest({ requestId: 'tls', endpoint: '/upper', docs: new DocumentArray([{ text: 'secure' }]) });
        assert.equal((await c.nextRequest()).docs[0]!.text, 'SECURE');
        c.ws.send(EOI);
        assert.equal(await c.closed, 1000);
      } finally {
        await tls.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
