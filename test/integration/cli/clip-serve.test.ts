// `clipflow serve` with the CLIP encoder: real start-ups and the one-line failures
// for a missing provider or model.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { cosine } from '../../../executors/clip/rank.js';
import { Client } from '../../../core/client/client.js';
import { packagePath } from '../../../core/config/paths.js';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneErrorLine, clipflow, quietEnv, serve, serveUnlessRefused } from '../../helpers/cli.js';
import { expectedRuntimes } from '../../helpers/runtimes.js';
import { tinyModelDir } from '../../helpers/tiny-model.js';

const DEFAULT_FLOW = packagePath('flows', 'default.yml');
const CLIP_SERVER_ONNX_FLOW = packagePath('test', 'fixtures', 'flows', 'clip-onnx-flow.yml');

describe('clipflow serve with ClipEncoder', () => {
  it("serves clip-server's own onnx-flow.yml unchanged, given a local model", async () => {
    const { child, urls, done } = await serve([CLIP_SERVER_ONNX_FLOW, '--port', '0', '--protocol', 'http', '--host', '127.0.0.1', '--model-path', tinyModelDir('clip-server')], 1);
    const client = new Client(urls[0]!);
    try {
      const [v] = (await client.encode(['hello'])) as Float32Array[];
      assert.equal(v!.length, 16);
    } finally {
      await client.close();
      child.kill('SIGTERM');
    }
    assert.equal((await done).code, 0);
  });

  // CI has no GPU, so there each of these is the one-line refusal. On a GPU machine the
  // provider may serve: then it must really run there and agree with the CPU.
  const expected = expectedRuntimes();
  for (const runtime of ['cuda', 'tensorrt', 'webgpu']) {
    it(`--runtime ${runtime} serves on ${runtime} where this machine has it, else fails with one line, never a CPU fallback`, async () => {
      const args = (rt: string) => [DEFAULT_FLOW, '--port', '0', '--protocol', 'http', '--host', '127.0.0.1', '--model-path', tinyModelDir('clip-server'), '--runtime', rt];
      const started = await serveUnlessRefused(args(runtime), 1);
      if ('exited' in started) {
        assert.ok(!expected.has(runtime), `CLIPFLOW_EXPECT_RUNTIMES names ${runtime}, but it refused: ${started.exited.stderr}`);
        assertOneErrorLine(started.exited, new RegExp(`runtime "${runtime}" is not available`), runtime === 'webgpu');
        return;
      }
      const cpu = await serve(args('cpu'), 1);
      const [gpuClient, cpuClient] = [new Client(started.urls[0]!), new Client(cpu.urls[0]!)];
      try {
        const status = JSON.stringify(await (await fetch(`${started.urls[0]}/status`)).json());
        assert.match(status, new RegExp(`\\.provider":"${runtime}"`));
        const png = await sharp({ create: { width: 48, height: 40, channels: 3, background: { r: 200, g: 40, b: 30 } } }).png().toBuffer();
        const inputs = ['a photo of a red circle', 'hello', `data:image/png;base64,${png.toString('base64')}`];
        const [got, want] = [(await gpuClient.encode(inputs)) as Float32Array[], (await cpuClient.encode(inputs)) as Float32Array[]];
        for (let i = 0; i < inputs.length; i++) assert.ok(cosine(got[i]!, want[i]!) >= 0.999, `input ${i}: cosine ${cosine(got[i]!, want[i]!)} to the CPU's embedding`);
      } finally {
        await Promise.all([gpuClient.close(), cpuClient.close()]);
        started.child.kill('SIGTERM');
        cpu.child.kill('SIGTERM');
      }
      assert.equal((await started.done).code, 0);
      assert.equal((await cpu.done).code, 0);
    });
  }

  it('a missing model folder fails with one line naming it', async () => {
    const out = await clipflow(['serve', DEFAULT_FLOW, '--port', '0', '--model-path', '/nonexistent/model-dir']);
    assertOneErrorLine(out, /\/nonexistent\/model-dir/);
  });

  it('an unknown model name fails with one line suggesting the closest', async () => {
    const out = await clipflow(['serve', DEFAULT_FLOW, '--port', '0', '--model', 'ViT-B-32::opnai']);
    assertOneErrorLine(out, /did you mean ViT-B-32::openai/);
  });

  describe('with no network and an empty model cache', () => {
    let cache: string;
    let env: ReturnType<typeof quietEnv>;

    before(async () => {
      cache = await mkdtemp(join(tmpdir(), 'clipflow-offline-'));
      // A mirror on a port nobody listens on: every download fails at once, as offline.
      env = quietEnv({ CLIPFLOW_CACHE_DIR: cache, CLIPFLOW_MODEL_MIRRORS: `http://127.0.0.1:${await closedPort()}/` });
    });
    after(() => rm(cache, { recursive: true, force: true }));

    it('the default flow serves the bundled tiny-shapes model, saying so in the banner and /status', async () => {
      const { child, urls, out, done } = await serve([DEFAULT_FLOW, '--port', '0', '--protocol', 'http', '--host', '127.0.0.1'], 1, env);
      const client = new Client(urls[0]!);
      try {
        assert.match(out(), /WARNING: .*OFFLINE DEMO MODEL.*tiny-shapes::clipflow/);
        const status = (await (await fetch(`${urls[0]}/status`)).json()) as Record<string, unknown>;
        assert.match(JSON.stringify(status), /OFFLINE DEMO MODEL/);
        const [v] = (await client.encode(['a photo of a red circle'])) as Float32Array[];
        assert.equal(v!.length, 64);
      } finally {
        await client.close();
        child.kill('SIGTERM');
      }
      assert.equal((await done).code, 0);
      const left = await readdir(cache, { recursive: true }).catch(() => []);
      assert.deepEqual(left.filter((f) => /\.(lock|part|tmp)$|\.onnx$/.test(f)), [], 'no lock or partial file is left behind');
    });

    it('a flow that names a model fails instead of silently serving the demo model', async () => {
      const out = await clipflow(['serve', DEFAULT_FLOW, '--port', '0', '--model', 'ViT-B-32::openai'], env);
      assertOneErrorLine(out, /ViT-B-32::openai/);
      assert.doesNotMatch(out.stdout + out.stderr, /tiny-shapes/);
    });
  });
});

/** A loopback port that was free a moment ago and has no listener now. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
