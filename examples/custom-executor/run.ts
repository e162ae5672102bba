// Serves the example flow in-process and talks to it with the client.
// Run: npx tsx examples/custom-executor/run.ts
import { fileURLToPath } from 'node:url';
import { Client, loadFlowFile, serveFlow } from 'clipflow';

const flowFile = fileURLToPath(new URL('./flow.yml', import.meta.url));
// Port 0 picks a free port, so the example never collides with a running server.
const serving = await serveFlow(await loadFlowFile(flowFile, { port: [0], host: '127.0.0.1' }));
const client = new Client(serving.servers[0]!.url);
try {
  const docs = await client.post('/', ['  Hello   World ', 'CLIP embeds IMAGES and   sentences']);
  for (const d of docs) console.log(JSON.stringify({ text: d.text, words: d.tags.words }));
  // /stats returns a summary object, which lands in parameters.__results__.
  const stats = await client.post('/stats', ['one two three'], {
    onDone: (response) => console.log(JSON.stringify({ results: response.parameters.__results__ })),
  });
  void stats;
} finally {
  await client.close();
  await serving.close();
}
