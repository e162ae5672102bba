// `clipflow serve` with the CLIP encoder: real start-ups and the one-line failures
// for a missing provider or model.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Client } from '../../../core/client/client.js';
import { packagePath } from '../../../core/config/paths.js';
import { assertOneErrorLine, clipflow, serve } from '../../helpers/cli.js';
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

  for (const runtime of ['cuda', 'tensorrt', 'webgpu']) {
    it(`--runtime ${runtime} on a machine without it fails with one line, never a CPU fallback`, async () => {
      const out = await clipflow(['serve', DEFAULT_FLOW, '--port', '0', '--model-path', tinyModelDir('clip-server'), '--runtime', runtime]);
      assertOneErrorLine(out, new RegExp(`runtime "${runtime}" is not available`), runtime === 'webgpu');
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
});
