// ClipEncoder under concurrency: cross-request batching gives the same vectors as
// one request at a time, and a slow remote image delays only its own request.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { cosine } from '../../../../executors/clip/rank.js';
import { flowYaml, serveYaml } from '../../../helpers/flows.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';

describe('ClipEncoder dynamic batching', () => {
  let serving: Awaited<ReturnType<typeof serveYaml>>;
  let images: Uint8Array[];
  let slowServer: Server;
  let slowUrl: string;
  before(async () => {
    serving = await serveYaml(flowYaml(`  - name: clip_o
    uses:
      jtype: ClipEncoder
      with: { model_path: '${tinyModelDir('hf')}', minibatch_size: 4, uri_allowlist: ['127.0.0.1'] }
`));
    images = await Promise.all(
      Array.from({ length: 6 }, async (_, i) =>
        new Uint8Array(await sharp({ create: { width: 30 + i * 7, height: 40, channels: 3, background: { r: 40 * i, g: 255 - 30 * i, b: 90 } } }).png().toBuffer()),
      ),
    );
    slowServer = createServer((_, res) => setTimeout(() => res.end(Buffer.from(images[0]!)), 1500));
    await new Promise<void>((r) => slowServer.listen(0, '127.0.0.1', r));
    slowUrl = `http://127.0.0.1:${(slowServer.address() as AddressInfo).port}/slow.png`;
  });
  after(async () => {
    slowServer.close();
    await serving.close(1000);
  });

  it('concurrent (batched) requests give the same embeddings as sequential (unbatched) ones', async () => {
    const client = new Client(serving.url('grpc'));
    try {
      const inputs = [
        ...Array.from({ length: 18 }, (_, i) => new Document({ id: `t${i}`, text: `caption number ${i} ${'word '.repeat(i % 7)}` })),
        ...images.map((blob, i) => new Document({ id: `i${i}`, blob })),
      ];
      const sequential = new Map<string, Float32Array>();
      for (const d of inputs) {
        const [out] = await client.post('/encode', [new Document({ id: d.id, text: d.text, blob: d.blob })]);
        sequential.set(d.id, out!.embedding!);
      }
      const concurrent = await Promise.all(inputs.map((d) => client.post('/encode', [new Document({ id: d.id, text: d.text, blob: d.blob })], { prefetch: 32 })));
      for (const [out] of concurrent) {
        const c = cosine(out!.embedding!, sequential.get(out!.id)!);
        assert.ok(c >= 0.99999, `${out!.id}: cosine ${c}`);
      }
    } finally {
      await client.close();
    }
  });

  it('images staged ahead of their batch embed exactly as images preprocessed inside it', async () => {
    // Requests of up to 64 images are decoded and cropped before batching; bigger ones inside the
    // model call. 70 images in one request take the second path, one per request the first.
    const client = new Client(serving.url('http'));
    try {
      const docs = Array.from({ length: 70 }, (_, i) => new Document({ id: `b${i}`, blob: images[i % images.length]! }));
      const big = await client.post('/encode', docs.map((d) => new Document({ id: d.id, blob: d.blob })), { batchSize: 70 });
      const single = await Promise.all(docs.slice(0, images.length).map((d) => client.post('/encode', [new Document({ id: d.id, blob: d.blob })])));
      for (const [one] of single) {
        const c = cosine(one!.embedding!, big.find((d) => d.id === one!.id)!.embedding!);
        assert.ok(c >= 0.99999, `${one!.id}: cosine ${c}`);
      }
    } finally {
      await client.close();
    }
  });

  it('a slow remote image delays only its own request', async () => {
    const client = new Client(serving.url('http'));
    try {
      const finished: string[] = [];
      const slow = client.post('/encode', [new Document({ id: 'slow', uri: slowUrl })]).then(() => finished.push('slow'));
      await new Promise((r) => setTimeout(r, 100));
      const fast = Array.from({ length: 5 }, (_, i) =>
        client.post('/encode', [new Document({ id: `fast${i}`, text: `quick ${i}` })]).then(() => finished.push(`fast${i}`)),
      );
      await Promise.all([slow, ...fast]);
      assert.equal(finished.at(-1), 'slow', `order: ${finished.join(', ')}`);
    } finally {
      await client.close();
    }
  });
});
