// A worker's life: listening before its executor is ready (health NOT_SERVING, requests
// refused as "not run"), SERVING after init(), and a SIGTERM that lets in-flight work
// finish, refuses new work and exits 0.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { packagePath } from '../../../core/config/paths.js';
import { DocumentArray } from '../../../core/document/document-array.js';
import { Flow } from '../../../core/flow/flow.js';
import { decodeDataRequest, decodeStatus, encodeDataRequest } from '../../../core/proto/request.codec.js';
import { DataRequest } from '../../../core/request/data-request.js';
import { assertOneErrorLine, clipflow } from '../../helpers/cli.js';
import { freePort, healthOf, startWorker, unary, waitForOutput } from '../../helpers/workers.js';

const SHARDS = packagePath('dist', 'test', 'fixtures', 'executors', 'shards.js');
const SINGLE = '/jina.JinaSingleDataRequestRPC/process_single_data';
const SERVING = 1;
const NOT_SERVING = 2;

const request = (endpoint: string, parameters: Record<string, unknown> = {}) =>
  encodeDataRequest(new DataRequest({ endpoint, parameters, docs: new DocumentArray([{ id: 'd1', text: 'hello' }]) }));

describe('executor worker lifecycle', () => {
  let dir: string;
  let flow: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clipflow-worker-'));
    flow = join(dir, 'flow.yml');
    const modules = `metas: { modules: [${JSON.stringify(SHARDS)}] }`;
    writeFileSync(
      flow,
      `jtype: Flow\nexecutors:\n  - name: slow_start\n    uses: { jtype: SlowInit, with: { init_ms: 1500 }, ${modules} }\n` +
        `  - name: probe\n    uses: { jtype: WorkerProbe, ${modules} }\n    shards: 2\n`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is NOT_SERVING and refuses requests (as not run) until init() finished, then SERVING', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const worker = await startWorker(flow, 'slow_start', port, { waitReady: false });
    try {
      assert.equal(await healthOf(port), NOT_SERVING);
      const early = await unary(port, SINGLE, request('/'));
      assert.equal(early.error?.code, GrpcStatus.UNAVAILABLE);
      assert.match(early.error!.details, /slow_start is still starting/);
      assert.equal(early.trailers?.get('clipflow-rejected')[0], '1');
      const dry = decodeStatus((await unary(port, '/jina.JinaGatewayDryRunRPC/dry_run', new Uint8Array(0))).value!);
      assert.equal(dry.code, 'ERROR');
      // No endpoint list before the executor exists: a gateway keeps asking rather than learn "none".
      const discovery = await unary(port, '/jina.JinaDiscoverEndpointsRPC/endpoint_discovery', new Uint8Array(0));
      assert.equal(discovery.error?.code, GrpcStatus.UNAVAILABLE);
      // A gateway started now waits for the worker (endpoint_discovery is retried) instead of failing.
      const gateway = Flow.fromYaml(`executors:\n  - name: slow_start\n    uses: SlowInit\n    external: true\n    host: 127.0.0.1\n    port: ${port}\n`, dir).start();
      await waitForOutput(worker, /^ready slow_start$/m);
      const flow = await gateway;
      try {
        const r = await flow.process(new DataRequest({ endpoint: '/x', docs: new DocumentArray([{ text: 'via gateway' }]) }), { protocol: 'grpc' });
        assert.equal(r.docs[0]!.tags.slow_init, true, r.status?.description);
      } finally {
        await flow.close();
      }
      const deadline = Date.now() + 2_000;
      while ((await healthOf(port)) !== SERVING && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await healthOf(port), SERVING);
      const reply = decodeDataRequest((await unary(port, SINGLE, request('/'))).value!);
      assert.equal(reply.docs[0]!.tags.slow_init, true);
    } finally {
      await worker.stop();
    }
  });

  it('SIGTERM finishes the request in flight, refuses new ones, turns NOT_SERVING and exits 0', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const worker = await startWorker(flow, 'probe', port, { extra: ['--shard', '1'] });
    const inFlight = unary(port, SINGLE, request('/index', { delay_ms: 2_500 }));
    await new Promise((r) => setTimeout(r, 200));
    worker.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await healthOf(port), NOT_SERVING);
    const refused = await unary(port, SINGLE, request('/'));
    assert.equal(refused.error?.code, GrpcStatus.UNAVAILABLE);
    assert.equal(refused.trailers?.get('clipflow-rejected')[0], '1');
    const finished = await inFlight;
    assert.equal(decodeDataRequest(finished.value!).docs[0]!.tags.indexed_by, String(worker.child.pid));
    const outcome = await worker.done;
    assert.equal(outcome.code, 0, outcome.stderr);
  });

  it('refuses to start on a bad name or shard, with one line', async () => {
    assertOneErrorLine(await clipflow(['executor', flow, 'nope', '--port', '0']), /no executor named 'nope' in the flow; executors: slow_start, probe/);
    assertOneErrorLine(await clipflow(['executor', flow, 'probe', '--port', '0']), /'probe' has 2 shards; pass --shard 0\.\.1/);
    assertOneErrorLine(await clipflow(['executor', flow, 'probe', '--port', '0', '--shard', '2']), /--shard: shard must be an integer from 0 to 1, got 2/);
  });
});
