// A model whose second graph fails to load: the load settles only after both
// graphs have, and the graph that did load is released, not leaked.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ClipModel } from '../../../../executors/clip/clip-model.js';
import { resolveModelDir } from '../../../../executors/clip/models/model-dir.js';
import { inferenceRuntime, type InferenceRuntime } from '../../../../runtimes/index.js';
import { tinyModelDir } from '../../../helpers/tiny-model.js';

it('ClipModel.load: when one graph fails, it waits for the other and releases it before failing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-bad-graph-'));
  try {
    const bad = join(dir, 'visual.onnx');
    writeFileSync(bad, 'not an onnx graph');
    const spec = { ...(await resolveModelDir(tinyModelDir('clip-server'))), visualPath: bad };
    const real = await inferenceRuntime();
    const events: string[] = [];
    // The real runtime, with its sessions' release() noted.
    const runtime: InferenceRuntime = {
      name: real.name,
      probe: () => real.probe(),
      load: async (path, options) => {
        // The good graph loads after the bad one has failed, as a slow load would.
        if (path !== bad) await new Promise((r) => setTimeout(r, 300));
        const session = await real.load(path, options);
        const release = session.release.bind(session);
        session.release = async () => {
          events.push(`released ${path}`);
          await release();
        };
        events.push(`loaded ${path}`);
        return session;
      },
    };
    await assert.rejects(ClipModel.load(spec, runtime, { provider: 'cpu' }), (e: Error) => e.message.includes(bad));
    assert.deepEqual(events, [`loaded ${spec.textualPath}`, `released ${spec.textualPath}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
