// ClipEncoder served for real (tiny generated model) over all three protocols:
// encode text and images, rank, bad documents, and agreement across layouts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { cosine } from '../../../../executors/clip/rank.js';
import { flowYaml, serveYaml } from '../../../helpers/flows.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';

const PROTOCOLS = ['grpc', 'http', 'websocket'] as const;

function encoderFlow(layout: 'clip-server' | 'hf'): string {
  return flowYaml(`  - name: clip_o
    uses:
      jtype: CLIPEncoder
      with: { model_path: '${tinyModelDir(layout)}', minibatch_size: 3 }
`);
}

async function png(r: number, g: number, b: number, w = 40, h = 30): Promise<Uint8Array> {
  return new Uint8Array(await sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } }).png().toBuffer());
}

describe('ClipEncoder over every protocol', () => {
  let serving: Awaited<ReturnType<typeof serveYaml>>;
  let red: Uint8Array;
  let blue: Uint8Array;
  before(async () => {
    serving = await serveYaml(encoderFlow('clip-server'));
    red = await png(220, 20, 30);
    blue = await png(20, 30, 220, 64, 48);
  });
  after(() => serving.close(1000));

  const reference = new Map<string, Float32Array>();

  for (const protocol of PROTOCOLS) {
    describe(protocol, () => {
      let client: Client;
      before(() => {
        client = new Client(serving.url(protocol));
      });
      after(() => client.close());

      it('encodes texts and images (blob and data: URI) to 16-d embeddings, same result on every protocol', async () => {
        const dataUri = `data:image/png;base64,${Buffer.from(blue).toString('base64')}`;
        const docs = await client.encode([
          new Document({ id: 't1', text: 'a photo of a red square' }),
          new Document({ id: 'i1', blob: red }),
          new Document({ id: 'i2', uri: dataUri }),
          new Document({ id: 't2', text: 'a photo of a blue square' }),
        ]);
        const byId = new Map([...(docs as Document[])].map((d) => [d.id, d.embedding!]));
        for (const [id, e] of byId) {
          assert.equal(e.length, 16, `${id} embedding size`);
          assert.ok(e.every(Number.isFinite));
          const seen = reference.get(id);
          if (seen) assert.ok(cosine(seen, e) > 0.999999, `${id} differs across protocols`);
          else reference.set(id, e);
        }
        assert.ok(cosine(byId.get('t1')!, byId.get('t2')!) < 0.9999, 'different texts give different vectors');
      });

      it('ranks matches: clip_score softmax over 100 x cosine, sorted, without match embeddings', async () => {
        const query = new Document({ text: 'a red square', matches: [{ text: 'a blue circle' }, { blob: red }, { text: 'a red square' }] });
        const [ranked] = await client.rank([query]);
        const matches = ranked!.matches;
        assert.equal(matches.length, 3);
        const scores = matches.map((m) => m.scores.clip_score!.value!);
        assert.ok(Math.abs(scores.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'softmax sums to 1');
        assert.deepEqual([...scores].sort((a, b) => b - a), scores, 'sorted by clip_score');
        assert.equal(matches[0]!.text, 'a red square', 'the identical text ranks first');
        assert.ok(Math.abs(matches[0]!.scores.clip_score_cosine!.value! - 1) < 1e-5);
        for (const m of matches) {
          assert.equal(m.embedding, undefined);
          assert.equal(m.scores.clip_score!.opName, 'softmax');
          assert.equal(m.scores.clip_score_cosine!.opName, 'cosine');
        }
      });

      it('a broken image fails its request naming the document; the server keeps serving', async () => {
        await assert.rejects(client.encode([new Document({ text: 'fine' }), new Document({ id: 'broken', blob: new Uint8Array([1, 2, 3, 4]) })]), /broken/);
        await assert.rejects(client.encode([new Document({ id: 'hollow' })]), /hollow/);
        const [v] = (await client.encode(['still alive'])) as Float32Array[];
        assert.equal(v!.length, 16);
      });

      it('drop_image_content removes blobs from the reply', async () => {
        const [d] = await client.post('/encode', [new Document({ blob: red })], { parameters: { drop_image_content: true } });
        assert.equal(d!.blob, undefined);
        assert.equal(d!.embedding!.length, 16);
      });
    });
  }
});

describe('ClipEncoder URI policy (raw HTTP, bypassing the client that reads local files)', () => {
  it('refuses local paths, file:// and loopback URLs, naming the document', async () => {
    const serving = await serveYaml(encoderFlow('clip-server'));
    try {
      for (const [id, uri, reason] of [
        ['bare', '/etc/passwd', /does not read local files/],
        ['file', 'file:///etc/passwd', /does not read local files/],
        ['loop', `${serving.url('http')}/metrics.png`, /private or reserved address/],
        ['ftp', 'ftp://example.com/a.png', /only http\(s\) and data: URIs/],
      ] as const) {
        const res = await fetch(`${serving.url('http')}/encode`, { method: 'POST', body: JSON.stringify({ data: [{ id, uri }] }) });
        assert.equal(res.status, 400, id);
        const body = (await res.json()) as { header: { status: { description: string } } };
        assert.match(body.header.status.description, new RegExp(`document ${id} \\(index 0\\)`));
        assert.match(body.header.status.description, reason);
      }
    } finally {
      await serving.close(1000);
    }
  });
});

describe('ClipEncoder model layouts', () => {
  it('clip-server and Hugging Face layouts of the same weights agree (dynamic vs fixed text length)', async () => {
    const texts = ['a', 'a photo of a cat sitting on a red mat', 'x '.repeat(100)];
    const image = await png(10, 200, 90, 33, 77);
    const results: Float32Array[][] = [];
    for (const layout of ['clip-server', 'hf'] as const) {
      const serving = await serveYaml(encoderFlow(layout));
      const client = new Client(serving.url('http'));
      try {
        const docs = await client.encode([...texts.map((text) => new Document({ text })), new Document({ blob: image })]);
        results.push((docs as Document[]).map((d) => d.embedding!));
      } finally {
        await client.close();
        await serving.close(1000);
      }
    }
    results[0]!.forEach((e, i) => assert.ok(cosine(e, results[1]![i]!) > 0.99999, `item ${i}: ${cosine(e, results[1]![i]!)}`));
  });
});
