import type { Command } from 'commander';
import type { ExportOptions, ExportResult } from '../export/write.js';

/** Options of `clipflow export kubernetes|docker-compose`, as commander parses them. */
export interface ExportCliOptions {
  image?: string;
  namespace?: string;
  storage?: string;
  inflightTarget?: string;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** CLI flags as export options; throws on values no cluster would accept. */
export function exportOptions(options: ExportCliOptions): ExportOptions {
  const out: ExportOptions = {};
  if (options.image) out.image = options.image;
  if (options.namespace !== undefined) {
    if (!NAMESPACE.test(options.namespace) || options.namespace.length > 63) {
      throw new Error(`--namespace: "${options.namespace}" is not a valid namespace (lowercase letters, digits and '-', at most 63)`);
    }
    out.namespace = options.namespace;
  }
  if (options.storage) {
    if (!/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/.test(options.storage)) throw new Error(`--storage: expected a quantity such as 10Gi, got "${options.storage}"`);
    out.storage = options.storage;
  }
  if (options.inflightTarget !== undefined) {
    const n = Number(options.inflightTarget);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--inflight-target: expected a positive integer, got "${options.inflightTarget}"`);
    out.inflightTarget = n;
  }
  return out;
}

function report(result: ExportResult): void {
  for (const w of result.warnings) process.stderr.write(`clipflow: warning: ${w}\n`);
  process.stdout.write(result.files.map((f) => `wrote ${result.dir}/${f}\n`).join(''));
}

/** Registers `clipflow export kubernetes FLOW_YML DIR` and `clipflow export docker-compose FLOW_YML DIR`. */
export function registerExportCommand(program: Command): void {
  const group = program.command('export').description('write deployment files for a flow (Kubernetes manifests or a compose project)');
  group
    .command('kubernetes')
    .alias('k8s')
    .description('Kubernetes manifests: a workload + headless Service per executor, the gateway, probes, volumes, autoscaling')
    .argument('<flow_yml>', 'flow file to deploy')
    .argument('<dir>', 'output folder (created if missing)')
    .option('--image <image>', 'image every workload runs (default clipflow:latest)')
    .option('--namespace <ns>', 'namespace for every object')
    .option('--storage <size>', 'size of each workspace volume (default 10Gi)')
    .option('--inflight-target <n>', 'autoscaling target: requests in flight per worker pod (default 4)')
    .action(async (flowFile: string, dir: string, options: ExportCliOptions) => {
      const { exportKubernetes } = await import('../export/write.js');
      report(await exportKubernetes(flowFile, dir, exportOptions(options)));
    });
  group
    .command('docker-compose')
    .alias('compose')
    .description('a compose project: the gateway and one service per executor, with replicas, volumes and health checks')
    .argument('<flow_yml>', 'flow file to deploy')
    .argument('<dir>', 'output folder (created if missing)')
    .option('--image <image>', 'image every service runs (default clipflow:latest)')
    .action(async (flowFile: string, dir: string, options: ExportCliOptions) => {
      const { exportDockerCompose } = await import('../export/write.js');
      report(await exportDockerCompose(flowFile, dir, exportOptions(options)));
    });
}
