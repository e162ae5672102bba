import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one flow. Each flow owns its registry, so several flows
 * in one process (tests, embedding) never collide on metric names.
 */
export class FlowMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'clipflow_requests_total',
    help: 'Requests handled by the gateway, by endpoint, protocol and outcome',
    labelNames: ['endpoint', 'protocol', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'clipflow_request_duration_seconds',
    help: 'Gateway request latency in seconds',
    labelNames: ['endpoint', 'protocol'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly executorLatency = new Histogram({
    name: 'clipflow_executor_duration_seconds',
    help: 'Time spent inside an executor handler, by executor and endpoint',
    labelNames: ['executor', 'endpoint'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'clipflow_process_' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
