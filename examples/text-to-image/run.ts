// Indexes every image in a folder, then finds the ones that best match a sentence.
// Run: npx tsx examples/text-to-image/run.ts FOLDER "a photo of a dog" [--limit 5]
//        [--model-path DIR] [--workspace DIR]
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Document, loadFlowFile, serveFlow, type FlowConfig } from 'clipflow';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    limit: { type: 'string', default: '5' },
    'model-path': { type: 'string' },
    workspace: { type: 'string' },
  },
});
const [folder, query] = positionals;
if (!folder || !query) {
  console.error('usage: run.ts FOLDER "QUERY" [--limit N] [--model-path DIR] [--workspace DIR]');
  process.exit(2);
}

const flowFile = fileURLToPath(new URL('./flow.yml', import.meta.url));
// --model-path reaches the encoder exactly as `clipflow serve --model-path` does.
const loaded = await loadFlowFile(flowFile, { port: [0], host: '127.0.0.1', executorWith: { model_path: values['model-path'] } });
// --workspace moves the index out of the example's folder (the loaded config is frozen: copy it).
const config: FlowConfig = values.workspace
  ? { ...loaded, executors: loaded.executors.map((e) => (e.name === 'indexer' ? { ...e, workspace: resolve(values.workspace!) } : e)) }
  : loaded;
const serving = await serveFlow(config);
const client = new Client(serving.servers[0]!.url);
try {
  const files = (await readdir(folder)).filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase())).sort();
  // The id is derived from the path, so indexing the folder again replaces rather than duplicates.
  // The client reads each file and sends its bytes; the path travels as a tag.
  const docs = files.map((f) => {
    const path = resolve(join(folder, f));
    return new Document({ id: createHash('sha1').update(path).digest('hex'), uri: path, tags: { path } });
  });
  await client.index(docs, { batchSize: 16 });
  const [result] = await client.search([query], { limit: Number(values.limit) });
  result!.matches.forEach((m, i) => console.log(JSON.stringify({ rank: i + 1, path: m.tags.path, distance: m.scores.cosine?.value })));
} finally {
  await client.close();
  await serving.close();
}
