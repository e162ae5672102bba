// ClipEncoder's decode-and-crop threads (preprocess_threads): the same embeddings as
// the event loop's, bad images named as before, and the setting checked at start-up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { NdArray } from '../../../../core/document/ndarray.js';
import { flowYaml, serveYaml } from '../../../helpers/flows.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';

const encoder = (threads: number | string) => flowYaml(`  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${tinyModelDir('hf')}', preprocess_threads: ${threads} }
`);

async function image(i: number): Promise<Uint8Array> {
  const base = sharp({ create: { width: 60 + i, height: 45 + (i % 7), channels: i % 3 === 0 ? 4 : 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 13) % 256, alpha: 0.7 } } });
  return new Uint8Array(await (i % 2 ? base.jpeg() : base.png()).toBuffer());
}

describe('ClipEncoder preprocess_threads', () => {
  let pooled: Awaited<ReturnType<typeof serveYaml>>;
  let inline: Awaited<ReturnType<typeof serveYaml>>;
  let images: Uint8Array[];
  before(async () => {
    [pooled, inline] = await Promise.all([serveYaml(encoder(2)), serveYaml(encoder(0))]);
    images = await Promise.all(Array.from({ length: 70 }, (_, i) => image(i)));
  });
  after(() => Promise.all([pooled.close(1000), inline.close(1000)]));

  it('embeds images exactly as the event loop does: staged requests, one over the staging limit, data: URIs and tensors', async () => {
    const docs = () => [
      ...images.map((blob, i) => new Document({ id: `b${i}`, blob })),
      new Document({ id: 'uri', uri: `data:image/png;base64,${Buffer.from(images[0]!).toString('base64')}` }),
      new Document({ id: 'tensor', tensor: new NdArray(new Uint8Array(20 * 16 * 3).fill(90), [20, 16, 3], 'uint8') }),
    ];
    const [a, b] = [new Client(pooled.url('grpc')), new Client(inline.url('grpc'))];
    try {
      for (const size of [8, 72]) { // 72 documents in one request are decoded inside the batch, not staged
        const [got, want] = await Promise.all([a.encode(docs(), { batchSize: size }), b.encode(docs(), { batchSize: size })]);
        (want as Document[]).forEach((d, i) => assert.deepEqual(Array.from((got as Document[])[i]!.embedding!), Array.from(d.embedding!), `${d.id} at batch size ${size}`));
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a broken image fails its own request naming the document; the others and the next requests succeed', async () => {
    const client = new Client(pooled.url('http'));
    try {
      const results = await Promise.allSettled([
        client.encode([new Document({ id: 'good', blob: images[1]! })]),
        client.encode([new Document({ id: 'broken', blob: new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]) })]),
      ]);
      assert.equal(results[0]!.status, 'fulfilled');
      assert.equal(results[1]!.status, 'rejected');
      assert.match(String((results[1] as PromiseRejectedResult).reason), /document broken \(index 0\): cannot use its image: corrupt or truncated image/);
      const [again] = (await client.encode([new Document({ blob: images[2]! })])) as Document[];
      assert.equal(again!.embedding!.length, 16);
    } finally {
      await client.close();
    }
  });

  it('a negative or fractional thread count is refused at start-up, naming the key', async () => {
    for (const bad of ['-1', '1.5']) await assert.rejects(serveYaml(encoder(bad)), /uses\.with\.preprocess_threads.*non-negative integer/);
  });
});
