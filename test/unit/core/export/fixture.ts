// A flow exercising every export path: a GPU encoder with resources and replicas, a
// sharded indexer with a workspace and per-endpoint polling, a parallel branch.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const EXPORT_FLOW = `jtype: Flow
version: '1'
with:
  name: Search Flow
  port: [0, 51001]
  protocol: [grpc, http]
executors:
  - name: clip_o
    uses:
      jtype: ClipEncoder
      with: { runtime: cuda, minibatch_size: 32 }
    replicas: 3
    gpus: 1
    resources:
      requests: { cpu: 2, memory: 4Gi }
      limits: { memory: 8Gi }
  - name: indexer
    uses: { jtype: VectorIndexer, with: { backend: memory } }
    workspace: ./ws
    shards: 2
    polling: { /index: ANY, /search: ALL }
    timeout_send: 5000
  - name: tagger
    uses: BaseExecutor
    needs: gateway
    resources: { cpu: 500m }
`;

/** Writes the flow into a fresh temporary folder; returns the file and an output folder beside it. */
export function writeExportFlow(): { dir: string; file: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-export-'));
  const file = join(dir, 'flow.yml');
  writeFileSync(file, EXPORT_FLOW);
  return { dir, file, out: join(dir, 'out') };
}
