// BAD_INPUT.md, last row: a client that goes away mid-request. The server stays
// up, the request's signal fires so its executor stops (work aborted, reply
// discarded), it is counted as CANCELLED, and requests beside it are unaffected.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { Document } from '../../../core/document/document.js';
import { Sleeper } from '../../fixtures/executors/hardening.js';
import { grpcAddress, pause, serveHardening, withNeighbour, type Proto, type Served } from './harness.js';
import { requestBytes, requestJson } from './wire.js';

const SLOW = { parameters: { delay_ms: 5000 } };

/** Resolves once the Sleeper has started `n` more requests than `since`. */
async function started(since: number, n = 1): Promise<void> {
  const end = Date.now() + 3000;
  while (Sleeper.started - since < n) {
    if (Date.now() > end) throw new Error('the slow request never started');
    await pause(10);
  }
}

/** Starts a 5 s request on `protocol` and hangs up as soon as the executor has it. */
async function hangUp(s: Served, protocol: Proto): Promise<void> {
  const since = Sleeper.started;
  if (protocol === 'http') {
    const ac = new AbortController();
    const pending = fetch(`${s.url('http')}/post`, { method: 'POST', body: requestJson([new Document({ text: 'x' })], '/sleep', SLOW), signal: ac.signal }).catch((e: Error) => e);
    await started(since);
    ac.abort();
    assert.equal(((await pending) as Error).name, 'AbortError');
    return;
  }
  if (protocol === 'grpc') {
    const client = new grpc.Client(grpcAddress(s), grpc.credentials.createInsecure());
    const bytes = requestBytes([new Document({ text: 'x' })], '/sleep', SLOW);
    const call = client.makeUnaryRequest('/jina.JinaSingleDataRequestRPC/process_single_data', (b: Buffer) => b, (b: Buffer) => b, bytes, () => {});
    const stream = client.makeBidiStreamRequest('/jina.JinaRPC/Call', (b: Buffer) => b, (b: Buffer) => b);
    stream.on('error', () => {});
    stream.write(requestBytes([new Document({ text: 'y' })], '/sleep', { ...SLOW, requestId: 'streamed' }));
    await started(since, 2);
    call.cancel();
    stream.cancel();
    client.close();
    return;
  }
  const ws = new WebSocket(s.url('websocket'), 'bytes');
  await new Promise((r) => ws.once('open', r));
  ws.send(requestBytes([new Document({ text: 'x' })], '/sleep', SLOW));
  await started(since);
  ws.terminate();
}

async function cancelledCount(s: Served, protocol: Proto): Promise<number> {
  const text = await (await fetch(`${s.url('http')}/metrics`)).text();
  const m = new RegExp(`^clipflow_requests_total\\{endpoint="/sleep",protocol="${protocol}",status="CANCELLED"\\} (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

describe('a client that disconnects mid-request', () => {
  let s: Served;
  before(async () => {
    s = await serveHardening();
  });
  after(() => s.close(1000));

  for (const protocol of ['http', 'grpc', 'websocket'] as const) {
    it(`${protocol}: the executor's work is aborted, the request counted CANCELLED, the server keeps serving`, async () => {
      const aborted = Sleeper.aborted;
      const expected = protocol === 'grpc' ? 2 : 1; // gRPC hangs up a unary call and a Call stream
      await withNeighbour(s, protocol, () => hangUp(s, protocol));
      const end = Date.now() + 3000;
      while (Sleeper.aborted - aborted < expected && Date.now() < end) await pause(10);
      assert.equal(Sleeper.aborted - aborted, expected, 'the handler saw its signal abort');
      while ((await cancelledCount(s, protocol)) < expected && Date.now() < end) await pause(20);
      assert.ok((await cancelledCount(s, protocol)) >= expected, 'counted as CANCELLED');
      // And nothing is left running for the disconnected caller.
      const live = (await (await fetch(`${s.url('http')}/health/live`)).json()) as { pending: number };
      assert.equal(live.pending, 0);
    });
  }
});
