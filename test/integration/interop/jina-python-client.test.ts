// Interop with an independent implementation: Python's protobuf, grpcio and
// websockets (Debian packages), driving the gateway the way Jina 3's Python client does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { packagePath } from '../../../core/config/paths.js';
import { hashEmbedding } from '../../fixtures/executors/basic.js';
import { ENCODER_FLOW, serveYaml } from '../../helpers/flows.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

interface DocOut { id: string; text: string; embedding: number[] | null }
interface ResponseOut {
  sent_ids: string[]; request_id: string; sent_request_id: string; exec_endpoint: string; status: number;
  description: string; executor: string; routes: string[]; route_ms: number[]; parameters: Record<string, unknown>; docs: DocOut[];
}

async function client(mode: string, address: string): Promise<Record<string, unknown>> {
  const script = packagePath('test', 'interop', 'jina_client.py');
  const { stdout } = await run(PYTHON, [script, packagePath('proto'), mode, address], { timeout: 60_000 });
  return JSON.parse(stdout) as Record<string, unknown>;
}

function assertEncoded(r: ResponseOut): void {
  assert.equal(r.status, 0, r.description);
  assert.equal(r.request_id, r.sent_request_id);
  assert.equal(r.exec_endpoint, '/encode');
  assert.deepEqual(r.docs.map((d) => d.id), r.sent_ids, 'every doc id echoed, in order');
  for (const d of r.docs) {
    const expected = Array.from(hashEmbedding(d.text, 8));
    assert.equal(d.embedding?.length, 8);
    d.embedding!.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6, `embedding of "${d.text}"`));
  }
  assert.equal(r.routes[0], 'gateway');
  assert.equal(r.routes[1], 'encoder');
  assert.deepEqual(r.parameters.nested, { k: [1, 'two'] });
}

function assertFailed(r: ResponseOut): void {
  assert.equal(r.status, 1);
  assert.equal(r.executor, 'failer');
  assert.match(r.description, /boom/);
}

describe('Jina-style Python client (independent protobuf/grpc/websockets stacks)', () => {
  let serving: Awaited<ReturnType<typeof serveYaml>>;
  before(async () => {
    serving = await serveYaml(ENCODER_FLOW);
  });
  after(() => serving.close(1000));

  it('gRPC: streamed Call with several requests in flight, unary, discovery, dry_run, _status, health', async () => {
    const out = (await client('grpc', serving.url('grpc').replace('grpc://', ''))) as {
      stream: ResponseOut[]; single: ResponseOut; endpoints: string[]; dry_run: number; info: Record<string, string>; health: string;
    };
    assert.equal(out.stream.length, 3);
    const ok = out.stream.filter((r) => r.exec_endpoint === '/encode');
    assert.equal(ok.length, 2);
    ok.forEach(assertEncoded);
    assertFailed(out.stream.find((r) => r.exec_endpoint === '/fail')!);
    assertEncoded(out.single);
    for (const e of ['/encode', '/fail']) assert.ok(out.endpoints.includes(e), `endpoint_discovery lists ${e}`);
    assert.equal(out.dry_run, 0);
    assert.ok(out.info.clipflow);
    assert.equal(out.health, 'SERVING');
  });

  it('HTTP: Jina client body, reply parsed by protobuf ParseDict (strict)', async () => {
    const out = (await client('http', serving.url('http'))) as { posts: Array<ResponseOut & { http_status: number }>; dry_run: number };
    assert.equal(out.posts[0]!.http_status, 200);
    assertEncoded(out.posts[0]!);
    assert.equal(out.posts[1]!.http_status, 500);
    assertFailed(out.posts[1]!);
    assert.equal(out.dry_run, 0);
  });

  it('WebSocket bytes subprotocol: dry run frame, several requests, EOI closes cleanly', async () => {
    const out = (await client('ws', serving.url('websocket'))) as { dry_run: number; responses: ResponseOut[]; close_code: number };
    assert.equal(out.dry_run, 0);
    assert.equal(out.responses.length, 5);
    out.responses.filter((r) => r.exec_endpoint === '/encode').forEach(assertEncoded);
    assertFailed(out.responses.find((r) => r.exec_endpoint === '/fail')!);
    assert.equal(out.close_code, 1000);
  });
});
