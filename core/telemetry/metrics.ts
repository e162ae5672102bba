import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ExecutorMetrics } from '../executor/executor.js';

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Stage timings (one minibatch of preprocessing or inference) are shorter than whole requests.
const STAGE_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const COUNTS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];
const METRIC_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * Prometheus metrics of one flow. Each flow owns its registry, so several flows
 * in one process (tests, embedding) never collide on metric names.
 */
export class FlowMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'clipflow_requests_total',
    help: 'Requests handled by the gateway, by endpoint, protocol and outcome (OK or the error code)',
    labelNames: ['endpoint', 'protocol', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'clipflow_request_duration_seconds',
    help: 'Gateway request latency in seconds',
    labelNames: ['endpoint', 'protocol'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly requestDocuments = new Histogram({
    name: 'clipflow_request_documents',
    help: 'Documents per request (top level), by endpoint and protocol',
    labelNames: ['endpoint', 'protocol'] as const,
    buckets: COUNTS,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'clipflow_requests_in_flight',
    help: 'Requests being processed by the flow now, by protocol',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'clipflow_rejected_requests_total',
    help: 'Requests a transport refused before they reached the flow (undecodable, unauthenticated, too large, shutting down), by protocol and code',
    labelNames: ['protocol', 'code'] as const,
    registers: [this.registry],
  });
  readonly executorLatency = new Histogram({
    name: 'clipflow_executor_duration_seconds',
    help: 'Time spent inside an executor handler, by executor and endpoint',
    labelNames: ['executor', 'endpoint'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly documents = new Counter({
    name: 'clipflow_documents_total',
    help: 'Documents processed by executors, by executor and endpoint',
    labelNames: ['executor', 'endpoint'] as const,
    registers: [this.registry],
  });
  readonly executorErrors = new Counter({
    name: 'clipflow_executor_errors_total',
    help: 'Exceptions raised by executor handlers',
    labelNames: ['executor', 'endpoint'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'clipflow_batch_size',
    help: 'Documents per executor handler call (after dynamic batching merged requests), by executor and endpoint',
    labelNames: ['executor', 'endpoint'] as const,
    buckets: COUNTS,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'clipflow_batch_queue_depth',
    help: 'Requests waiting in a dynamic-batching queue, by executor and endpoint',
    labelNames: ['executor', 'endpoint'] as const,
    registers: [this.registry],
  });
  readonly stuck = new Gauge({
    name: 'clipflow_stuck_requests',
    help: 'Requests whose executor work has been pending past the liveness threshold (sampled on liveness checks and scrapes)',
    registers: [this.registry],
  });
  private readonly stages = new Map<string, Histogram<'executor'>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'clipflow_process_' });
  }

  /**
   * The metrics handle an executor gets in its context: histograms named
   * `clipflow_<name>` (clip-server's names, e.g. `encode_images_seconds`), labelled
   * with the executor, created on first use and shared by its replicas.
   */
  forExecutor(executor: string): ExecutorMetrics {
    const histogram = (name: string, help?: string): Histogram<'executor'> => {
      if (!METRIC_NAME.test(name)) throw new TypeError(`metric name must match ${METRIC_NAME}, got '${name}'`);
      let h = this.stages.get(name);
      if (!h) {
        h = new Histogram({ name: `clipflow_${name}`, help: help ?? `${name.replaceAll('_', ' ')}`, labelNames: ['executor'] as const, buckets: STAGE_SECONDS, registers: [this.registry] });
        this.stages.set(name, h);
      }
      return h;
    };
    return {
      observe: (name, seconds, help) => histogram(name, help).observe({ executor }, seconds),
      startTimer: (name, help) => {
        const h = histogram(name, help);
        const start = process.hrtime.bigint();
        return () => {
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          h.observe({ executor }, seconds);
          return seconds;
        };
      },
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
