import { dump } from 'js-yaml';
import type { ExportSource, ResourceSpec } from './flow-source.js';
import { FLOW_DIR, WORKER_PORT, gatewayFlowYaml, planExport, type ExportPlan, type WorkerPlan } from './topology.js';

/** The generated compose project. */
export interface ComposeExport {
  plan: ExportPlan;
  compose: Record<string, unknown>;
  gatewayFlow: string;
  warnings: string[];
}

const FLOW_MOUNTS = [`./flow.yml:${FLOW_DIR}/flow.yml:ro`, `./gateway.yml:${FLOW_DIR}/gateway.yml:ro`];

/** Kubernetes memory quantities (`4Gi`, `512Mi`) in compose's units (`4g`, `512m`); anything else as written. */
export function composeMemory(q: string): string {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)$/.exec(q.trim());
  return m ? `${m[1]}${m[2]![0]!.toLowerCase()}` : q;
}

/** Kubernetes CPU quantities (`2`, `500m`) as compose's decimal cpus (`2`, `0.5`). */
export function composeCpus(q: string): string {
  const m = /^(\d+)m$/.exec(q.trim());
  return m ? String(Number(m[1]) / 1000) : q;
}

function deployResources(r: ResourceSpec | undefined, gpus: number): Record<string, unknown> | undefined {
  const side = (q: Record<string, string> | undefined) => {
    const out: Record<string, string> = {};
    if (q?.cpu) out.cpus = composeCpus(q.cpu);
    if (q?.memory) out.memory = composeMemory(q.memory);
    return out;
  };
  const limits = side(r?.limits);
  const reservations: Record<string, unknown> = side(r?.requests);
  if (gpus > 0) reservations.devices = [{ driver: 'nvidia', count: gpus, capabilities: ['gpu'] }];
  const out = { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(reservations).length ? { reservations } : {}) };
  return Object.keys(out).length ? out : undefined;
}

/** `clipflow ping` dry-runs a server over gRPC: SUCCESS only once it is ready. */
function healthcheck(port: number, startPeriod: string): Record<string, unknown> {
  return { test: ['CMD', 'clipflow', 'ping', `grpc://127.0.0.1:${port}`], interval: '10s', timeout: '5s', retries: 3, start_period: startPeriod };
}

function workerService(w: WorkerPlan, image: string): Record<string, unknown> {
  const command = ['executor', `${FLOW_DIR}/flow.yml`, w.executor, '--port', String(WORKER_PORT), '--host', '0.0.0.0', '--replicas', '1'];
  if (w.shard !== undefined) command.push('--shard', String(w.shard));
  const volumes = [FLOW_MOUNTS[0]!, 'model-cache:/cache'];
  // Mounted at /data (the workspace is a folder inside): a new named volume takes the ownership of
  // the image's /data (the unprivileged user), whereas a mount point Docker must create is root's.
  if (w.workspaceMount) volumes.push(`${w.name}-workspace:/data`);
  const resources = deployResources(w.resources, w.gpus);
  return {
    image,
    entrypoint: ['clipflow'],
    command,
    environment: { CLIPFLOW_CACHE_DIR: '/cache', CLIPFLOW_LOG_LEVEL: 'info' },
    volumes,
    // A volume is shared by every container of a service, and two indexers cannot hold one workspace.
    deploy: { replicas: w.stateful ? 1 : w.replicas, ...(resources ? { resources } : {}) },
    healthcheck: healthcheck(WORKER_PORT, '300s'),
    stop_grace_period: '45s',
    restart: 'unless-stopped',
  };
}

/**
 * A compose project for a flow: one service per executor (or per shard) running
 * `clipflow executor`, with `deploy.replicas`, a named volume per workspace and
 * a health check; and the gateway running `clipflow serve` on the generated
 * gateway flow, started once every worker is healthy. Compose's DNS returns
 * every container of a service, and the gateway's channel balances over them.
 */
export function composeExport(source: ExportSource, options: { image: string }): ComposeExport {
  const plan = planExport(source);
  const warnings = [...plan.warnings];
  for (const w of plan.workers) {
    if (w.stateful && w.replicas > 1) warnings.push(`${w.name}: compose runs 1 container instead of ${w.replicas}: its workspace volume cannot be shared`);
  }
  const gatewayFlow = gatewayFlowYaml(source, plan, (w) => w.name);
  const services: Record<string, unknown> = {};
  for (const w of plan.workers) services[w.name] = workerService(w, options.image);
  const grpc = plan.gateway.protocols.indexOf('grpc');
  services[plan.gateway.name] = {
    image: options.image,
    entrypoint: ['clipflow'],
    command: ['serve', `${FLOW_DIR}/gateway.yml`],
    ports: plan.gateway.ports.map((p) => `${p}:${p}`),
    volumes: [FLOW_MOUNTS[1]!],
    environment: { CLIPFLOW_LOG_LEVEL: 'info' },
    depends_on: Object.fromEntries(plan.workers.map((w) => [w.name, { condition: 'service_healthy' }])),
    ...(grpc >= 0 ? { healthcheck: healthcheck(plan.gateway.ports[grpc]!, '60s') } : {}),
    stop_grace_period: '45s',
    restart: 'unless-stopped',
  };
  const volumes: Record<string, unknown> = { 'model-cache': {} };
  for (const w of plan.workers) if (w.workspaceMount) volumes[`${w.name}-workspace`] = {};
  // No top-level `name:` (newer than the compose-spec schema we validate against): `-p` names the project.
  return { plan, compose: { services, volumes }, gatewayFlow, warnings };
}

/** compose.yml text; `project` goes into the usage note at the top. */
export function renderCompose(compose: Record<string, unknown>, project: string): string {
  const header = [
    '# Generated by clipflow export docker-compose. Build the image first (see Dockerfile), then:',
    `#   docker compose -p ${project} up -d`,
  ].join('\n');
  return `${header}\n${dump(compose, { lineWidth: -1, noRefs: true })}`;
}
