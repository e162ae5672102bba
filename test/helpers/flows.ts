// Shared test helpers: fixture paths and a served flow on loopback.
import { packagePath } from '../../core/config/paths.js';
import { parseFlow } from '../../core/flow/load.js';
import { serveFlow, type ServingFlow } from '../../core/serve/gateway.js';

/** Compiled fixture executors (Upper, HashEncoder, Failing, Slow, Summarizer). */
export const BASIC_EXECUTORS = packagePath('dist', 'test', 'fixtures', 'executors', 'basic.js');
export const PLAIN_EXECUTORS = packagePath('test', 'fixtures', 'executors', 'plain.mjs');

/** A flow.yml with the given executors block, served on every protocol at port 0 on 127.0.0.1. */
export function flowYaml(executors: string, gateway = ''): string {
  return `jtype: Flow
version: '1'
with:
  host: 127.0.0.1
  port: [0, 0, 0]
  protocol: [grpc, http, websocket]
${gateway}
executors:
${executors}`;
}

/** HashEncoder (dim 8) + Failing, the standard pair of the contract suite. */
export const ENCODER_FLOW = flowYaml(`  - name: encoder
    uses:
      jtype: HashEncoder
      with: { dim: 8 }
      metas: { modules: ['${BASIC_EXECUTORS}'] }
  - name: failer
    uses:
      jtype: Failing
      metas: { modules: ['${BASIC_EXECUTORS}'] }
    needs: gateway
`);

export async function serveYaml(yaml: string): Promise<ServingFlow & { url(protocol: string): string }> {
  const serving = await serveFlow(parseFlow(yaml, process.cwd()));
  return Object.assign(serving, {
    url(protocol: string) {
      const s = serving.servers.find((x) => x.protocol === protocol);
      if (!s) throw new Error(`no ${protocol} server`);
      return s.url;
    },
  });
}
