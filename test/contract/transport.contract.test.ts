// One contract, three protocols: every transport must pass the same suite, run
// against a real flow served on loopback and driven by our Client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../core/client/client.js';
import { Document } from '../../core/document/document.js';
import { T } from '../../core/proto/schema.js';
import { hashEmbedding } from '../fixtures/executors/basic.js';
import { BASIC_EXECUTORS, ENCODER_FLOW, flowYaml, serveYaml } from '../helpers/flows.js';
import { grpcRaw, httpRaw, wsRaw } from '../helpers/raw.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

const PROTOCOLS = ['grpc', 'http', 'websocket'] as const;
const MB = 1024 * 1024;

function assertClose(actual: Float32Array, expected: Float32Array): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `component ${i}: ${v} vs ${expected[i]}`));
}

describe('transport contract', () => {
  let serving: Awaited<ReturnType<typeof serveYaml>>;
  before(async () => {
    serving = await serveYaml(ENCODER_FLOW);
  });
  after(() => serving.close(1000));

  for (const protocol of PROTOCOLS) {
    describe(protocol, () => {
      let client: Client;
      before(() => {
        client = new Client(serving.url(protocol));
      });
      after(() => client.close());

      it('encode: strings in, one embedding per input, in input order', async () => {
        const texts = Array.from({ length: 21 }, (_, i) => `sentence number ${i}`);
        const out = (await client.encode(texts, { batchSize: 4 })) as Float32Array[];
        assert.equal(out.length, texts.length);
        out.forEach((e, i) => assertClose(e, hashEmbedding(texts[i]!, 8)));
      });

      it('post to the default endpoint keeps ids and parameters', async () => {
        const docs = [new Document({ id: 'doc-a', text: 'alpha' }), new Document({ id: 'doc-b', text: 'beta' })];
        const out = await client.post('/', docs, { parameters: { limit: 2 } });
        assert.deepEqual(out.map((d) => d.id), ['doc-a', 'doc-b']);
        assertClose(out[1]!.embedding!, hashEmbedding('beta', 8));
      });

      it('an executor error comes back in-band with the executor name', async () => {
        await assert.rejects(client.post('/fail', [{ text: 'x' }], { parameters: { message: 'kaput' } }), (e: Error & { executor?: string }) => {
          assert.match(e.message, /kaput/);
          assert.equal(e.executor, 'failer');
          return true;
        });
      });

      it('a document the executor cannot use fails its request, naming the document', async () => {
        await assert.rejects(client.post('/encode', [{ id: 'empty-doc' }]), /empty-doc/);
        // the server is unharmed
        const [e] = (await client.encode(['still fine'])) as Float32Array[];
        assertClose(e!, hashEmbedding('still fine', 8));
      });

      it('round-trips a 20 MB message', async () => {
        const blob = new Uint8Array(20 * MB);
        for (let i = 0; i < blob.length; i += 4096) blob[i] = i % 251;
        const [doc] = await client.post('/', [new Document({ id: 'big', blob })]);
        assert.equal(doc!.id, 'big');
        assert.equal(doc!.blob!.byteLength, blob.byteLength);
        assert.equal(doc!.blob![4096 * 7], (4096 * 7) % 251);
      });
    });
  }

  it('grpc: malformed bytes are INVALID_ARGUMENT', async () => {
    const r = await grpcRaw(serving.url('grpc').replace('grpc://', ''), Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    assert.equal(r.code, 3);
    assert.match(r.details, /DataRequestProto/);
  });

  it('grpc: a "__proto__" key in parameters is INVALID_ARGUMENT, as the JSON transports refuse it', async () => {
    const fields = Object.create(null) as Record<string, unknown>;
    fields['__proto__'] = { structValue: { fields: { polluted: { boolValue: true } } } };
    const bytes = T.dataRequest.encode({ header: { requestId: 'r1', execEndpoint: '/encode' }, parameters: { fields } }).finish();
    const r = await grpcRaw(serving.url('grpc').replace('grpc://', ''), Buffer.from(bytes));
    assert.equal(r.code, 3);
    assert.match(r.details, /parameters: the key "__proto__" is not allowed/);
  });

  it('http: malformed JSON is a 400 naming the problem', async () => {
    const bad = await httpRaw(serving.url('http'), '{"data": [');
    assert.equal(bad.status, 400);
    const typed = await httpRaw(serving.url('http'), '{"data": [{"text": 5}]}');
    assert.equal(typed.status, 400);
    assert.match(JSON.stringify(typed.json), /data\[0\]\.text/);
  });

  it('http and websocket: a "__proto__" key is refused however it is spelled; the text "__proto__" is only text', async () => {
    const escaped = '{"data": [{"text": "a", "tags": {"\\u005f_proto__": {"polluted": true}}}], "execEndpoint": "/encode"}';
    const refused = await httpRaw(serving.url('http'), escaped);
    assert.equal(refused.status, 400);
    assert.match(String((refused.json.error as Record<string, unknown>).message), /the key "__proto__" is not allowed/);
    const text = JSON.stringify({ data: [{ text: '__proto__' }], execEndpoint: '/encode' });
    const ok = await httpRaw(serving.url('http'), text);
    assert.equal(ok.status, 200);
    assertClose(Float32Array.from((ok.json as { data: Array<{ embedding: number[] }> }).data[0]!.embedding), hashEmbedding('__proto__', 8));
    const [bad, good] = await wsRaw(serving.url('websocket'), escaped, text);
    assert.match(String((bad.error as Record<string, unknown>).message), /the key "__proto__" is not allowed/);
    assertClose(Float32Array.from((good.data as Array<{ embedding: number[] }>)[0]!.embedding), hashEmbedding('__proto__', 8));
  });

  it('websocket: a malformed frame gets an error reply and the socket keeps serving', async () => {
    const [bad, good] = await wsRaw(serving.url('websocket'), '{"data": [{"text": 5}]}', JSON.stringify({ data: [{ text: 'ok' }], execEndpoint: '/encode' }));
    assert.match(JSON.stringify(bad), /data\[0\]\.text/);
    const docs = good.data as Array<{ embedding: number[] }>;
    assertClose(Float32Array.from(docs[0]!.embedding), hashEmbedding('ok', 8));
  });
});

describe('transport contract over TLS', () => {
  const cert = makeSelfSignedCert();
  let serving: Awaited<ReturnType<typeof serveYaml>>;
  before(async () => {
    const tls = `  tls: { cert: '${cert.cert}', key: '${cert.key}' }`;
    serving = await serveYaml(flowYaml(`  - name: encoder
    uses: { jtype: HashEncoder, with: { dim: 8 }, metas: { modules: ['${BASIC_EXECUTORS}'] } }
`, tls));
  });
  after(() => serving.close(1000));

  for (const protocol of PROTOCOLS) {
    it(`${protocol}: encodes over TLS with a trusted CA`, async () => {
      const url = serving.url(protocol);
      assert.match(url, /^(grpcs|https|wss):/);
      const client = new Client(url, { tls: { ca: cert.pem } });
      try {
        const [e] = (await client.encode(['secure'])) as Float32Array[];
        assertClose(e!, hashEmbedding('secure', 8));
      } finally {
        await client.close();
      }
    });
  }
});
