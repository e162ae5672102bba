// `clipflow export kubernetes`: the workloads, Services, probes, volumes and autoscalers a
// flow becomes, every object validated against the Kubernetes API schema
// (kubernetes-models' validators, generated from the Kubernetes OpenAPI spec with ajv).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAll, load } from 'js-yaml';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { parseFlow } from '../../../../core/flow/load.js';
import { shardAddresses } from '../../../../core/flow/remote/addresses.js';
import { exportKubernetes } from '../../../../core/export/write.js';
import { assertOneErrorLine, clipflow } from '../../../helpers/cli.js';
import { writeExportFlow } from './fixture.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec: any; data?: Record<string, string> };

/** The Kubernetes schema validator for each kind we generate. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

function validate(o: Obj): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  assert.ok(Model, `a validator for ${o.apiVersion} ${o.kind}`);
  new Model(o).validate();
}

describe('export kubernetes', () => {
  let dir: string;
  let out: string;
  let files: Map<string, Obj[]>;
  const find = (file: string, kind: string): Obj => files.get(file)!.find((o) => o.kind === kind)!;

  before(async () => {
    const fx = writeExportFlow();
    dir = fx.dir;
    out = fx.out;
    const result = await exportKubernetes(fx.file, out, { namespace: 'search', image: 'registry.local/clipflow:1' });
    assert.deepEqual(result.warnings, []);
    files = new Map(
      readdirSync(out)
        .filter((f) => f.endsWith('.yml'))
        .map((f) => [f, loadAll(readFileSync(join(out, f), 'utf8')) as Obj[]]),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one file per workload (an executor, or one per shard), the gateway, the flows, the image', () => {
    assert.deepEqual(readdirSync(out).sort(), [
      '.dockerignore', 'Dockerfile', 'clip-o.yml', 'flows.yml', 'gateway.yml', 'indexer-shard-0.yml', 'indexer-shard-1.yml',
      'kustomization.yaml', 'namespace.yml', 'tagger.yml',
    ]);
    const kustomization = load(readFileSync(join(out, 'kustomization.yaml'), 'utf8')) as { resources: string[]; namespace: string };
    assert.deepEqual([...kustomization.resources].sort(), [...files.keys()].sort());
    for (const objects of files.values()) for (const o of objects) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'search');
  });

  it('every object is valid against the Kubernetes API schema', () => {
    let count = 0;
    for (const objects of files.values()) for (const o of objects) (validate(o), count++);
    assert.equal(count, 14);
    // The validator is real: a wrong type anywhere is caught.
    const broken = structuredClone(find('clip-o.yml', 'Deployment'));
    broken.spec.template.spec.containers[0].readinessProbe.grpc.port = 'eight';
    assert.throws(() => validate(broken), /readinessProbe\/grpc\/port must be integer/);
  });

  it('a stateless executor: headless Service, Deployment with its replicas, gRPC probes, resources, GPU, HPA', () => {
    const svc = find('clip-o.yml', 'Service');
    assert.equal(svc.spec.clusterIP, 'None');
    assert.deepEqual(svc.spec.ports.map((p: any) => [p.name, p.port]), [['grpc', 8081], ['metrics', 9090]]);
    const dep = find('clip-o.yml', 'Deployment');
    assert.equal(dep.spec.replicas, 3);
    assert.deepEqual(svc.spec.selector, dep.spec.template.metadata.labels);
    const c = dep.spec.template.spec.containers[0];
    assert.equal(c.image, 'registry.local/clipflow:1');
    assert.deepEqual([...c.command, ...c.args], [
      'clipflow', 'executor', '/etc/clipflow/flow.yml', 'clip_o', '--port', '8081', '--host', '0.0.0.0', '--replicas', '1', '--metrics-port', '9090', '--grace', '30000',
    ]);
    assert.deepEqual([c.startupProbe.grpc, c.readinessProbe.grpc, c.livenessProbe.grpc], [{ port: 8081 }, { port: 8081 }, { port: 8081, service: 'liveness' }]);
    assert.deepEqual(c.resources, { requests: { cpu: '2', memory: '4Gi' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } });
    assert.equal(dep.spec.template.spec.tolerations[0].key, 'nvidia.com/gpu');
    const hpa = find('clip-o.yml', 'HorizontalPodAutoscaler');
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'clip-o' });
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [3, 12]);
    assert.equal(hpa.spec.metrics[0].type, 'Pods');
    assert.equal(hpa.spec.metrics[0].pods.metric.name, 'clipflow_worker_inflight_requests');
    // A flat `resources:` is requests; no GPU without gpus/cuda.
    assert.deepEqual(find('tagger.yml', 'Deployment').spec.template.spec.containers[0].resources, { requests: { cpu: '500m' } });
  });

  it('a sharded executor with a workspace: a StatefulSet per shard with a volume claim, no HPA', () => {
    for (const i of [0, 1]) {
      const file = `indexer-shard-${i}.yml`;
      assert.deepEqual(files.get(file)!.map((o) => o.kind), ['Service', 'StatefulSet']);
      const sts = find(file, 'StatefulSet');
      assert.equal(sts.spec.serviceName, `indexer-shard-${i}`);
      assert.equal(sts.spec.replicas, 1);
      assert.deepEqual(sts.spec.volumeClaimTemplates[0].spec, { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
      const c = sts.spec.template.spec.containers[0];
      assert.deepEqual(c.args.slice(-2), ['--shard', String(i)]);
      assert.ok(c.volumeMounts.some((m: any) => m.name === 'workspace' && m.mountPath === '/data/indexer'));
    }
  });

  it('the gateway runs clipflow serve on a generated flow whose executors are external, at the Services', () => {
    const dep = find('gateway.yml', 'Deployment');
    assert.equal(dep.metadata.name, 'search-flow-gateway');
    const c = dep.spec.template.spec.containers[0];
    assert.deepEqual(c.args, ['serve', '/etc/clipflow/gateway.yml']);
    assert.deepEqual(c.readinessProbe.grpc, { port: 51000 });
    assert.deepEqual(find('gateway.yml', 'Service').spec.ports.map((p: any) => [p.name, p.port]), [['grpc', 51000], ['http', 51001]]);

    const data = find('flows.yml', 'ConfigMap').data!;
    const gateway = parseFlow(data['gateway.yml']!, '/etc/clipflow');
    assert.deepEqual(gateway.gateway.ports, [51000, 51001]);
    const [enc, idx, tag] = gateway.executors;
    assert.deepEqual([enc!.external, enc!.host, enc!.port], [true, 'clip-o.search.svc.cluster.local', [8081]]);
    assert.deepEqual([idx!.shards, idx!.polling, idx!.timeoutSend, idx!.needs, tag!.needs], [2, { '/index': 'ANY', '/search': 'ALL' }, 5000, ['clip_o'], ['gateway']]);
    assert.deepEqual(shardAddresses(idx!).map((s) => s.map((a) => a.host)), [['indexer-shard-0.search.svc.cluster.local'], ['indexer-shard-1.search.svc.cluster.local']]);

    const workers = parseFlow(data['flow.yml']!, '/etc/clipflow');
    assert.equal(workers.executors[1]!.workspace, '/data/indexer');
    assert.equal(workers.executors[0]!.external, false);
  });

  it('the Dockerfile builds in one stage and installs production dependencies in the image', () => {
    const text = readFileSync(join(out, 'Dockerfile'), 'utf8');
    assert.match(text, /^FROM node:20-slim AS build$/m);
    assert.match(text, /^RUN npm run build$/m);
    assert.match(text, /^RUN npm ci --omit=dev/m);
    assert.match(text, /ln -s \/app\/dist\/core\/cli\/main\.js \/usr\/local\/bin\/clipflow/);
  });

  it('the CLI writes the files, and refuses a bad namespace with one line', async () => {
    const fx = writeExportFlow();
    try {
      const ok = await clipflow(['export', 'kubernetes', fx.file, fx.out]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^wrote .*\/clip-o\.yml$/m);
      assertOneErrorLine(await clipflow(['export', 'kubernetes', fx.file, fx.out, '--namespace', 'Bad_NS']), /--namespace: "Bad_NS" is not a valid namespace/);
    } finally {
      rmSync(fx.dir, { recursive: true, force: true });
    }
  });
});
