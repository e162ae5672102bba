import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { FlowConfigError } from '../../../../core/errors.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../../../../core/flow/config.js';
import { loadFlowFile, parseFlow, type FlowOverrides } from '../../../../core/flow/load.js';
import { packagePath } from '../../../../core/config/paths.js';

const fixtures = packagePath('test', 'fixtures', 'flows');
const BASE = resolve('/srv/flows');

/** Asserts parseFlow rejects `yaml` with a FlowConfigError at `path` whose message matches. */
function rejects(yaml: string, path: string | undefined, pattern: RegExp, overrides?: FlowOverrides): void {
  assert.throws(
    () => parseFlow(yaml, BASE, overrides),
    (e: unknown) => {
      assert.ok(e instanceof FlowConfigError, `expected FlowConfigError, got ${String(e)}`);
      assert.equal(e.path, path);
      assert.match(e.message, pattern);
      if (path) assert.ok(e.message.startsWith(`${path}: `), e.message);
      return true;
    },
  );
}

const flow = (yaml: string, overrides?: FlowOverrides) => parseFlow(yaml, BASE, overrides);

describe('loadFlowFile: clip-server flows load unchanged', () => {
  it("loads clip-server's onnx-flow.yml", async () => {
    const cfg = await loadFlowFile(resolve(fixtures, 'clip-onnx-flow.yml'));
    assert.equal(cfg.executors.length, 1);
    const [e] = cfg.executors;
    assert.equal(e!.name, 'clip_o');
    assert.equal(e!.uses.jtype, 'CLIPEncoder');
    assert.equal(e!.replicas, 1);
    assert.deepEqual(e!.needs, ['gateway']);
    assert.deepEqual(e!.uses.metas, {}, 'py_modules is not passed on');
    assert.deepEqual(cfg.gateway.ports, [51000]);
    assert.deepEqual(cfg.gateway.protocols, ['grpc']);
    assert.equal(cfg.gateway.host, '0.0.0.0');
    assert.equal(cfg.gateway.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE);
    assert.equal(cfg.baseDir, fixtures);
    assert.equal(cfg.source, resolve(fixtures, 'clip-onnx-flow.yml'));
    assert.equal(cfg.name, 'clip-onnx-flow');
    assert.equal(cfg.warnings.length, 1);
    assert.match(cfg.warnings[0]!, /^executors\[0\]\.uses\.metas\.py_modules: ignored/);
  });

  it("loads clip-server's search flow (annlite, workspace, per-endpoint polling)", async () => {
    const cfg = await loadFlowFile(resolve(fixtures, 'clip-search-flow.yml'));
    const [enc, idx] = cfg.executors;
    assert.deepEqual(cfg.gateway.ports, [61000]);
    assert.deepEqual(idx!.needs, [enc!.name]);
    assert.equal(idx!.workspace, resolve(fixtures, 'workspace'));
    assert.deepEqual(idx!.polling, { '/index': 'ANY', '/search': 'ALL', '/update': 'ALL', '/delete': 'ALL', '/status': 'ALL' });
    assert.deepEqual(idx!.uses.with, { n_dim: 512, limit: 10 });
    assert.equal(cfg.warnings.length, 2);
  });

  it('accepts monitoring / port_monitoring at flow and executor level', async () => {
    const cfg = await loadFlowFile(resolve(fixtures, 'monitoring-flow.yml'));
    assert.equal(cfg.executors[0]!.uses.jtype, 'CLIPEncoder');
  });

  it('names the file when it cannot be read or is invalid', async () => {
    await assert.rejects(loadFlowFile(resolve(fixtures, 'missing.yml')), (e: unknown) => {
      assert.ok(e instanceof FlowConfigError);
      assert.match(e.message, /cannot read flow file .*missing\.yml/);
      return true;
    });
    assert.throws(() => parseFlow('wiht: 1', BASE, {}, '/x/flow.yml'), /: wiht: unknown key.*\(in \/x\/flow\.yml\)$/);
  });
});

describe('parseFlow: normalisation', () => {
  it('normalises the full syntax', async () => {
    const cfg = await loadFlowFile(resolve(fixtures, 'full-flow.yml'));
    const g = cfg.gateway;
    assert.equal(cfg.name, 'demo');
    assert.equal(g.name, 'demo');
    assert.deepEqual(g.protocols, ['grpc', 'http', 'websocket']);
    assert.deepEqual(g.ports, [51000, 51001, 51002]);
    assert.equal(g.host, '127.0.0.1');
    assert.equal(g.title, 'Demo flow', 'gateway: section merges over with:');
    assert.equal(g.cors, true);
    assert.equal(g.compression, true);
    assert.equal(g.prefetch, 4);
    assert.equal(g.maxMessageSize, 1048576);
    assert.equal(g.timeout, 30000);
    assert.deepEqual(g.tls, { cert: resolve(fixtures, 'certs/server.crt'), key: resolve(fixtures, 'certs/server.key') });
    assert.deepEqual(g.env, { LOG_LEVEL: 'debug', WORKERS: '2' });

    const [upper, lower, join, remote] = cfg.executors;
    assert.deepEqual(upper!.uses.modules, [resolve(fixtures, 'executors/upper.ts')]);
    assert.deepEqual(upper!.uses.metas, { description: 'uppercases text' });
    assert.deepEqual(upper!.uses.with, { suffix: '!', keep: 2 }, 'uses_with wins over uses.with');
    assert.deepEqual(upper!.uses.requests, { '/upper': 'upper', '/tag': 'tag' });
    assert.deepEqual(upper!.uses.dynamicBatching, { '/encode': { preferredBatchSize: 32, timeout: 10 } });
    assert.equal(upper!.replicas, 2);
    assert.equal(upper!.workspace, resolve(fixtures, 'ws/upper'));
    assert.deepEqual(upper!.env, { CUDA_VISIBLE_DEVICES: '0' });
    assert.equal(upper!.timeoutSend, 5000, 'flow-level timeout_send is the default');
    assert.deepEqual(lower!.needs, ['gateway']);
    assert.equal(lower!.uses.jtype, 'Lower');
    assert.equal(lower!.polling, 'ALL');
    assert.equal(lower!.retries, 3);
    assert.equal(lower!.timeoutSend, 1000);
    assert.deepEqual(join!.needs, ['upper', 'lower']);
    assert.equal(remote!.external, true);
    assert.equal(remote!.host, '10.0.0.5');
    assert.deepEqual(remote!.port, [8080, 8081]);
    assert.equal(remote!.replicas, 2, 'ports of an external executor are its replicas');
    assert.equal(remote!.tls, true);
    assert.deepEqual(remote!.needs, ['join']);
  });

  it('takes external replicas on several hosts as a list, and resources for export', () => {
    const cfg = flow(
      'executors:\n' +
        '  - {uses: A, external: true, host: [10.0.0.5, 10.0.0.6, 10.0.0.7], port: 8081, resources: {requests: {cpu: 2}}}\n' +
        '  - {uses: B, external: true, host: [a, b], port: [7000, 7001]}\n',
    );
    assert.equal(cfg.executors[0]!.host, '10.0.0.5,10.0.0.6,10.0.0.7');
    assert.equal(cfg.executors[0]!.replicas, 3, 'one port on three hosts is three replicas');
    assert.equal(cfg.executors[1]!.host, 'a,b');
    assert.equal(cfg.executors[1]!.replicas, 2);
  });

  it('defaults names and chains needs in order', () => {
    const cfg = flow('executors:\n  - uses: A\n  - uses: B\n  - uses: C\n');
    assert.deepEqual(cfg.executors.map((e) => e.name), ['executor0', 'executor1', 'executor2']);
    assert.deepEqual(cfg.executors.map((e) => e.needs), [['gateway'], ['executor0'], ['executor1']]);
    assert.deepEqual(flow('jtype: Flow\n').executors, []);
  });

  it('returns a deeply frozen config', () => {
    const cfg = flow('executors:\n  - uses: {jtype: A, with: {nested: {x: [1]}}}\n');
    for (const o of [cfg, cfg.gateway, cfg.gateway.ports, cfg.executors, cfg.executors[0], cfg.executors[0]!.uses.with, cfg.warnings]) {
      assert.ok(Object.isFrozen(o));
    }
    const nested = cfg.executors[0]!.uses.with.nested as { x: number[] };
    assert.throws(() => nested.x.push(2), TypeError);
    assert.throws(() => {
      (cfg.gateway as { host: string }).host = 'x';
    }, TypeError);
  });

  it('warns about py_modules and other ignored Jina features, naming the path', () => {
    const cfg = flow('executors:\n  - uses: A\n    uses_metas: {py_modules: [x]}\n    floating: true\n');
    assert.ok(cfg.warnings.some((w) => w.startsWith('executors[0].uses_metas.py_modules: ignored')), cfg.warnings.join('\n'));
    assert.ok(cfg.warnings.some((w) => w.startsWith('executors[0].floating: ignored')));
  });
});

describe('parseFlow: ${{ ENV.VAR }} substitution', () => {
  const names = ['CLIPFLOW_T_PORT', 'CLIPFLOW_T_MODEL', 'CLIPFLOW_T_UNSET'];
  after(() => names.forEach((n) => delete process.env[n]));

  it('substitutes before parsing, in numbers and inside strings', () => {
    process.env.CLIPFLOW_T_PORT = '52001';
    process.env.CLIPFLOW_T_MODEL = 'ViT-B-32';
    const cfg = flow(
      'with:\n  port: ${{ ENV.CLIPFLOW_T_PORT }}\n# ${{ ENV.CLIPFLOW_T_UNSET }} is commented out\n' +
        'executors:\n  - uses: {jtype: A, with: {name: "${{env.CLIPFLOW_T_MODEL}}::openai"}}\n',
    );
    assert.deepEqual(cfg.gateway.ports, [52001]);
    assert.equal(cfg.executors[0]!.uses.with.name, 'ViT-B-32::openai');
  });

  it('names an unset variable and its line', () => {
    delete process.env.CLIPFLOW_T_UNSET;
    rejects('jtype: Flow\nwith:\n  host: ${{ ENV.CLIPFLOW_T_UNSET }}\n', undefined, /CLIPFLOW_T_UNSET is not set.*line 3/);
  });
});

describe('parseFlow: protocol and port pairing', () => {
  it('pairs in order and counts up from 51000 without ports', () => {
    assert.deepEqual(flow('with: {protocol: http, port: 8080}').gateway.ports, [8080]);
    const g = flow('with: {protocol: [http, websocket]}').gateway;
    assert.deepEqual([g.protocols, g.ports], [['http', 'websocket'], [51000, 51001]]);
    assert.deepEqual(flow('with: {protocol: [grpc, http], port: [0, 0]}').gateway.ports, [0, 0], 'port 0 may repeat');
  });

  it('rejects mismatched counts, duplicates and bad values with the key path', () => {
    rejects('with: {protocol: [grpc, http], port: 5000}', 'with.port', /2 protocol\(s\).*got 1/);
    rejects('with: {protocol: [grpc, http]}\ngateway: {port: [1, 2, 3]}', 'gateway.port', /got 3/);
    rejects('with: {protocol: [grpc, http], port: [5000, 5000]}', 'with.port', /port 5000 is used twice/);
    rejects('with: {port: 70000}', 'with.port', /<= 65535, got 70000/);
    rejects('with: {port: [1, 1.5]}', 'with.port[1]', /integer, got 1.5/);
    rejects('with: {protocol: tcp}', 'with.protocol', /one of 'grpc', 'http', 'websocket', got 'tcp'/);
  });

  it('lets overrides win, with the same pairing rules', () => {
    const base = 'with: {protocol: grpc, port: 6000, host: 0.0.0.0}\nexecutors:\n  - {uses: {jtype: A, with: {name: a, x: 1}}, replicas: 3}\n' +
      '  - {uses: B, external: true, host: h, port: [7000, 7001]}\n';
    let cfg = flow(base, { port: [7100, 7101], protocol: ['http', 'websocket'], host: '127.0.0.1' });
    assert.deepEqual([cfg.gateway.protocols, cfg.gateway.ports, cfg.gateway.host], [['http', 'websocket'], [7100, 7101], '127.0.0.1']);
    cfg = flow(base, { protocol: ['grpc', 'http', 'websocket'] });
    assert.deepEqual(cfg.gateway.ports, [6000, 6001, 6002], 'counts up from the file port');
    cfg = flow(base, { replicas: 2, executorWith: { name: 'b', runtime: 'cpu' } });
    assert.equal(cfg.executors[0]!.replicas, 2);
    assert.equal(cfg.executors[1]!.replicas, 2, 'external replicas come from its ports');
    assert.deepEqual(cfg.executors[0]!.uses.with, { name: 'b', x: 1, runtime: 'cpu' });
    cfg = flow(base, { port: [], protocol: [], executorWith: { name: undefined, runtime: 'cpu' } });
    assert.deepEqual(cfg.gateway.ports, [6000], 'empty override lists mean "not given"');
    assert.deepEqual(cfg.executors[0]!.uses.with, { name: 'a', x: 1, runtime: 'cpu' }, 'undefined flags keep file values');
    rejects(base, '--port', /2 protocol\(s\).*got 1/, { protocol: ['grpc', 'http'], port: [1] });
    rejects(base, '--protocol', /got 'smtp'/, { protocol: ['smtp' as 'grpc'] });
    rejects(base, '--replicas', />= 1/, { replicas: 0 });
  });
});

describe('parseFlow: errors name the key path', () => {
  it('rejects unknown keys at every level, listing the known ones', () => {
    rejects('jtype: Flow\nwiht: {}', 'wiht', /unknown key \(did you mean 'with'\?\); known keys: jtype, version, with, gateway, executors/);
    rejects('with: {prot: 1}', 'with.prot', /did you mean 'port'.*known keys: port, protocol/);
    rejects('gateway: {hots: x}', 'gateway.hots', /did you mean 'host'/);
    rejects('executors:\n  - uses: A\n  - {uses: B, replica: 2}', 'executors[1].replica', /did you mean 'replicas'.*known keys: name, uses,/);
    rejects('executors:\n  - uses: {jtype: A, wiht: {}}', 'executors[0].uses.wiht', /known keys: jtype, with, metas, requests$/);
    rejects('executors:\n  - uses: A\n    uses_dynamic_batching: {/encode: {size: 1}}', 'executors[0].uses_dynamic_batching["/encode"].size', /unknown key/);
    rejects('executors:\n  - uses: A\n    uses_dynamic_batching: {/encode: {preferred_batch_size: 4, lookahead: -1}}', 'executors[0].uses_dynamic_batching["/encode"].lookahead', />= 0, got -1/);
  });

  it("takes clipflow's lookahead next to Jina's batching keys, and leaves it out when not given", () => {
    const [withKey, without] = flow(
      'executors:\n  - {uses: A, uses_dynamic_batching: {/encode: {preferred_batch_size: 4, lookahead: 2}}}\n  - {uses: B, uses_dynamic_batching: {/encode: {preferred_batch_size: 4}}}',
    ).executors;
    assert.deepEqual(withKey!.uses.dynamicBatching, { '/encode': { preferredBatchSize: 4, timeout: 10_000, lookahead: 2 } });
    assert.deepEqual(without!.uses.dynamicBatching, { '/encode': { preferredBatchSize: 4, timeout: 10_000 } });
  });

  it('rejects incomplete tls settings', () => {
    rejects('with: {ssl_certfile: a.crt}', 'with.ssl_keyfile', /go together/);
    rejects('with: {tls: {cert: a, key: b}, ssl_keyfile: b}', 'with.ssl_keyfile', /either tls or/);
    rejects('with: {tls: {cert: a}}', 'with.tls.key', /required/);
  });

  it('rejects bad documents and headers', () => {
    rejects('', undefined, /empty/);
    rejects('- a\n- b\n', undefined, /mapping at the top level, got a list/);
    rejects('jtype: Flow\nwith:\n  port: [1\n', undefined, /invalid YAML at line 4, column 1/);
    rejects('jtype: Deployment', 'jtype', /'Flow', got 'Deployment'/);
    rejects("version: '2'", 'version', /only '1'/);
    rejects('executors: {a: 1}', 'executors', /expected a list, got a mapping/);
  });

  it('rejects bad executor entries', () => {
    rejects('executors:\n  - name: a', 'executors[0].uses', /required/);
    rejects('executors:\n  - uses: {with: {}}', 'executors[0].uses.jtype', /required/);
    rejects('executors:\n  - uses:\n    replicas: 2', 'executors[0].uses', /expected a mapping, got null/);
    rejects('with: {cors: "yes"}', 'with.cors', /expected a boolean, got 'yes'/);
    rejects('executors:\n  - uses: A\n    replicas: 0', 'executors[0].replicas', />= 1, got 0/);
    rejects('executors:\n  - uses: A\n    polling: SOME', 'executors[0].polling', /'ANY', 'ALL' or a mapping, got 'SOME'/);
    rejects('executors:\n  - {name: a, uses: A}\n  - {name: a, uses: B}', 'executors[1].name', /duplicate executor name 'a'/);
    rejects('executors:\n  - {name: gateway, uses: A}', 'executors[0].name', /reserved/);
    rejects('executors:\n  - {uses: A, external: true, port: 80}', 'executors[0].host', /required when external/);
    rejects('executors:\n  - {uses: A, external: true, host: h}', 'executors[0].port', /required when external/);
  });

  it('checks needs: unknown names, self-need and cycles', () => {
    rejects('executors:\n  - {name: a, uses: A, needs: [gateway, b]}', 'executors[0].needs', /unknown node 'b'; known: gateway, a/);
    rejects('executors:\n  - {name: a, uses: A, needs: a}', 'executors[0].needs', /'a' needs itself/);
    rejects(
      'executors:\n  - {name: a, uses: A, needs: c}\n  - {name: b, uses: A, needs: a}\n  - {name: c, uses: A, needs: b}',
      'executors[0].needs',
      /cycle in needs: a -> c -> b -> a/,
    );
  });
});
