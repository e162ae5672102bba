import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '../../../core/client/client.js';
import { hashEmbedding } from '../../fixtures/executors/basic.js';
import { assertOneErrorLine, clipflow, collect, quietEnv, serve, type Outcome } from '../../helpers/cli.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = join(here, '../../fixtures/executors/basic.js');
const DIM = 6;

const GOOD_FLOW = `
jtype: Flow
executors:
  - name: enc
    uses: { jtype: HashEncoder, with: { dim: ${DIM} }, metas: { modules: [${JSON.stringify(FIXTURES)}] } }
`;

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}


describe('clipflow CLI', () => {
  let dir: string;
  let flowFile: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'clipflow-cli-'));
    flowFile = join(dir, 'flow.yml');
    writeFileSync(flowFile, GOOD_FLOW);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('serve', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    let httpUrl: string;
    let grpcUrl: string;

    before(async () => {
      server = await serve([flowFile, '--port', '0', '0', '--protocol', 'http', 'grpc', '--host', '127.0.0.1'], 2);
      [httpUrl, grpcUrl] = server.urls as [string, string];
    });
    after(() => {
      if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    });

    test('prints one "listening <url>" line per transport, honouring --host/--port/--protocol', () => {
      assert.match(httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(grpcUrl, /^grpc:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(httpUrl.split(':')[2], '0');
    });

    test('the served flow answers the Client', async () => {
      const client = new Client(httpUrl);
      try {
        assert.deepEqual(await client.encode(['from the cli']), [hashEmbedding('from the cli', DIM)]);
      } finally {
        await client.close();
      }
    });

    test('encode prints [{input, embedding}] JSON for each input, in order', async () => {
      const outcome = await clipflow(['encode', 'hello', 'big world', '--server', grpcUrl, '--batch-size', '1']);
      assert.equal(outcome.code, 0, outcome.stderr);
      const parsed = JSON.parse(outcome.stdout) as Array<{ input: string; embedding: number[] }>;
      assert.deepEqual(parsed.map((p) => p.input), ['hello', 'big world']);
      for (const p of parsed) assert.deepEqual(p.embedding, Array.from(hashEmbedding(p.input, DIM)));
    });

    test('ping prints "ok <url> <ms>ms" on every protocol', async () => {
      for (const url of [httpUrl, grpcUrl]) {
        const outcome = await clipflow(['ping', url]);
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.match(outcome.stdout, new RegExp(`^ok ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\d+ms\\n$`));
      }
    });

    test('SIGTERM closes the server and exits 0', async () => {
      server.child.kill('SIGTERM');
      const outcome = await server.done;
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.signal, null);
      assert.equal(await new Client(httpUrl, { timeoutMs: 2_000 }).dryRun(), false, 'the port is closed');
    });
  });

  test('SIGINT stops a server too (exit 0)', async () => {
    const server = await serve([flowFile, '--port', '0', '--protocol', 'websocket', '--host', '127.0.0.1'], 1);
    assert.match(server.urls[0]!, /^ws:\/\/127\.0\.0\.1:\d+$/);
    server.child.kill('SIGINT');
    const outcome = await server.done;
    assert.equal(outcome.code, 0, outcome.stderr);
  });

  test('a bad flow file exits 1 with one stderr line naming the key path', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'jtype: Flow\nexecutors:\n  - name: x\n    uses:\n      jtype: HashEncoder\n      wiht: {}\n');
    // Default log level on purpose: nothing else may reach stderr.
    const outcome = await clipflow(['serve', bad, '--port', '0'], { ...process.env, CLIPFLOW_LOG_LEVEL: 'info' });
    assertOneErrorLine(outcome, /executors\[0\]\.uses\.wiht/);
    assert.equal(outcome.stdout, '');
  });

  test('a missing flow file, an unknown executor and a bad flag each exit 1 with one line', async () => {
    assertOneErrorLine(await clipflow(['serve', join(dir, 'nope.yml')]), /nope\.yml/);
    const unknown = join(dir, 'unknown.yml');
    writeFileSync(unknown, 'jtype: Flow\nexecutors:\n  - name: x\n    uses: { jtype: NoSuchExecutor }\n');
    assertOneErrorLine(await clipflow(['serve', unknown, '--port', '0']), /NoSuchExecutor/);
    assertOneErrorLine(await clipflow(['serve', flowFile, '--protocol', 'carrier-pigeon']), /--protocol/);
    assertOneErrorLine(await clipflow(['serve', flowFile, '--port', 'eighty']), /--port/);
    assertOneErrorLine(await clipflow(['serve', flowFile, '--runtime', 'abacus']), /abacus/);
  });

  test('a port in use exits 1 with one line', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = blocker.address() as AddressInfo;
      const outcome = await clipflow(['serve', flowFile, '--host', '127.0.0.1', '--port', String(port), '--protocol', 'http']);
      assertOneErrorLine(outcome, /./);
    } finally {
      blocker.close();
    }
  });

  test('ping of a dead port exits 1 naming the url', async () => {
    for (const scheme of ['grpc', 'http', 'ws']) {
      const url = `${scheme}://127.0.0.1:${await deadPort()}`;
      const outcome = await clipflow(['ping', url, '--timeout', '3000']);
      assertOneErrorLine(outcome, new RegExp(`^clipflow: ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not reachable: .+`));
      assert.equal(outcome.stdout, '');
    }
  });

  test('encode against a dead server exits 1 with one line', async () => {
    const outcome = await clipflow(['encode', 'x', '--server', `http://127.0.0.1:${await deadPort()}`]);
    assertOneErrorLine(outcome, /ECONNREFUSED/);
    assertOneErrorLine(await clipflow(['encode', 'x', '--server', 'nonsense']), /invalid server URL/);
  });
});
