// The exported topology as local processes: two `clipflow executor` workers behind a
// `clipflow serve` gateway whose flow names them `external: true`. A worker is killed
// mid-load (nothing is lost), restarted (it is re-admitted), and writes are shown not
// to be resent blindly.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../../core/client/client.js';
import { RemoteError } from '../../../core/client/errors.js';
import { Document } from '../../../core/document/document.js';
import { DocumentArray } from '../../../core/document/document-array.js';
import { packagePath } from '../../../core/config/paths.js';
import { decodeDataRequest, decodeEndpoints, decodeInfo, encodeDataRequest } from '../../../core/proto/request.codec.js';
import { DataRequest } from '../../../core/request/data-request.js';
import { freePort, startGateway, startWorker, unary, type Running } from '../../helpers/workers.js';

const SHARDS = packagePath('dist', 'test', 'fixtures', 'executors', 'shards.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gateway -> two executor workers (external: true)', () => {
  let dir: string;
  let workerFlow: string;
  const ports: number[] = [];
  const workers = new Map<string, Running>();
  let gateway: Running & { urls: string[] };
  let client: Client;
  let http: string;

  const portOf = (who: string) => ports[who === 'w1' ? 0 : 1]!;
  const launch = async (who: string) => {
    workers.set(who, await startWorker(workerFlow, 'enc', portOf(who), { env: { CLIPFLOW_TEST_WORKER: who } }));
  };
  const status = async (): Promise<Record<string, string>> => ((await (await fetch(`${http}/status`)).json()) as { jina: Record<string, string> }).jina;
  /** Waits until the gateway reports no ejected replica. */
  const allAdmitted = async (timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while ((await status())['enc.ejected'] && Date.now() < deadline) await sleep(100);
    assert.equal((await status())['enc.ejected'], undefined, 'every replica re-admitted');
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'clipflow-scale-'));
    workerFlow = join(dir, 'workers.yml');
    writeFileSync(workerFlow, `jtype: Flow\nexecutors:\n  - name: enc\n    uses:\n      jtype: WorkerProbe\n      with: { delay_ms: 2 }\n      metas: { modules: [${JSON.stringify(SHARDS)}] }\n`);
    ports.push(await freePort(), await freePort());
    await Promise.all([launch('w1'), launch('w2')]);
    const gatewayFlow = join(dir, 'gateway.yml');
    writeFileSync(
      gatewayFlow,
      `jtype: Flow\nwith: { host: 127.0.0.1, port: [0, 0], protocol: [grpc, http] }\nexecutors:\n  - name: enc\n    uses: WorkerProbe\n    external: true\n    host: 127.0.0.1\n    port: [${ports.join(', ')}]\n`,
    );
    gateway = await startGateway(gatewayFlow, 2);
    client = new Client(gateway.urls.find((u) => u.startsWith('grpc://'))!);
    http = gateway.urls.find((u) => u.startsWith('http://'))!;
  });

  after(async () => {
    await client?.close();
    await Promise.all([gateway?.stop(), ...[...workers.values()].map((w) => w.stop())]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a worker answers endpoint_discovery, _status and JinaRPC/Call itself', async () => {
    const { value } = await unary(ports[0]!, '/jina.JinaDiscoverEndpointsRPC/endpoint_discovery', new Uint8Array(0));
    const { endpoints, writeEndpoints } = decodeEndpoints(value!);
    assert.deepEqual([...endpoints].sort(), ['/', '/encode', '/fail', '/index', '/search']);
    assert.deepEqual(writeEndpoints, ['/index']);
    const info = decodeInfo((await unary(ports[0]!, '/jina.JinaInfoRPC/_status', new Uint8Array(0))).value!);
    assert.equal(info.jina.executor, 'enc');
    assert.equal(info.jina.role, 'worker');
    // A worker also speaks JinaRPC/Call, so a client can use it directly.
    const direct = new Client(`grpc://127.0.0.1:${ports[0]}`);
    try {
      const [d] = await direct.post('/encode', ['straight to w1']);
      assert.equal(d!.tags.served_by, 'w1');
    } finally {
      await direct.close();
    }
  });

  it('an executor error through a worker comes back in-band with its executor name', async () => {
    // Straight from the worker: in-band ERROR plus our error code as a trailer.
    const direct = await unary(ports[1]!, '/jina.JinaSingleDataRequestRPC/process_single_data', encodeDataRequest(new DataRequest({ endpoint: '/fail', docs: new DocumentArray([{ text: 'x' }]) })));
    const reply = decodeDataRequest(direct.value!);
    assert.equal(reply.status?.code, 'ERROR');
    assert.deepEqual([reply.status?.exception?.name, reply.status?.exception?.executor], ['RangeError', 'enc']);
    assert.equal(direct.trailers?.get('clipflow-error-code')[0], 'EXECUTOR_FAILED');
    // Through the gateway, over gRPC and HTTP, exactly as an in-process executor's error.
    await assert.rejects(client.post('/fail', ['x'], { parameters: { message: 'kaputt' } }), (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.deepEqual([e.executor, e.code], ['enc', 'RangeError']);
      assert.match(e.description, /^enc: kaputt$/);
      return true;
    });
    const res = await fetch(`${http}/post`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: [{ text: 'x' }], execEndpoint: '/fail' }) });
    assert.equal(res.status, 500);
    const body = (await res.json()) as { header: { status: { exception: { executor: string; name: string } } } };
    assert.deepEqual([body.header.status.exception.executor, body.header.status.exception.name], ['enc', 'RangeError']);
  });

  it('300 requests at concurrency 16 all succeed while one worker is SIGKILLed mid-load', { timeout: 30_000 }, async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `text ${i}`);
    let replies = 0;
    const docs = await client.post('/encode', texts, {
      batchSize: 1,
      prefetch: 16,
      onDone: () => {
        if (++replies === 100) workers.get('w1')!.child.kill('SIGKILL');
      },
    });
    assert.equal(docs.length, 300);
    docs.forEach((d, i) => {
      assert.equal(d.text, texts[i]);
      assert.equal(d.embedding?.length, 8);
    });
    const servedBy = new Set(docs.map((d) => d.tags.served_by));
    assert.deepEqual([...servedBy].sort(), ['w1', 'w2'], 'both workers served before the kill');
    assert.ok(docs.slice(150).every((d) => d.tags.served_by === 'w2'), 'after the kill only w2 serves');
    await workers.get('w1')!.done;
    assert.equal((await status())['enc.ejected'], `127.0.0.1:${ports[0]}`);
  });

  it('the killed worker, restarted on its port, is re-admitted once its health passes and gets traffic again', { timeout: 30_000 }, async () => {
    await launch('w1');
    await allAdmitted();
    const seen = new Set<unknown>();
    const deadline = Date.now() + 10_000;
    while (!seen.has('w1') && Date.now() < deadline) {
      for (const d of await client.post('/encode', ['a', 'b', 'c', 'd'], { batchSize: 1, prefetch: 4 })) seen.add(d.tags.served_by);
    }
    assert.ok(seen.has('w1'), `w1 serves again (saw ${[...seen].join(', ')})`);
  });

  it('a write whose worker dies while running it fails with UNAVAILABLE naming the replica, and is not resent', { timeout: 30_000 }, async () => {
    const markers = join(dir, 'markers');
    const pending = client.post('/index', [new Document({ id: 'doc-w', text: 'to index' })], { parameters: { marker_dir: markers, delay_ms: 5_000 } });
    const outcome = pending.then(() => 'resolved', (e: unknown) => e);
    let holder: string | undefined;
    const deadline = Date.now() + 10_000;
    while (!holder && Date.now() < deadline) {
      holder = (() => {
        try {
          return readdirSync(markers).find((f) => f.endsWith('-doc-w'))?.replace(/-doc-w$/, '');
        } catch {
          return undefined;
        }
      })();
      if (!holder) await sleep(20);
    }
    assert.ok(holder === 'w1' || holder === 'w2', `some worker started the write (${holder})`);
    workers.get(holder)!.child.kill('SIGKILL');
    const e = await outcome;
    assert.ok(e instanceof RemoteError, `the client gets an error, got ${String(e)}`);
    assert.equal(e.executor, 'enc');
    assert.equal(e.code, 'UnavailableError');
    assert.match(e.description, new RegExp(`replica 127\\.0\\.0\\.1:${portOf(holder)} became unreachable while /index was in flight`));
    assert.match(e.description, /not resent: it may or may not have been applied/);
    await sleep(300);
    assert.deepEqual(readdirSync(markers), [`${holder}-doc-w`], 'the other worker never received the write');
    await workers.get(holder)!.done;
    await launch(holder);
    await allAdmitted();
  });

  it('a write to a worker that is already down is sent to the other replica (it was never sent)', { timeout: 30_000 }, async () => {
    workers.get('w2')!.child.kill('SIGKILL');
    await workers.get('w2')!.done;
    await sleep(300);
    for (let i = 0; i < 4; i++) {
      const [d] = await client.post('/index', [new Document({ id: `after-${i}`, text: 'x' })]);
      assert.equal(d!.tags.indexed_by, 'w1');
    }
  });
});
