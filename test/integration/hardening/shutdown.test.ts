// Graceful shutdown of a real `clipflow serve` child process under load: on
// SIGTERM it reports not ready, refuses new work with 503 / UNAVAILABLE on every
// protocol, finishes every in-flight request, closes its executors and exits 0;
// past `shutdown_grace_ms` it aborts what is left and still exits 0 in time.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import WebSocket from 'ws';
import { Document } from '../../../core/document/document.js';
import { serve } from '../../helpers/cli.js';
import { HARDENING_EXECUTORS, pause } from './harness.js';
import { grpcUnary, httpPost, requestBytes, requestJson, wsOnce, type Seen } from './wire.js';

function flowFile(graceMs: number, marker: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-shutdown-'));
  const file = join(dir, 'flow.yml');
  writeFileSync(file, `jtype: Flow
with:
  host: 127.0.0.1
  port: [0, 0, 0]
  protocol: [grpc, http, websocket]
  shutdown_grace_ms: ${graceMs}
executors:
  - name: sleeper
    uses: { jtype: Sleeper, with: { close_marker: '${marker}' }, metas: { modules: ['${HARDENING_EXECUTORS}'] } }
`);
  return file;
}

const urlOf = (urls: string[], scheme: string) => urls.find((u) => u.startsWith(`${scheme}://`))!;

async function inFlight(http: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  return [...text.matchAll(/^clipflow_requests_in_flight\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

function healthStatus(address: string): Promise<string> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), (err, reply) => {
      client.close();
      resolve(err ? grpc.status[err.code] : ['UNKNOWN', 'SERVING', 'NOT_SERVING'][reply!.length >= 2 ? reply![1]! : 0]!);
    });
  });
}

/** Four slow requests per protocol; resolves with what each caller got. */
function load(urls: string[], delayMs: number): Promise<Seen[]> {
  const params = { parameters: { delay_ms: delayMs } };
  const doc = (i: number) => [new Document({ id: `inflight-${i}`, text: 'x' })];
  const grpcAddr = urlOf(urls, 'grpc').replace('grpc://', '');
  return Promise.all(
    Array.from({ length: 4 }, (_, i) => [
      httpPost(urlOf(urls, 'http'), requestJson(doc(i), '/sleep', params)),
      grpcUnary(grpcAddr, requestBytes(doc(i), '/sleep', params)),
      wsOnce(urlOf(urls, 'ws'), 'bytes', requestBytes(doc(i), '/sleep', params)),
    ]).flat(),
  );
}

describe('graceful shutdown of `clipflow serve` under load', () => {
  it('SIGTERM: not ready, new requests refused on every protocol, all 12 in-flight requests complete, executors closed, exit 0', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'clipflow-marker-')), 'closed');
    const { child, urls, done } = await serve([flowFile(10_000, marker)], 3);
    const http = urlOf(urls, 'http');
    const grpcAddr = urlOf(urls, 'grpc').replace('grpc://', '');
    const results = load(urls, 1500);
    const end = Date.now() + 5000;
    while ((await inFlight(http)) < 12 && Date.now() < end) await pause(20);
    assert.equal(await inFlight(http), 12);
    const signalled = Date.now();
    child.kill('SIGTERM');

    while ((await fetch(`${http}/health`)).status !== 503) await pause(10);
    assert.equal(await healthStatus(grpcAddr), 'NOT_SERVING');
    assert.equal((await fetch(`${http}/health/live`)).status, 200, 'draining is alive, not stuck');
    const late = [new Document({ text: 'too late' })];
    const refusedHttp = await httpPost(http, requestJson(late, '/sleep'));
    assert.deepEqual([refusedHttp.status, !refusedHttp.ok && refusedHttp.message], [503, 'server is shutting down; retry on another replica']);
    const refusedGrpc = await grpcUnary(grpcAddr, requestBytes(late, '/sleep'));
    assert.deepEqual([refusedGrpc.ok, !refusedGrpc.ok && refusedGrpc.code], [false, 'UNAVAILABLE']);
    const refusedWs = await wsOnce(urlOf(urls, 'ws'), 'json', requestJson(late, '/sleep'));
    assert.deepEqual([refusedWs.ok, !refusedWs.ok && refusedWs.code], [false, 503]);

    const seen = await results;
    assert.deepEqual(seen.map((r) => r.ok), Array(12).fill(true), JSON.stringify(seen.filter((r) => !r.ok)));
    const outcome = await done;
    assert.deepEqual([outcome.code, outcome.signal], [0, null], outcome.stderr);
    assert.ok(Date.now() - signalled < 5000, 'exited well within the grace period');
    assert.ok(existsSync(marker), "the executors' close() ran");
  });

  it('past shutdown_grace_ms: in-flight requests are aborted with UNAVAILABLE and the process still exits 0 in time', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'clipflow-marker-')), 'closed');
    const { child, urls, done } = await serve([flowFile(400, marker)], 3);
    const http = urlOf(urls, 'http');
    const results = load(urls, 20_000);
    while ((await inFlight(http)) < 12) await pause(20);
    const signalled = Date.now();
    child.kill('SIGTERM');
    const seen = await results;
    for (const r of seen) {
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(`${r.code} ${r.message}`, /503|UNAVAILABLE|UnavailableError|server shut down before the request finished/);
    }
    const outcome = await done;
    assert.deepEqual([outcome.code, outcome.signal], [0, null], outcome.stderr);
    assert.ok(Date.now() - signalled < 4000, `exit took ${Date.now() - signalled} ms`);
    assert.ok(existsSync(marker));
  });
});
