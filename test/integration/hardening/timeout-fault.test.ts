// Timeouts and faults: a handler that never resolves gets its callers
// DEADLINE_EXCEEDED (504 / gRPC status / in-band on streams) and its signal
// aborted; one that throws asynchronously is an in-band executor error; others'
// requests are unaffected throughout; Jina's header.timeout and gRPC deadlines
// are honoured; liveness turns unhealthy once work stays stuck.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../../core/client/client.js';
import { Document } from '../../../core/document/document.js';
import { Hanger, Sleeper } from '../../fixtures/executors/hardening.js';
import { assertRefused } from './expect.js';
import { PROTOCOLS, grpcAddress, pause, serveHardening, withNeighbour, type Served } from './harness.js';
import { grpcUnary, httpPost, requestBytes, requestJson, sendDocs } from './wire.js';

const docs = () => [new Document({ id: 'victim', text: 'x' })];

/** Polls until `check` holds or `ms` passes. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await pause(25);
  }
}

function healthCheck(address: string, service: string): Promise<string> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  // HealthCheckRequest { service = 1 } / HealthCheckResponse { status = 1 }: small enough to write by hand.
  const body = Buffer.concat([Buffer.from([0x0a, service.length]), Buffer.from(service)]);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, body, (err, reply) => {
      client.close();
      if (err) return reject(err);
      resolve(['UNKNOWN', 'SERVING', 'NOT_SERVING'][reply!.length >= 2 ? reply![1]! : 0]!);
    });
  });
}

describe('gateway timeout and a wedged executor', () => {
  let s: Served;
  before(async () => {
    s = await serveHardening({ gateway: '  timeout: 400' });
  });
  after(() => s.close(500));

  it('a handler that never resolves: 504 / DEADLINE_EXCEEDED / in-band, its signal aborted, neighbours unharmed', async () => {
    const entered = Hanger.entered;
    const aborted = Hanger.sawAbort;
    const why = /request exceeded its 400 ms time limit \(gateway timeout\)/;
    assertRefused('http', await withNeighbour(s, 'http', () => sendDocs('http', s, docs(), '/hang')), { via: 'in-band', code: 504 }, why);
    assertRefused('grpc', await withNeighbour(s, 'grpc', () => sendDocs('grpc', s, docs(), '/hang')), { via: 'status', code: 'DEADLINE_EXCEEDED' }, why);
    assertRefused('websocket', await withNeighbour(s, 'websocket', () => sendDocs('websocket', s, docs(), '/hang')), { via: 'in-band', code: 'DeadlineExceededError' }, why);
    assert.equal(Hanger.entered - entered, 3);
    assert.equal(Hanger.sawAbort - aborted, 3, 'every timed-out request aborted its signal');
  });

  it('through our Client (gRPC Call stream): the request fails with DeadlineExceededError, the stream serves the next one', async () => {
    const client = new Client(s.url('grpc'));
    try {
      await assert.rejects(client.post('/hang', docs()), /DeadlineExceededError/);
      const [v] = (await client.encode(['after the timeout'])) as Float32Array[];
      assert.equal(v!.length, 16);
    } finally {
      await client.close();
    }
  });

  it('a handler that throws asynchronously: in-band executor error naming it, 500 on HTTP, server unharmed', async () => {
    for (const protocol of PROTOCOLS) {
      const seen = await withNeighbour(s, protocol, () => sendDocs(protocol, s, docs(), '/explode'));
      assertRefused(protocol, seen, { via: 'in-band', code: protocol === 'http' ? 500 : 'Error' }, /^exploder: kaboom after 5 ms$/);
    }
  });
});

describe('per-request time limits: header.timeout and gRPC deadlines', () => {
  let s: Served;
  before(async () => {
    s = await serveHardening();
  });
  after(() => s.close(500));

  it("Jina's header.timeout (ms) bounds one request: gRPC DEADLINE_EXCEEDED, HTTP 504; the handler is aborted", async () => {
    const aborted = Sleeper.aborted;
    const slow = { parameters: { delay_ms: 5000 } };
    const bytes = requestBytes([new Document({ text: 'x' })], '/sleep', { timeout: 150, ...slow });
    const grpcSeen = await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), bytes));
    assertRefused('grpc', grpcSeen, { via: 'status', code: 'DEADLINE_EXCEEDED' }, /150 ms time limit \(header\.timeout\)/);
    const body = requestJson([new Document({ text: 'x' })], '/sleep', { ...slow, header: { timeout: 150 } });
    assertRefused('http', await withNeighbour(s, 'http', () => httpPost(s.url('http'), body)), { via: 'in-band', code: 504 }, /header\.timeout/);
    await eventually(() => Sleeper.aborted - aborted >= 1);
    const bad = requestJson([], '/sleep', { header: { timeout: 'soon' } });
    assertRefused('http', await httpPost(s.url('http'), bad), { via: 'status', code: 400 }, /header\.timeout: expected milliseconds/);
  });

  it("a gRPC deadline aborts the server's work when it passes", async () => {
    const aborted = Sleeper.aborted;
    const req = requestBytes([new Document({ text: 'x' })], '/sleep', { parameters: { delay_ms: 5000 } });
    const seen = await withNeighbour(s, 'grpc', () => grpcUnary(grpcAddress(s), req, { deadlineMs: 200 }));
    assertRefused('grpc', seen, { via: 'status', code: 'DEADLINE_EXCEEDED' }, /Deadline exceeded|time limit/);
    await eventually(() => Sleeper.aborted - aborted >= 1);
  });
});

describe('liveness turns unhealthy when work stays stuck', () => {
  let s: Served;
  before(async () => {
    s = await serveHardening({ gateway: '  timeout: 200\n  liveness_stuck_ms: 600' });
  });
  after(() => s.close(500));

  it('/health/live and grpc health "liveness" go from alive to stuck, naming the request and executor; readiness stays up', async () => {
    const live = () => fetch(`${s.url('http')}/health/live`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    assert.equal((await live()).status, 200);
    assert.equal(await healthCheck(grpcAddress(s), 'liveness'), 'SERVING');
    const seen = await sendDocs('http', s, [new Document({ id: 'stuck-doc', text: 'x' })], '/hang');
    assertRefused('http', seen, { via: 'in-band', code: 504 }, /200 ms time limit/);
    // Answered (504) but still pending inside the executor: alive until the threshold, then stuck.
    assert.equal((await live()).body.pending, 1);
    await eventually(async () => (await live()).status === 503, 3000);
    const { body } = await live();
    assert.equal(body.status, 'stuck');
    assert.match(String(body.reason), /1 request\(s\) stuck in executors for over 600 ms: \w+ \(\/hang in hanger, \d+ s\)/);
    await eventually(async () => (await healthCheck(grpcAddress(s), 'liveness')) === 'NOT_SERVING');
    assert.equal(await healthCheck(grpcAddress(s), ''), 'SERVING', 'readiness is a different question');
    assert.equal((await fetch(`${s.url('http')}/health`)).status, 200);
    const metrics = await (await fetch(`${s.url('http')}/metrics`)).text();
    assert.match(metrics, /^clipflow_stuck_requests 1$/m);
    // Other requests still work: the stuck one holds only its own executor.
    for (const protocol of PROTOCOLS) await withNeighbour(s, protocol, async () => undefined);
  });
});
