import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { formatModelTable, modelRows, registerModelsCommand, runModelsList, runModelsPull } from '../../../../../core/cli/models.command.js';
import { writeStamp } from '../../../../../executors/clip/models/cache.js';
import { getModel } from '../../../../../executors/clip/models/model-registry.js';

/** Runs the commander program and returns what it printed on stdout. */
async function cli(args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command('clipflow').exitOverride();
  registerModelsCommand(program, async (text) => void out.push(`${text}\n`));
  await program.parseAsync(args, { from: 'user' });
  return out.join('');
}

describe('clipflow models', () => {
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'clipflow-cli-models-'));
    // Pretend RN50::openai was pulled: both graphs present and stamped with the table's md5.
    const entry = getModel('RN50::openai');
    assert.equal(entry.source.kind, 'download');
    if (entry.source.kind !== 'download') return;
    const dir = join(cacheDir, 'RN50-openai');
    await mkdir(dir, { recursive: true });
    for (const [file, md5] of [['textual.onnx', entry.source.textual.md5], ['visual.onnx', entry.source.visual.md5]] as const) {
      await writeFile(join(dir, file), 'x');
      await writeStamp(join(dir, file), md5);
    }
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

  it('list --json gives every model with its facts and cache state', async () => {
    const rows = JSON.parse(await cli(['models', 'list', '--json', '--cache-dir', cacheDir]));
    const rn50 = rows.find((r: { name: string }) => r.name === 'RN50::openai');
    assert.deepEqual(
      { ...rn50, dir: undefined },
      { name: 'RN50::openai', aliases: ['RN50'], embedDim: 1024, imageSize: 224, runtimes: ['cpu', 'webgpu', 'cuda', 'tensorrt'], tokenizer: 'clip-bpe', cached: true, dir: undefined },
    );
    assert.equal(rn50.dir, join(cacheDir, 'RN50-openai'));
    assert.equal(rows.find((r: { name: string }) => r.name === 'ViT-B-32::openai').cached, false);
    assert.ok(rows.length >= 29);
  });

  it('list prints an aligned table', async () => {
    const text = await cli(['models', 'list', '--cache-dir', cacheDir]);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+DIM\s+IMAGE\s+RUNTIMES\s+CACHED$/);
    assert.match(text, /RN50::openai \(RN50\)\s+1024\s+224\s+cpu,webgpu,cuda,tensorrt\s+yes/);
    assert.match(text, /ViT-L-14-336::openai \(ViT-L\/14@336px\)\s+768\s+336\s+cpu,webgpu,cuda\s+no/);
    assert.equal(await runModelsList({ cacheDir }), formatModelTable(await modelRows(cacheDir)));
  });

  it('pull rejects an unknown name with a suggestion before touching the network', async () => {
    await assert.rejects(runModelsPull('ViT-B/33', { cacheDir }), /unknown model "ViT-B\/33": did you mean ViT-B-32::openai\?/);
  });
});
