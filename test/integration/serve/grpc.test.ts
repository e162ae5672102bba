import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { pino } from 'pino';
import { Document } from '../../../core/document/document.js';
import { DocumentArray } from '../../../core/document/document-array.js';
import { packageVersion } from '../../../core/config/process-info.js';
import { Flow } from '../../../core/flow/flow.js';
import { decodeDataRequest, decodeEndpoints, decodeInfo, decodeStatus, encodeDataRequest, EMPTY } from '../../../core/proto/request.codec.js';
import { DataRequest, type DataRequestInit } from '../../../core/request/data-request.js';
import { metadataRecord } from '../../../core/serve/grpc/grpc.errors.js';
import { startGrpcServer } from '../../../core/serve/grpc/grpc.server.js';
import type { RunningServer, TransportOptions } from '../../../core/serve/transport.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../../fixtures/executors/basic.js');
const MB = 1024 * 1024;
const PATH = {
  call: '/jina.JinaRPC/Call', single: '/jina.JinaSingleDataRequestRPC/process_single_data',
  endpoints: '/jina.JinaDiscoverEndpointsRPC/endpoint_discovery', dryRun: '/jina.JinaGatewayDryRunRPC/dry_run', status: '/jina.JinaInfoRPC/_status',
};
const raw = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const same = (b: Buffer): Buffer => b;
const MODULES = `metas: { modules: [${JSON.stringify(FIXTURES)}] }`;
// Field 1 (header) declares 127 bytes but none follow: protobuf cannot decode it.
const MALFORMED = Buffer.from([0x0a, 0x7f, 0x01]);

/** upper (tags on `/`, upper-cases on /upper) → failing (throws on /fail) → slow (waits parameters.delay_ms). */
const FLOW_YAML = `
jtype: Flow
# The compression tests send multi-MB texts; lift the per-text limit (default 100 000).
with: { max_text_chars: 10000000 }
executors:
  - name: upper
    uses: { jtype: Upper, ${MODULES} }
  - name: failing
    uses: { jtype: Failing, ${MODULES} }
  - name: slow
    uses: { jtype: Slow, with: { delay_ms: 0 }, ${MODULES} }
`;

interface CallResult { responses: DataRequest[]; code: number; details: string }

/** A minimal Jina client over grpc-js's generic Client and our codec. */
class JinaTestClient {
  readonly client: grpc.Client;
  constructor(address: string, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.client = new grpc.Client(address, creds, { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1, ...options });
  }
  unary(path: string, body: Uint8Array): Promise<Buffer> {
    return new Promise((ok, fail) => this.client.makeUnaryRequest(path, raw, same, body, (e, res) => (e ? fail(e) : ok(res!))));
  }
  async process(req: DataRequest): Promise<DataRequest> {
    return decodeDataRequest(await this.unary(PATH.single, encodeDataRequest(req)));
  }
  /** Opens a Call stream; `done` settles with every response and the final status. */
  call(): { stream: grpc.ClientDuplexStream<Uint8Array, Buffer>; done: Promise<CallResult> } {
    const stream = this.client.makeBidiStreamRequest(PATH.call, raw, same);
    const responses: DataRequest[] = [];
    stream.on('data', (b: Buffer) => responses.push(decodeDataRequest(b)));
    stream.on('error', () => {}); // the status event below carries the same code
    const done = new Promise<CallResult>((resolve) =>
      stream.on('status', (s: grpc.StatusObject) => setImmediate(() => resolve({ responses, code: s.code, details: s.details }))),
    );
    return { stream, done };
  }
  close = (): void => this.client.close();
}

/** A client for the standard health service, from grpc-health-check's own definition. */
function healthClient(port: number) {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  return new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(req: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void;
    watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
  };
}

const request = (init: DataRequestInit & { texts?: string[] }): DataRequest =>
  new DataRequest({ docs: new DocumentArray((init.texts ?? ['a']).map((text, i) => new Document({ id: `d${i}`, text }))), ...init });

// Silent unless asked for: expected failures (the Failing executor) would otherwise flood the output.
const logger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const options = (over: Partial<TransportOptions> = {}): TransportOptions => ({
  host: '127.0.0.1', port: 0, maxMessageSize: 64 * MB, compression: false, cors: false,
  noDebugEndpoints: false, noCrudEndpoints: false, logger: logger(), ...over,
});

const rejectsWith = (p: Promise<unknown>, code: grpc.status, details?: RegExp) =>
  assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${grpc.status[e.code]}: ${e.details}`);
    if (details) assert.match(e.details, details);
    return true;
  });

let flow: Flow;
before(async () => {
  flow = Flow.fromYaml(FLOW_YAML, here, undefined, { logger: logger() });
  await flow.start();
});
after(() => flow.close());

describe('gRPC transport', () => {
  let server: RunningServer;
  let client: JinaTestClient;
  before(async () => {
    server = await startGrpcServer(flow, options());
    client = new JinaTestClient(`127.0.0.1:${server.port}`);
  });
  after(async () => {
    client.close();
    await server.close(1000);
  });

  test('Call: requests in flight together are answered as each completes, matched by request_id', async () => {
    const delays = [300, 240, 180, 120, 60];
    const { stream, done } = client.call();
    delays.forEach((ms, i) => stream.write(encodeDataRequest(request({ requestId: `r${i}`, texts: [`doc-${i}`], parameters: { delay_ms: ms } }))));
    stream.end();
    const { responses, code } = await done;
    assert.equal(code, grpc.status.OK);
    assert.deepEqual(responses.map((r) => r.requestId), ['r4', 'r3', 'r2', 'r1', 'r0'], 'fastest first: processed concurrently');
    for (const r of responses) {
      assert.equal(r.status?.code, 'SUCCESS');
      assert.equal(r.docs[0]!.text, `doc-${r.requestId.slice(1)}`);
      assert.deepEqual(r.docs[0]!.tags.seen_by, ['upper']);
    }
  });

  test('Call: an executor error comes back in-band and the stream stays usable', async () => {
    const { stream, done } = client.call();
    stream.write(encodeDataRequest(request({ requestId: 'bad', endpoint: '/fail', parameters: { message: 'no way' } })));
    await once(stream, 'data');
    stream.end(encodeDataRequest(request({ requestId: 'good', endpoint: '/upper', texts: ['hi'] })));
    const { responses, code } = await done;
    assert.equal(code, grpc.status.OK);
    const bad = responses.find((r) => r.requestId === 'bad')!;
    assert.equal(bad.status?.code, 'ERROR');
    assert.match(bad.status!.description, /no way/);
    // Jina's exception fields; the stack stays in the logs.
    assert.deepEqual({ ...bad.status!.exception }, { name: 'RangeError', args: ['no way'], stacks: [], executor: 'failing' });
    const good = responses.find((r) => r.requestId === 'good')!;
    assert.deepEqual([good.status?.code, good.docs[0]!.text], ['SUCCESS', 'HI']);
  });

  test('Call: a malformed message ends the call with INVALID_ARGUMENT after in-flight requests are answered', async () => {
    const { stream, done } = client.call();
    stream.write(encodeDataRequest(request({ requestId: 'first', parameters: { delay_ms: 150 } })));
    stream.write(MALFORMED);
    const { responses, code, details } = await done;
    assert.equal(code, grpc.status.INVALID_ARGUMENT);
    assert.match(details, /DataRequestProto/);
    assert.deepEqual(responses.map((r) => r.requestId), ['first']);
  });

  test('process_single_data: a request in, its response out', async () => {
    const res = await client.process(request({ requestId: 'one', endpoint: '/upper', texts: ['abc', 'def'] }));
    assert.deepEqual([res.requestId, res.endpoint, res.status?.code], ['one', '/upper', 'SUCCESS']);
    assert.deepEqual(res.docs.map((d) => [d.id, d.text]), [['d0', 'ABC'], ['d1', 'DEF']]);
  });

  test('process_single_data: executor errors are in-band, not gRPC errors', async () => {
    const res = await client.process(request({ endpoint: '/fail', parameters: { message: 'nope' } }));
    assert.equal(res.status?.code, 'ERROR');
    assert.equal(res.status!.exception?.executor, 'failing');
    assert.deepEqual(res.status!.exception?.args, ['nope']);
  });

  test('process_single_data: undecodable bytes and pickled docs are INVALID_ARGUMENT with the reason', async () => {
    await rejectsWith(client.unary(PATH.single, MALFORMED), grpc.status.INVALID_ARGUMENT, /not a valid jina\.DataRequestProto/);
    // data.docs_bytes = field 2 of DataRequestProto.DataContentProto (tag 0x12), inside data = field 4 (tag 0x22).
    await rejectsWith(client.unary(PATH.single, Buffer.from([0x22, 5, 0x12, 3, 0x80, 4, 0x2e])), grpc.status.INVALID_ARGUMENT, /docs_bytes/);
  });

  test('binds port 0, reports the real port; endpoint_discovery, dry_run and _status answer', async () => {
    assert.ok(server.port > 0);
    assert.equal(server.url, `grpc://127.0.0.1:${server.port}`);
    const { endpoints } = decodeEndpoints(await client.unary(PATH.endpoints, EMPTY));
    for (const e of ['/', '/upper', '/fail']) assert.ok(endpoints.includes(e), `${e} in ${endpoints.join(',')}`);
    assert.equal(decodeStatus(await client.unary(PATH.dryRun, EMPTY)).code, 'SUCCESS');
    assert.equal(decodeInfo(await client.unary(PATH.status, EMPTY)).jina.clipflow, packageVersion());
  });

  test('grpc.health.v1.Health reports SERVING for the server and every Jina service', async () => {
    const health = healthClient(server.port);
    const check = (service: string) =>
      new Promise<string>((ok, fail) => health.check({ service }, (e, r) => (e ? fail(e) : ok(r!.status))));
    for (const name of ['', 'jina.JinaRPC', 'jina.JinaSingleDataRequestRPC', 'jina.JinaInfoRPC']) assert.equal(await check(name), 'SERVING');
    await rejectsWith(check('no.Such'), grpc.status.NOT_FOUND);
    health.close();
  });

  test('a 20 MB request round-trips on both methods; one over the limit is RESOURCE_EXHAUSTED', async () => {
    const blob = new Uint8Array(20 * MB).map((_, i) => i % 251);
    const big = () => new DataRequest({ docs: new DocumentArray([new Document({ id: 'big', blob })]) });
    const single = await client.process(big());
    assert.ok(Buffer.from(single.docs[0]!.blob!).equals(Buffer.from(blob)));
    const { stream, done } = client.call();
    stream.end(encodeDataRequest(big()));
    const streamed = await done;
    assert.equal(streamed.code, grpc.status.OK);
    assert.ok(Buffer.from(streamed.responses[0]!.docs[0]!.blob!).equals(Buffer.from(blob)));
    const huge = new DataRequest({ docs: new DocumentArray([new Document({ blob: new Uint8Array(65 * MB) })]) });
    await rejectsWith(client.process(huge), grpc.status.RESOURCE_EXHAUSTED);
  });

  test('accepts client keepalive pings every few ms without GOAWAY', async () => {
    let goaway = false;
    const session = http2.connect(`http://127.0.0.1:${server.port}`).on('goaway', () => (goaway = true)).on('error', () => {});
    await new Promise((ok) => session.once('connect', ok));
    for (let i = 0; i < 30; i++) {
      await new Promise<void>((ok, fail) => session.ping((e) => (e ? fail(e) : ok())));
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual({ goaway, closed: session.closed }, { goaway: false, closed: false });
    session.close();
  });

  test('metadata reaches the handler as lower-cased string keys', () => {
    const md = new grpc.Metadata();
    md.set('Authorization', 'Bearer t0k');
    for (const v of ['a', 'b']) md.add('x-multi', v);
    md.set('trace-bin', Buffer.from([1, 2, 3]));
    assert.deepEqual(metadataRecord(md), { authorization: 'Bearer t0k', 'x-multi': 'a, b', 'trace-bin': 'AQID' });
  });
});

describe('gRPC transport options', () => {
  test('gzip: compressed requests are accepted and answered', async () => {
    const server = await startGrpcServer(flow, options({ compression: true }));
    const client = new JinaTestClient(`127.0.0.1:${server.port}`, undefined, { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip });
    try {
      const text = 'compress me '.repeat(200_000);
      const res = await client.process(request({ endpoint: '/upper', texts: [text] }));
      assert.equal(res.docs[0]!.text, text.toUpperCase());
      const { stream, done } = client.call();
      stream.end(encodeDataRequest(request({ requestId: 'z', texts: [text] })));
      const streamed = await done;
      assert.equal(streamed.code, grpc.status.OK);
      assert.equal(streamed.responses[0]!.docs[0]!.text, text);
    } finally {
      client.close();
      await server.close(1000);
    }
  });

  test('TLS with a self-signed certificate: grpcs:// and a verified round trip', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clipflow-tls-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
    const server = await startGrpcServer(flow, options({ tls: { cert, key } }));
    const client = new JinaTestClient(`127.0.0.1:${server.port}`, grpc.credentials.createSsl(readFileSync(cert)), {
      // Verify against the DNS name: Node warns when SNI is set to an IP address.
      'grpc.ssl_target_name_override': 'localhost',
    });
    const plain = new JinaTestClient(`127.0.0.1:${server.port}`);
    try {
      assert.equal(server.url, `grpcs://127.0.0.1:${server.port}`);
      const res = await client.process(request({ endpoint: '/upper', texts: ['secure'] }));
      assert.equal(res.docs[0]!.text, 'SECURE');
      await rejectsWith(plain.process(request({})), grpc.status.UNAVAILABLE);
    } finally {
      client.close();
      plain.close();
      await server.close(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('close lets an in-flight Call finish and answers it before stopping', async () => {
    const server = await startGrpcServer(flow, options());
    const client = new JinaTestClient(`127.0.0.1:${server.port}`);
    const { stream, done } = client.call();
    stream.write(encodeDataRequest(request({ requestId: 'late', parameters: { delay_ms: 150 } })));
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close(5000);
    stream.end();
    const { responses, code } = await done;
    await closed;
    assert.equal(code, grpc.status.OK);
    assert.deepEqual(responses.map((r) => [r.requestId, r.status?.code]), [['late', 'SUCCESS']]);
    client.close();
  });

  test('close: health watchers see NOT_SERVING, then the server stops', async () => {
    const server = await startGrpcServer(flow, options());
    const health = healthClient(server.port);
    const seen: string[] = [];
    const watch = health.watch({ service: '' }).on('error', () => {});
    await new Promise<void>((ok) => watch.on('data', (m: { status: string }) => (seen.push(m.status), seen.length === 1 && ok())));
    await server.close(300);
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
    health.close();
    const late = new JinaTestClient(`127.0.0.1:${server.port}`);
    await rejectsWith(late.process(request({})), grpc.status.UNAVAILABLE);
    late.close();
  });
});
