// Helpers shared by the indexer integration tests.
import { Client } from '../../../../core/client/client.js';
import { Document } from '../../../../core/document/document.js';
import { flowYaml } from '../../../helpers/flows.js';

/** The indexer's `/status` result, asked through the Client (one placeholder document carries the request). */
export async function indexerStatus(client: Client, name = 'indexer'): Promise<{ count: number; dim: number | null; backend: string }> {
  let result: unknown;
  await client.post('/status', [new Document()], { onDone: (r) => (result = (r.parameters.__results__ as Record<string, unknown>)[name]) });
  return result as { count: number; dim: number | null; backend: string };
}

/** A flow of one VectorIndexer (documents arrive with embeddings), served on every protocol. */
export function indexerOnlyFlow(withArgs: string, workspace?: string, extra = ''): string {
  return flowYaml(`  - name: indexer
    uses:
      jtype: VectorIndexer
      with: ${withArgs}
${workspace ? `    workspace: '${workspace}'\n` : ''}${extra}`);
}

/** Documents with the given embeddings, ids `${prefix}${i}`. */
export function embeddedDocs(vectors: Float32Array[], prefix = 'd'): Document[] {
  return vectors.map((embedding, i) => new Document({ id: `${prefix}${i}`, text: `doc ${i}`, tags: { i }, embedding }));
}
