import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one executor worker. `clipflow_worker_inflight_requests`
 * is the queue depth the exported HorizontalPodAutoscaler scales on: requests
 * accepted and not yet answered, batching queues included.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly inflight: Gauge<'executor'>;
  readonly requests: Counter<'executor' | 'endpoint' | 'status'>;
  readonly latency: Histogram<'executor' | 'endpoint'>;

  constructor(readonly executor: string) {
    this.inflight = new Gauge({
      name: 'clipflow_worker_inflight_requests',
      help: 'Requests accepted by this worker and not answered yet',
      labelNames: ['executor'] as const,
      registers: [this.registry],
    });
    this.requests = new Counter({
      name: 'clipflow_worker_requests_total',
      help: 'Requests answered by this worker, by endpoint and outcome',
      labelNames: ['executor', 'endpoint', 'status'] as const,
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: 'clipflow_worker_request_duration_seconds',
      help: 'Time from accepting a request to answering it, in seconds',
      labelNames: ['executor', 'endpoint'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [this.registry],
    });
    this.inflight.set({ executor }, 0);
    collectDefaultMetrics({ register: this.registry, prefix: 'clipflow_process_' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` on its own port. Workers speak only gRPC; Prometheus
 * (and the custom-metrics adapter behind the exported HPA) scrape over HTTP.
 */
export async function startMetricsServer(metrics: WorkerMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try GET /metrics\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
