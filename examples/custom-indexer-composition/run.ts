// Indexes sentences through the enricher, then searches with a tag filter and a
// distance cutoff. Run: npx tsx examples/custom-indexer-composition/run.ts "a dog"
//   [--filter '{"length":"long"}'] [--max-distance 0.8] [--model-path DIR] [--workspace DIR]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Document, loadFlowFile, serveFlow, type FlowConfig } from 'clipflow';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    filter: { type: 'string' },
    'max-distance': { type: 'string' },
    limit: { type: 'string', default: '5' },
    'model-path': { type: 'string' },
    workspace: { type: 'string' },
  },
});
const query = positionals[0] ?? 'a dog';
const SENTENCES = [
  'a dog',
  'a small dog sleeping next to a fireplace on a cold evening',
  'a cat on a sofa',
  'a grey cat watching birds through the kitchen window all morning',
  'a red car',
  'a vintage car parked in front of an old city hall',
  'a bowl of fruit',
];

const flowFile = fileURLToPath(new URL('./flow.yml', import.meta.url));
const loaded = await loadFlowFile(flowFile, { port: [0], host: '127.0.0.1', executorWith: { model_path: values['model-path'] } });
// --workspace moves the index out of the example's folder (the loaded config is frozen: copy it).
const config: FlowConfig = values.workspace
  ? { ...loaded, executors: loaded.executors.map((e) => (e.name === 'indexer' ? { ...e, workspace: resolve(values.workspace!) } : e)) }
  : loaded;
const serving = await serveFlow(config);
const client = new Client(serving.servers[0]!.url);
try {
  await client.index(SENTENCES.map((text, i) => new Document({ id: `s${i}`, text })));
  const parameters: Record<string, unknown> = {};
  if (values.filter) parameters.filter = JSON.parse(values.filter) as unknown;
  if (values['max-distance']) parameters.max_distance = Number(values['max-distance']);
  const [result] = await client.search([query], { limit: Number(values.limit), parameters });
  for (const m of result!.matches) console.log(JSON.stringify({ text: m.text, tags: m.tags, distance: m.scores.cosine?.value }));
} finally {
  await client.close();
  await serving.close();
}
