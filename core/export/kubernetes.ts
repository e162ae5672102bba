import { dump } from 'js-yaml';
import type { ExportSource } from './flow-source.js';
import {
  flowConfigMapName, grpcProbes, metadata, workerAutoscaler, workerService, workerWorkload,
  type K8sObject, type K8sOptions,
} from './kubernetes.workloads.js';
import { FLOW_DIR, gatewayFlowYaml, planExport, type ExportPlan, type WorkerPlan } from './topology.js';

export type { K8sObject, K8sOptions } from './kubernetes.workloads.js';

/** The generated manifests: file name -> the objects in it, plus notes for the user. */
export interface KubernetesExport {
  plan: ExportPlan;
  files: Map<string, K8sObject[]>;
  gatewayFlow: string;
}

/** The in-cluster DNS name of a worker's headless Service (short form without a namespace). */
export function serviceHost(w: WorkerPlan, namespace: string | undefined): string {
  return namespace ? `${w.name}.${namespace}.svc.cluster.local` : w.name;
}

function gatewayLabels(plan: ExportPlan): Record<string, string> {
  return { 'app.kubernetes.io/name': 'clipflow', 'app.kubernetes.io/instance': plan.flow, 'app.kubernetes.io/component': 'gateway' };
}

/** Readiness/liveness for the gateway: its gRPC health when it serves gRPC, else GET /health, else the TCP port. */
function gatewayProbes(plan: ExportPlan): Record<string, unknown> {
  const grpc = plan.gateway.protocols.indexOf('grpc');
  if (grpc >= 0) return grpcProbes(plan.gateway.ports[grpc]!);
  const http = plan.gateway.protocols.indexOf('http');
  const check = http >= 0 ? { httpGet: { path: '/health', port: plan.gateway.ports[http]! } } : { tcpSocket: { port: plan.gateway.ports[0]! } };
  return {
    startupProbe: { ...check, periodSeconds: 5, failureThreshold: 120 },
    readinessProbe: { ...check, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { ...check, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
  };
}

function gatewayObjects(plan: ExportPlan, options: K8sOptions): K8sObject[] {
  const labels = gatewayLabels(plan);
  const ports = plan.gateway.protocols.map((p, i) => ({ name: p, port: plan.gateway.ports[i]!, targetPort: plan.gateway.ports[i]!, protocol: 'TCP' }));
  const service: K8sObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(plan.gateway.name, labels, options),
    spec: { type: 'ClusterIP', selector: labels, ports },
  };
  const deployment: K8sObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(plan.gateway.name, labels, options),
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 45,
          containers: [
            {
              name: 'gateway',
              image: options.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['clipflow'],
              args: ['serve', `${FLOW_DIR}/gateway.yml`],
              ports: ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
              env: [{ name: 'CLIPFLOW_LOG_LEVEL', value: 'info' }],
              ...gatewayProbes(plan),
              volumeMounts: [{ name: 'flows', mountPath: FLOW_DIR, readOnly: true }],
            },
          ],
          volumes: [{ name: 'flows', configMap: { name: flowConfigMapName(plan) } }],
        },
      },
    },
  };
  return [service, deployment];
}

/**
 * Kubernetes manifests for a flow: per executor (or per shard) a headless
 * Service and a Deployment (stateless, with an HPA) or a StatefulSet (with a
 * workspace); a ConfigMap with the workers' and the gateway's flow files; the
 * gateway's Deployment and Service; a Namespace when one is named; and a
 * kustomization.yaml listing them all (`kubectl apply -k DIR`).
 */
export function kubernetesExport(source: ExportSource, options: K8sOptions): KubernetesExport {
  const plan = planExport(source);
  const gatewayFlow = gatewayFlowYaml(source, plan, (w) => serviceHost(w, options.namespace));
  const files = new Map<string, K8sObject[]>();
  if (options.namespace) {
    files.set('namespace.yml', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace, labels: { 'app.kubernetes.io/name': 'clipflow' } } }]);
  }
  files.set('flows.yml', [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: metadata(flowConfigMapName(plan), { 'app.kubernetes.io/name': 'clipflow', 'app.kubernetes.io/instance': plan.flow }, options),
      data: { 'flow.yml': plan.workerFlowYaml, 'gateway.yml': gatewayFlow },
    },
  ]);
  for (const w of plan.workers) {
    const objects = [workerService(plan, w, options), workerWorkload(plan, w, options)];
    if (!w.stateful) objects.push(workerAutoscaler(plan, w, options));
    files.set(`${w.name}.yml`, objects);
  }
  files.set('gateway.yml', gatewayObjects(plan, options));
  return { plan, files, gatewayFlow };
}

/** Multi-document YAML of one file's objects. */
export function renderManifests(objects: K8sObject[]): string {
  return objects.map((o) => dump(o, { lineWidth: -1, noRefs: true, quotingType: '"' })).join('---\n');
}

/** kustomization.yaml listing the manifest files. */
export function kustomization(files: string[], namespace?: string): string {
  return dump({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...(namespace ? { namespace } : {}), resources: files }, { lineWidth: -1 });
}
