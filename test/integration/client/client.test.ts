import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { WebSocketServer } from 'ws';
import { Client } from '../../../core/client/client.js';
import { RemoteError } from '../../../core/client/errors.js';
import { DocumentArray } from '../../../core/document/document-array.js';
import { Document } from '../../../core/document/document.js';
import { parseFlow } from '../../../core/flow/load.js';
import type { DataRequest } from '../../../core/request/data-request.js';
import { serveFlow, type ServingFlow } from '../../../core/serve/gateway.js';
import { jinaRpcService } from '../../../core/serve/grpc/jina.services.js';
import { hashEmbedding } from '../../fixtures/executors/basic.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../../fixtures/executors/basic.js');
const DIM = 8;
// A 1×1 RGB PNG, made for this test.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');

// A plain JS executor (bound with `requests:`) that holds each request for the largest
// `tags.delay` among its docs: the test's way to make replies overtake each other.
const JITTER_MODULE = `export class Jitter {
  async hold({ docs }) {
    const ms = Math.max(0, ...docs.map((d) => Number(d.tags.delay ?? 0)));
    await new Promise((r) => setTimeout(r, ms));
  }
}
`;

const flowYaml = (jitter: string) => {
  const uses = (jtype: string, extra = '') => `{ jtype: ${jtype}, ${extra} metas: { modules: [${JSON.stringify(FIXTURES)}] } }`;
  return `
jtype: Flow
with:
  host: 127.0.0.1
  port: [0, 0, 0]
  protocol: [grpc, http, websocket]
executors:
  - { name: enc, uses: ${uses('HashEncoder', `with: { dim: ${DIM} },`)} }
  - { name: upper, uses: ${uses('Upper')} }
  - { name: slow, replicas: 3, uses: ${uses('Slow', 'with: { delay_ms: 0 },')} }
  - name: jitter
    uses: { jtype: Jitter, metas: { modules: [${JSON.stringify(jitter)}] }, requests: { /default: hold } }
  - { name: failing, uses: ${uses('Failing')} }
`;
};

async function* asyncStrings(items: string[]): AsyncGenerator<string> {
  for (const s of items) {
    await new Promise((r) => setImmediate(r));
    yield s;
  }
}

describe('Client', () => {
  let dir: string;
  let serving: ServingFlow;
  const urls: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clipflow-client-'));
    writeFileSync(join(dir, 'jitter.mjs'), JITTER_MODULE);
    writeFileSync(join(dir, 'pixel.png'), PNG);
    serving = await serveFlow(parseFlow(flowYaml(join(dir, 'jitter.mjs')), dir), { logger: pino({ level: 'silent' }) });
    for (const s of serving.servers) urls[s.protocol] = s.url;
  });
  after(async () => {
    await serving?.close(0);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const protocol of ['grpc', 'http', 'websocket'] as const) {
    describe(`over ${protocol}`, () => {
      let client: Client;
      before(() => {
        client = new Client(urls[protocol]!);
      });
      after(() => client?.close());

      test('dryRun() is true', async () => {
        assert.equal(await client.dryRun(), true);
      });

      test('encode(strings) gives each input its own embedding, in input order', async () => {
        const texts = Array.from({ length: 11 }, (_, i) => `sentence number ${i} ${'x'.repeat(i)}`);
        const embeddings = await client.encode(texts, { batchSize: 3 });
        assert.equal(embeddings.length, texts.length);
        texts.forEach((t, i) => assert.deepEqual(embeddings[i], hashEmbedding(t, DIM)));
      });

      test('encode(Documents) returns the same Documents with embeddings set', async () => {
        const docs = [new Document({ text: 'alpha' }), new Document({ text: 'beta' }), new Document({ text: 'gamma' })];
        const out = await client.encode(docs, { batchSize: 2 });
        assert.ok(out instanceof DocumentArray);
        assert.equal(out.length, 3);
        out.forEach((d, i) => {
          assert.equal(d, docs[i]);
          assert.deepEqual(d.embedding, hashEmbedding(docs[i]!.text!, DIM));
        });
      });

      test('post() round-trips documents, parameters and callbacks', async () => {
        const done: DataRequest[] = [];
        let always = 0;
        const out = await client.post('/upper', ['hello', new Document({ id: 'd2', text: 'world', tags: { k: 1 } })], {
          parameters: { note: 'hi' },
          onDone: (r) => done.push(r),
          onAlways: () => always++,
        });
        assert.deepEqual(out.texts, ['HELLO', 'WORLD']);
        assert.equal(out[1]!.id, 'd2');
        assert.equal(out[1]!.tags.k, 1);
        assert.equal(done.length, 1);
        assert.equal(always, 1);
        assert.equal(done[0]!.parameters.note, 'hi');
        assert.equal(done[0]!.endpoint, '/upper');
      });

      test('post() with no inputs still sends one request, for parameters-only endpoints', async () => {
        const done: DataRequest[] = [];
        const out = await client.post('/upper', [], { parameters: { note: 'only parameters' }, onDone: (r) => done.push(r) });
        assert.equal(out.length, 0);
        assert.equal(done.length, 1);
        assert.equal(done[0]!.parameters.note, 'only parameters');
      });

      test('rank() sends documents with their matches to /rank, results in input order', async () => {
        const queries = ['q1', 'q2', 'q3'].map((id) => new Document({ id, text: `query ${id}`, matches: [{ id: `${id}-a`, text: 'a' }, { id: `${id}-b`, uri: 'https://example.com/b.png' }] }));
        const out = await client.rank(queries, { batchSize: 2 });
        assert.deepEqual(out.map((d) => d.id), ['q1', 'q2', 'q3']);
        for (const d of out) assert.deepEqual(d.matches.map((m) => m.id), [`${d.id}-a`, `${d.id}-b`]);
        await assert.rejects(client.rank([new Document({ text: 'lonely' })]), (e: Error) => e instanceof TypeError && /matches/.test(e.message));
      });

      test('index() and search() post to /index and /search and return documents in order', async () => {
        const indexed = await client.index(['one', 'two', new Document({ id: 'three', text: 'three' })]);
        assert.deepEqual(indexed.texts, ['one', 'two', 'three']);
        assert.equal(indexed[2]!.id, 'three');
        indexed.forEach((d) => assert.deepEqual(d.embedding, hashEmbedding(d.text!, DIM)));
        const found = await client.search(['query'], { limit: 3 });
        assert.equal(found.length, 1);
        assert.deepEqual(found[0]!.embedding, hashEmbedding('query', DIM));
      });

      test('batches complete out of order yet results keep input order', async () => {
        // Early batches wait longest, so later replies overtake them.
        const docs = Array.from({ length: 12 }, (_, i) => new Document({ id: `b${i}`, text: `t${i}`, tags: { delay: (11 - i) * 8 } }));
        const replyOrder: string[] = [];
        const out = await client.post('/anything', docs, {
          batchSize: 2,
          prefetch: 6,
          parameters: { delay_ms: 20 },
          onDone: (r) => replyOrder.push(r.docs[0]!.id),
        });
        assert.deepEqual(out.map((d) => d.id), docs.map((d) => d.id));
        assert.equal(replyOrder.length, 6);
        assert.notDeepEqual(replyOrder, ['b0', 'b2', 'b4', 'b6', 'b8', 'b10']);
        // Requests overlapped: the slow executor's three replicas all served some.
        assert.ok(new Set(out.map((d) => d.tags.replica)).size > 1, 'requests were spread over replicas');
      });

      test('accepts an async iterable of inputs', async () => {
        const texts = Array.from({ length: 9 }, (_, i) => `async ${i}`);
        const embeddings = await client.encode(asyncStrings(texts), { batchSize: 4, prefetch: 2 });
        texts.forEach((t, i) => assert.deepEqual(embeddings[i], hashEmbedding(t, DIM)));
      });

      test('an in-band error rejects with the description and the executor name', async () => {
        await assert.rejects(client.post('/fail', ['x'], { parameters: { message: 'kaputt' } }), (e: unknown) => {
          assert.ok(e instanceof RemoteError);
          assert.match(e.message, /kaputt/);
          assert.match(e.message, /failing/);
          assert.equal(e.executor, 'failing');
          assert.equal(e.code, 'RangeError');
          return true;
        });
      });

      test('onError receives failed replies instead of rejecting', async () => {
        const failed: DataRequest[] = [];
        const out = await client.post('/fail', ['a', 'b', 'c'], { batchSize: 1, onError: (r) => failed.push(r) });
        assert.equal(failed.length, 3);
        assert.ok(failed.every((r) => r.status?.code === 'ERROR' && r.status.exception?.executor === 'failing'));
        assert.equal(out.length, 0);
      });

      test('profile() splits the round trip using routes[0] and routes[1]', async () => {
        const p = await client.profile();
        for (const v of Object.values(p)) assert.ok(Number.isFinite(v));
        assert.ok(p.roundtrip > 0 && p.server >= 0 && p.executor >= 0);
        assert.ok(p.server <= p.roundtrip + 1e-6, 'the server time fits in the round trip');
        assert.ok(p.executor <= p.server + 1e-6, 'the executor time fits in the server time');
        assert.ok(Math.abs(p.clientServerNetwork - (p.roundtrip - p.server)) < 1e-9);
        assert.ok(Math.abs(p.gatewayExecutorNetwork - (p.server - p.executor)) < 1e-9);
        const withContent = await client.profile('a sentence');
        assert.ok(withContent.executor >= 0);
      });
    });
  }

  describe('input detection', () => {
    let client: Client;
    before(() => {
      client = new Client(urls.grpc!);
    });
    after(() => client?.close());

    test('local image paths become blobs, data: URIs and image URLs stay URIs, the rest is text', async () => {
      const png = join(dir, 'pixel.png');
      const dataUri = `data:image/png;base64,${PNG.toString('base64')}`;
      const inputs = [png, `file://${png}`, dataUri, 'https://example.com/cat.JPG?x=1', 'https://example.com/about', 'a plain sentence', join(dir, 'missing.png')];
      const out = await client.post('/upper', inputs);
      assert.equal(out.length, inputs.length);
      for (const d of out.slice(0, 2)) {
        assert.deepEqual(Buffer.from(d.blob!), PNG);
        assert.equal(d.mimeType, 'image/png');
        assert.equal(d.uri, undefined, 'the local path is not sent');
      }
      assert.equal(out[2]!.uri, dataUri);
      assert.equal(out[3]!.uri, inputs[3]);
      assert.equal(out[4]!.text, 'HTTPS://EXAMPLE.COM/ABOUT');
      assert.equal(out[5]!.text, 'A PLAIN SENTENCE');
      assert.equal(out[6]!.text, inputs[6]!.toUpperCase(), 'a path that does not exist is text');
    });

    test('a Document with only a local-file uri is sent with its file as blob; the caller keeps its uri', async () => {
      const png = join(dir, 'pixel.png');
      const doc = new Document({ uri: png });
      const [encoded] = await client.encode([doc]);
      // HashEncoder embeds a blob-only doc by its byte length: proof the bytes travelled.
      assert.equal(encoded, doc);
      assert.deepEqual(encoded!.embedding, hashEmbedding(String(PNG.length), DIM));
      assert.equal(doc.uri, png);
      assert.equal(doc.blob, undefined);
    });

    test('a string input that is an image path is encoded as an image', async () => {
      const [embedding] = await client.encode([join(dir, 'pixel.png')]);
      assert.deepEqual(embedding, hashEmbedding(String(PNG.length), DIM));
    });

    test('unsupported input values are a TypeError', async () => {
      await assert.rejects(client.encode([42 as unknown as string]), TypeError);
    });
  });

  describe('over TLS (grpcs, https, wss)', () => {
    let tlsServing: ServingFlow | undefined;
    let ca: Buffer;
    before(async () => {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
      try {
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=localhost',
          '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
      } catch {
        return; // no openssl here: the test below skips
      }
      ca = readFileSync(cert);
      const yaml = `
jtype: Flow
with: { host: 127.0.0.1, port: [0, 0, 0], protocol: [grpc, http, websocket], tls: { cert: ${JSON.stringify(cert)}, key: ${JSON.stringify(key)} } }
executors:
  - { name: enc, uses: { jtype: HashEncoder, with: { dim: ${DIM} }, metas: { modules: [${JSON.stringify(FIXTURES)}] } } }
`;
      tlsServing = await serveFlow(parseFlow(yaml, dir), { logger: pino({ level: 'silent' }) });
    });
    after(() => tlsServing?.close(0));

    test('encode works with the server CA and fails without it', async (t) => {
      if (!tlsServing) return t.skip('no openssl');
      for (const server of tlsServing.servers) {
        assert.match(server.url, /^(grpcs|https|wss):/);
        const trusted = new Client(server.url, { tls: { ca } });
        try {
          assert.deepEqual(await trusted.encode(['secure']), [hashEmbedding('secure', DIM)], server.url);
          assert.equal(await trusted.dryRun(), true);
        } finally {
          await trusted.close();
        }
        const untrusted = new Client(server.url, { timeoutMs: 5_000 });
        try {
          await assert.rejects(untrusted.encode(['x']), /certificate|self.signed|UNAVAILABLE/i, server.url);
        } finally {
          await untrusted.close();
        }
      }
    });
  });

  test('the credential travels as gRPC metadata and as the Authorization header', async () => {
    // Bare echo servers stand in for a gateway that checks tokens (ours has no auth hook to observe).
    const seen: Record<string, string | undefined> = {};
    const g = new grpc.Server();
    g.addService(jinaRpcService, {
      Call: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        seen.grpc = String(call.metadata.get('authorization')[0]);
        call.on('data', (b: Buffer) => call.write(b)).on('end', () => call.end());
      },
    });
    const gport = await new Promise<number>((res, rej) => g.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    const h = createHttpServer((req, res) => {
      seen.http = req.headers.authorization;
      let body = '';
      req.on('data', (c: Buffer) => (body += c)).on('end', () => {
        const b = JSON.parse(body) as { data: unknown; header: { request_id: string } };
        res.setHeader('content-type', 'application/json').end(JSON.stringify({ header: { request_id: b.header.request_id }, parameters: {}, data: b.data }));
      });
    });
    await new Promise<void>((r) => h.listen(0, '127.0.0.1', () => r()));
    const w = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'bytes' });
    await new Promise((r) => w.once('listening', r));
    w.on('connection', (ws, req) => {
      seen.ws = req.headers.authorization;
      ws.on('message', (b: Buffer) => (b.length === 1 ? ws.close(1000) : ws.send(b)));
    });
    try {
      const urls = { grpc: `grpc://127.0.0.1:${gport}`, http: `http://127.0.0.1:${(h.address() as AddressInfo).port}`, ws: `ws://127.0.0.1:${(w.address() as AddressInfo).port}` };
      for (const [name, url] of Object.entries(urls)) {
        const client = new Client(url, { credential: name === 'http' ? 'raw-token' : { Authorization: `Bearer ${name}` } });
        try {
          assert.deepEqual((await client.post('/x', ['a', 'b'])).texts, ['a', 'b']);
        } finally {
          await client.close();
        }
      }
      assert.deepEqual(seen, { grpc: 'Bearer grpc', http: 'raw-token', ws: 'Bearer ws' });
    } finally {
      g.forceShutdown();
      h.close();
      w.close();
    }
  });

  describe('drop_image_content, as clip_client sends it', () => {
    // A bare HTTP endpoint that records each request's parameters and answers with the
    // documents it got, each with a one-number embedding.
    let server: ReturnType<typeof createHttpServer>;
    let url: string;
    const seen: Array<{ endpoint: string; parameters: Record<string, unknown> }> = [];
    before(async () => {
      server = createHttpServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const parsed = JSON.parse(body) as { data: Array<Record<string, unknown>>; execEndpoint: string; parameters: Record<string, unknown> };
          seen.push({ endpoint: parsed.execEndpoint, parameters: parsed.parameters });
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ data: parsed.data.map((d) => ({ ...d, embedding: [1] })), parameters: parsed.parameters, header: {} }));
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server?.close());

    test('encode, rank, index and search ask for it by default; the caller may turn it off', async () => {
      const client = new Client(url);
      try {
        const image = () => new Document({ blob: PNG, matches: [new Document({ text: 'a caption' })] });
        await client.encode([image()]);
        await client.rank([image()]);
        await client.index([image()]);
        await client.search([image()], { limit: 3 });
        await client.encode([image()], { parameters: { drop_image_content: false, other: 1 } });
        await client.post('/anything', [image()]);
        assert.deepEqual(seen.map((s) => [s.endpoint, s.parameters]), [
          ['/encode', { drop_image_content: true }],
          ['/rank', { drop_image_content: true }],
          ['/index', { drop_image_content: true }],
          ['/search', { drop_image_content: true, limit: 3 }],
          ['/encode', { drop_image_content: false, other: 1 }],
          ['/anything', {}],
        ]);
      } finally {
        await client.close();
      }
    });
  });

  describe('construction and transport failures', () => {
    test('invalid URLs and unknown schemes are TypeErrors', () => {
      assert.throws(() => new Client('not a url'), TypeError);
      assert.throws(() => new Client('ftp://127.0.0.1:21'), (e: Error) => e instanceof TypeError && /grpc, grpcs, http/.test(e.message));
      for (const scheme of ['grpc', 'grpcs', 'http', 'https', 'ws', 'wss', 'websocket']) new Client(`${scheme}://127.0.0.1:1`).close();
    });

    for (const scheme of ['grpc', 'http', 'ws']) {
      test(`a dead ${scheme} port: dryRun() is false and encode rejects with the transport's message`, async () => {
        const client = new Client(`${scheme}://127.0.0.1:1`, { timeoutMs: 5_000 });
        try {
          assert.equal(await client.dryRun(), false);
          await assert.rejects(client.encode(['x']), /ECONNREFUSED|UNAVAILABLE/);
        } finally {
          await client.close();
        }
      });
    }
  });
});
