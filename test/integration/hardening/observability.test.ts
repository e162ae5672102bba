// Observability: the Prometheus metrics (names, labels, values after real
// traffic on every protocol), request ids in structured logs, and OpenTelemetry
// spans for request, decode, preprocess and inference.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Client } from '../../../core/client/client.js';
import { Document } from '../../../core/document/document.js';
import { parseFlow } from '../../../core/flow/load.js';
import { serveFlow, type ServingFlow } from '../../../core/serve/gateway.js';
import { hardeningYaml, PROTOCOLS, SMALL_PNG } from './harness.js';
import { recordSpans } from './otel-recorder.js';
import { grpcUnary, httpPost, requestJson, wsOnce } from './wire.js';

/** Value of one sample in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics, logs and spans', () => {
  const spans = recordSpans();
  const lines: Array<Record<string, unknown>> = [];
  let serving: ServingFlow;
  const url = (protocol: string) => serving.servers.find((x) => x.protocol === protocol)!.url;

  before(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    serving = await serveFlow(parseFlow(hardeningYaml(), process.cwd()), { logger: pino({ level: 'debug' }, sink) });
    for (const protocol of PROTOCOLS) {
      const client = new Client(url(protocol));
      await client.encode([new Document({ text: 'a caption' }), new Document({ blob: SMALL_PNG })]);
      await assert.rejects(client.encode([new Document({ id: 'hollow' })]), /hollow/);
      await client.close();
    }
    await httpPost(url('http'), '{"data": [');
    await grpcUnary(url('grpc').replace('grpc://', ''), Buffer.from([0x0a, 0xff]));
    await wsOnce(url('websocket'), 'json', '{"oops"');
    await httpPost(url('http'), requestJson([new Document({ text: 'logged' })]), { 'x-request-id': 'req-log-1' });
  });
  after(() => serving.close(1000));

  it('requests, errors and latency by endpoint and protocol; rejections by protocol and code', async () => {
    const text = (await serving.flow.metrics()).body;
    for (const protocol of PROTOCOLS) {
      assert.ok(sample(text, 'clipflow_requests_total', { endpoint: '/encode', protocol, status: 'OK' })! >= 1, `${protocol} OK`);
      assert.ok(sample(text, 'clipflow_requests_total', { endpoint: '/encode', protocol, status: 'INVALID_ARGUMENT' })! >= 1, `${protocol} errors`);
      assert.ok(sample(text, 'clipflow_request_duration_seconds_count', { endpoint: '/encode', protocol })! >= 2);
      assert.ok(sample(text, 'clipflow_request_documents_sum', { endpoint: '/encode', protocol })! >= 3);
      assert.equal(sample(text, 'clipflow_requests_in_flight', { protocol }), 0);
      assert.ok(sample(text, 'clipflow_rejected_requests_total', { protocol, code: 'INVALID_ARGUMENT' })! >= 1, `${protocol} rejections`);
    }
  });

  it('executor metrics: documents, errors, batch sizes, queue depth and clip-server stage timings', async () => {
    const text = (await serving.flow.metrics()).body;
    const clip = { executor: 'clip', endpoint: '/encode' };
    assert.ok(sample(text, 'clipflow_documents_total', clip)! >= 6);
    assert.ok(sample(text, 'clipflow_executor_errors_total', clip)! >= 3);
    assert.ok(sample(text, 'clipflow_batch_size_count', clip)! >= 3);
    assert.ok(sample(text, 'clipflow_batch_size_bucket', { ...clip, le: '2' })! >= 1);
    assert.equal(sample(text, 'clipflow_batch_queue_depth', clip), 0);
    assert.ok(sample(text, 'clipflow_executor_duration_seconds_count', clip)! >= 3);
    for (const stage of ['encode_texts_seconds', 'encode_images_seconds', 'preprocess_texts_seconds', 'preprocess_images_seconds']) {
      assert.ok(sample(text, `clipflow_${stage}_count`, { executor: 'clip' })! >= 3, stage);
      assert.ok(sample(text, `clipflow_${stage}_sum`, { executor: 'clip' })! > 0, stage);
    }
    assert.ok(sample(text, 'clipflow_process_process_resident_memory_bytes')! > 0);
    assert.ok(sample(text, 'clipflow_process_nodejs_eventloop_lag_seconds')! >= 0);
    assert.equal(sample(text, 'clipflow_stuck_requests'), 0);
  });

  it('structured logs carry the request id, endpoint, protocol and outcome', () => {
    const done = lines.find((l) => l.msg === 'request done' && l.requestId === 'req-log-1');
    assert.ok(done, 'a request-done line for req-log-1');
    assert.equal(done.endpoint, '/encode');
    assert.equal(done.protocol, 'http');
    assert.equal(done.status, 'OK');
    assert.equal(typeof done.ms, 'number');
    const failed = lines.filter((l) => l.msg === 'executor failed' && l.executor === 'clip');
    assert.ok(failed.length >= 3 && failed.every((l) => typeof l.requestId === 'string' && (l.requestId as string).length > 0));
  });

  it('OpenTelemetry spans: request, text and image stages, decode; failures marked ERROR', () => {
    const names = new Set(spans.map((s) => s.name));
    for (const name of ['clipflow.request', 'clip.preprocess_texts', 'clip.encode_texts', 'clip.preprocess_images', 'clip.encode_images', 'clip.decode']) {
      assert.ok(names.has(name), `span ${name} (saw ${[...names].join(', ')})`);
    }
    const request = spans.find((s) => s.name === 'clipflow.request' && s.attributes['clipflow.request_id'] === 'req-log-1');
    assert.deepEqual(
      [request?.attributes['clipflow.endpoint'], request?.attributes['clipflow.protocol'], request?.attributes['clipflow.documents'], request?.ended],
      ['/encode', 'http', 1, true],
    );
    const failed = spans.filter((s) => s.name === 'clipflow.request' && s.status?.code === 2);
    assert.ok(failed.length >= 3, 'the bad requests ended with status ERROR');
    assert.ok(failed.every((s) => s.exceptions >= 1));
    assert.ok(spans.every((s) => s.ended), 'every span was ended');
  });
});
