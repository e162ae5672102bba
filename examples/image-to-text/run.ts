// Indexes the sentences of a text file, then finds the ones that best describe an image.
// Run: npx tsx examples/image-to-text/run.ts captions.txt photo.jpg [--limit 3] [--model-path DIR]
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Document, loadFlowFile, serveFlow } from 'clipflow';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string', default: '3' }, 'model-path': { type: 'string' } },
});
const [textFile, image] = positionals;
if (!textFile || !image) {
  console.error('usage: run.ts TEXT_FILE IMAGE [--limit N] [--model-path DIR]');
  process.exit(2);
}

/** One sentence per line or per full stop; blank pieces dropped. */
function sentences(text: string): string[] {
  return text
    .split(/\n+|(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const flowFile = fileURLToPath(new URL('./flow.yml', import.meta.url));
const config = await loadFlowFile(flowFile, { port: [0], host: '127.0.0.1', executorWith: { model_path: values['model-path'] } });
const serving = await serveFlow(config);
const client = new Client(serving.servers[0]!.url);
try {
  const lines = sentences(await readFile(textFile, 'utf8'));
  await client.index(lines.map((text, i) => new Document({ id: `line-${i}`, text, tags: { line: i } })));
  // A string naming an image file is read by the client and sent as an image.
  const [result] = await client.search([image], { limit: Number(values.limit) });
  result!.matches.forEach((m, i) => console.log(JSON.stringify({ rank: i + 1, sentence: m.text, distance: m.scores.cosine?.value })));
} finally {
  await client.close();
  await serving.close();
}
