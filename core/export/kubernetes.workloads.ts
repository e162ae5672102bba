import { FLOW_DIR, METRICS_PORT, WORKER_PORT, type ExportPlan, type WorkerPlan } from './topology.js';

/** A Kubernetes object as plain data. */
export type K8sObject = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown> };

/** Settings shared by every generated object. */
export interface K8sOptions {
  image: string;
  namespace?: string;
  /** Size of each workspace volume claim. */
  storage: string;
  /** Autoscaling target: average requests in flight per worker pod. */
  inflightTarget: number;
}

/** The ConfigMap holding both flow files. */
export const flowConfigMapName = (plan: ExportPlan): string => `${plan.flow}-flows`;

/** Object metadata: name, the namespace when one is set, labels. */
export function metadata(name: string, labels: Record<string, string>, options: K8sOptions): Record<string, unknown> {
  return { name, ...(options.namespace ? { namespace: options.namespace } : {}), labels };
}

/** Labels that select one workload's pods (and nothing else). */
export function workerLabels(plan: ExportPlan, w: WorkerPlan): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'clipflow',
    'app.kubernetes.io/instance': plan.flow,
    'app.kubernetes.io/component': 'executor',
    'clipflow.io/workload': w.name,
  };
}

/**
 * gRPC health probes (the kubelet calls grpc.health.v1.Health/Check itself).
 * Readiness asks the server as a whole (service ''): NOT_SERVING until the
 * executor's init() finished and from the moment a drain starts. Liveness asks
 * the `liveness` service, which stays SERVING while draining and turns
 * NOT_SERVING only when executor work is stuck. The startup probe allows a long
 * model load (10 min) before liveness counts.
 */
export function grpcProbes(port: number): Record<string, unknown> {
  return {
    startupProbe: { grpc: { port }, periodSeconds: 5, failureThreshold: 120 },
    readinessProbe: { grpc: { port }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { grpc: { port, service: 'liveness' }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
  };
}

/** Requests/limits from the flow, plus `nvidia.com/gpu` in limits (GPUs are only ever limits). */
function resources(w: WorkerPlan): Record<string, unknown> | undefined {
  const requests = { ...w.resources?.requests };
  const limits = { ...w.resources?.limits };
  if (w.gpus > 0) limits['nvidia.com/gpu'] = String(w.gpus);
  const out = { ...(Object.keys(requests).length ? { requests } : {}), ...(Object.keys(limits).length ? { limits } : {}) };
  return Object.keys(out).length ? out : undefined;
}

function podTemplate(plan: ExportPlan, w: WorkerPlan, options: K8sOptions): Record<string, unknown> {
  const args = ['executor', `${FLOW_DIR}/flow.yml`, w.executor, '--port', String(WORKER_PORT), '--host', '0.0.0.0'];
  // Kubernetes replicas are pods: each worker runs one in-process replica.
  args.push('--replicas', '1', '--metrics-port', String(METRICS_PORT), '--grace', '30000');
  if (w.shard !== undefined) args.push('--shard', String(w.shard));
  const mounts: Record<string, unknown>[] = [
    { name: 'flows', mountPath: FLOW_DIR, readOnly: true },
    { name: 'model-cache', mountPath: '/cache' },
  ];
  if (w.workspaceMount) mounts.push({ name: 'workspace', mountPath: w.workspaceMount });
  const res = resources(w);
  return {
    metadata: {
      labels: workerLabels(plan, w),
      annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(METRICS_PORT), 'prometheus.io/path': '/metrics' },
    },
    spec: {
      // Longer than the worker's own 30 s drain, so SIGKILL never cuts a drain short.
      terminationGracePeriodSeconds: 45,
      // The image runs as uid 1000; fsGroup makes the workspace volume writable for it.
      securityContext: { runAsNonRoot: true, fsGroup: 1000 },
      containers: [
        {
          name: 'executor',
          image: options.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['clipflow'],
          args,
          ports: [
            { name: 'grpc', containerPort: WORKER_PORT, protocol: 'TCP' },
            { name: 'metrics', containerPort: METRICS_PORT, protocol: 'TCP' },
          ],
          env: [
            { name: 'CLIPFLOW_CACHE_DIR', value: '/cache' },
            { name: 'CLIPFLOW_LOG_LEVEL', value: 'info' },
          ],
          ...grpcProbes(WORKER_PORT),
          ...(res ? { resources: res } : {}),
          volumeMounts: mounts,
        },
      ],
      volumes: [
        { name: 'flows', configMap: { name: flowConfigMapName(plan) } },
        { name: 'model-cache', emptyDir: {} },
      ],
      ...(w.gpus > 0 ? { tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] } : {}),
    },
  };
}

/**
 * A headless Service (`clusterIP: None`): its DNS name resolves to every ready
 * pod, and the gateway's gRPC channel balances calls over all of them
 * (round_robin). A ClusterIP would hand one long-lived HTTP/2 connection to
 * one pod and pin all traffic there.
 */
export function workerService(plan: ExportPlan, w: WorkerPlan, options: K8sOptions): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(w.name, workerLabels(plan, w), options),
    spec: {
      clusterIP: 'None',
      selector: workerLabels(plan, w),
      ports: [
        { name: 'grpc', port: WORKER_PORT, targetPort: WORKER_PORT, protocol: 'TCP' },
        { name: 'metrics', port: METRICS_PORT, targetPort: METRICS_PORT, protocol: 'TCP' },
      ],
    },
  };
}

/** A Deployment for a stateless worker, a StatefulSet with a volume claim per pod for one with a workspace. */
export function workerWorkload(plan: ExportPlan, w: WorkerPlan, options: K8sOptions): K8sObject {
  const labels = workerLabels(plan, w);
  const common = { replicas: w.replicas, selector: { matchLabels: labels }, template: podTemplate(plan, w, options) };
  if (!w.stateful) return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: metadata(w.name, labels, options), spec: common };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(w.name, labels, options),
    spec: {
      ...common,
      serviceName: w.name,
      podManagementPolicy: 'Parallel',
      volumeClaimTemplates: [
        { metadata: { name: 'workspace' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: options.storage } } } },
      ],
    },
  };
}

/**
 * Scales a stateless worker on its queue depth: the per-pod average of
 * `clipflow_worker_inflight_requests` (a Pods metric, served to the HPA by a
 * custom-metrics adapter such as prometheus-adapter scraping the pods).
 */
export function workerAutoscaler(plan: ExportPlan, w: WorkerPlan, options: K8sOptions): K8sObject {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: metadata(w.name, workerLabels(plan, w), options),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: w.name },
      minReplicas: w.replicas,
      maxReplicas: Math.max(w.replicas * 4, w.replicas + 1),
      metrics: [
        {
          type: 'Pods',
          pods: { metric: { name: 'clipflow_worker_inflight_requests' }, target: { type: 'AverageValue', averageValue: String(options.inflightTarget) } },
        },
      ],
      // Scale up at once, down slowly: model loads make new pods expensive.
      behavior: { scaleDown: { stabilizationWindowSeconds: 300 } },
    },
  };
}
