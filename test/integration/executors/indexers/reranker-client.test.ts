// RerankerClient against a second served clipflow (a CLIP ranker), the DALL·E Flow
// pattern: search here, rank there; plus the remote's failures as our errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { flowYaml, serveYaml } from '../../../helpers/flows.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';

const SENTENCES = ['a red square', 'a blue circle', 'a green triangle', 'a photo of a dog', 'a photo of a cat'];

describe('RerankerClient', () => {
  let ranker: Awaited<ReturnType<typeof serveYaml>>;
  let search: Awaited<ReturnType<typeof serveYaml>>;
  before(async () => {
    const model = tinyModelDir('clip-server');
    ranker = await serveYaml(flowYaml(`  - name: clip_r
    uses:
      jtype: ClipEncoder
      with: { model_path: '${model}' }
`));
    search = await serveYaml(
      flowYaml(`  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${model}' }
  - name: indexer
    uses:
      jtype: VectorIndexer
      with: { backend: memory }
  - name: reranker
    uses:
      jtype: RerankerClient
      with: { server: '${ranker.url('grpc')}', batch_size: 2 }
`),
    );
  });
  after(async () => {
    await search.close(1000);
    await ranker.close(1000);
  });

  it('re-ranks /search matches remotely, keeping ids, tags, text and the indexer cosine score', async () => {
    const client = new Client(search.url('http'));
    const direct = new Client(ranker.url('grpc'));
    try {
      await client.index(SENTENCES.map((text, i) => new Document({ id: `s${i}`, text, tags: { i, kind: 'sentence' } })));
      const results = await client.search(['a photo of a dog', 'a red square', 'a blue circle'], { limit: 4 });
      assert.equal(results.length, 3);
      for (const r of results) {
        const m = r.matches;
        assert.equal(m.length, 4);
        const clip = m.map((x) => x.scores.clip_score!.value!);
        assert.deepEqual([...clip].sort((a, b) => b - a), clip, 'sorted by clip_score');
        assert.ok(Math.abs(clip.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'softmax over the matches');
        for (const x of m) {
          assert.equal(x.tags.kind, 'sentence');
          assert.equal(x.text, SENTENCES[x.tags.i as number]);
          assert.equal(x.id, `s${x.tags.i}`);
          assert.equal(x.scores.cosine!.opName, 'cosine', 'the indexer score is kept');
          assert.ok(Math.abs(1 - x.scores.cosine!.value! - x.scores.clip_score_cosine!.value!) < 1e-4, 'both scores see the same cosine');
        }
        assert.equal(m[0]!.text, r.text, 'the identical sentence ranks first');
      }
      // The same ranking as asking the ranker directly.
      const [mine] = results;
      const [theirs] = await direct.rank([new Document({ text: mine!.text, matches: mine!.matches.map((x) => new Document({ id: x.id, text: x.text })) })]);
      assert.deepEqual(theirs!.matches.map((x) => x.id), mine!.matches.map((x) => x.id));
      theirs!.matches.forEach((x, i) => assert.ok(Math.abs(x.scores.clip_score!.value! - mine!.matches[i]!.scores.clip_score!.value!) < 1e-6));
    } finally {
      await client.close();
      await direct.close();
    }
  });

  it('turns remote failures into its own errors, naming the server', async () => {
    const only = (server: string) =>
      flowYaml(`  - name: reranker
    uses:
      jtype: RerankerClient
      with: { server: '${server}', timeout_ms: 5000 }
`);
    const good = await serveYaml(only(ranker.url('http')));
    const dead = await serveYaml(only('grpc://127.0.0.1:1'));
    const a = new Client(good.url('grpc'));
    const b = new Client(dead.url('http'));
    try {
      // A match with nothing to encode is the caller's mistake, at the remote and here.
      await assert.rejects(a.rank([new Document({ text: 'q', matches: [{ id: 'empty' }] })]), (e: Error) => {
        assert.match(e.message, new RegExp(`reranker at ${ranker.url('http')} refused the request: .*empty`));
        return true;
      });
      // Raw HTTP: our Client would read the local file itself and send a blob.
      const res = await fetch(`${good.url('http')}/post`, {
        method: 'POST',
        body: JSON.stringify({ execEndpoint: '/rank', data: [{ id: 'q', text: 'q', matches: [{ id: 'local', uri: '/etc/hostname' }] }] }),
      });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { header: { status: { description: string } } }).header.status.description, /match local of document q has a local uri/);
      const [passed] = await a.post('/anything', [new Document({ id: 'no-matches', text: 'left alone' })]);
      assert.equal(passed!.text, 'left alone');
      await assert.rejects(b.rank([new Document({ text: 'q', matches: [{ text: 'm' }] })]), /reranker at grpc:\/\/127\.0\.0\.1:1 is unreachable/);
      await assert.rejects(serveYaml(only('not a url')), /uses\.with\.server/);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([good.close(1000), dead.close(1000)]);
    }
  });
});
