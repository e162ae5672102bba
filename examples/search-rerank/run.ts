// Starts a ranking server and a search flow that re-ranks through it, indexes a few
// sentences, and prints a query's matches with both scores.
// Run: npx tsx examples/search-rerank/run.ts "a photo of a dog" [--limit 4] [--model-path DIR]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Document, loadFlowFile, serveFlow } from 'clipflow';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string', default: '4' }, 'model-path': { type: 'string' } },
});
const query = positionals[0] ?? 'a photo of a dog';
const SENTENCES = [
  'a photo of a dog playing in the snow',
  'a photo of a cat sleeping on a sofa',
  'a red sports car on a mountain road',
  'a bowl of fresh fruit on a table',
  'a city skyline at night',
  'a puppy chasing a ball in the park',
];

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const overrides = { port: [0], host: '127.0.0.1', executorWith: { model_path: values['model-path'] } };
const ranker = await serveFlow(await loadFlowFile(here('./ranker.yml'), overrides));
// flow.yml reads the ranker's address from the environment, as a deployment would.
process.env.RERANK_SERVER = ranker.servers[0]!.url;
const search = await serveFlow(await loadFlowFile(here('./flow.yml'), overrides));
const client = new Client(search.servers[0]!.url);
try {
  await client.index(SENTENCES.map((text, i) => new Document({ id: `s${i}`, text, tags: { source: 'example' } })));
  const [result] = await client.search([query], { limit: Number(values.limit) });
  for (const [i, m] of result!.matches.entries()) {
    console.log(JSON.stringify({ rank: i + 1, text: m.text, clip_score: m.scores.clip_score?.value, cosine_distance: m.scores.cosine?.value }));
  }
} finally {
  await client.close();
  await search.close();
  await ranker.close();
}
