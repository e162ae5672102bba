import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { extractZip, listZip } from '../../../../../executors/clip/models/zip-extract.js';
import { blob, makeZip } from './fixtures.js';

describe('zip extraction', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipflow-zip-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const zip64 of [false, true]) {
    it(`extracts stored and deflated entries${zip64 ? ' (zip64 records)' : ''}`, async () => {
      const graph = Buffer.alloc(200_000, 7);
      const weights = blob(50_000);
      const zip = join(dir, `v${zip64}.zip`);
      await writeFile(zip, makeZip([{ name: 'visual.onnx', data: graph, deflate: true }, { name: 'data/weights.bin', data: weights }], zip64));
      const entries = await listZip(zip);
      assert.deepEqual(entries.map((e) => [e.name, e.method, e.size]), [['visual.onnx', 8, 200_000], ['data/weights.bin', 0, 50_000]]);
      const out = join(dir, `out${zip64}`);
      assert.deepEqual(await extractZip(zip, out), ['visual.onnx', 'data/weights.bin']);
      assert.deepEqual(await readFile(join(out, 'visual.onnx')), graph);
      assert.deepEqual(await readFile(join(out, 'data', 'weights.bin')), weights);
      assert.deepEqual((await readdir(out)).sort(), ['data', 'visual.onnx']);
    });
  }

  it('refuses entries that would escape the target directory', async () => {
    const zip = join(dir, 'slip.zip');
    await writeFile(zip, makeZip([{ name: '../evil.onnx', data: Buffer.from('x') }]));
    await assert.rejects(extractZip(zip, join(dir, 'slip')), /unsafe entry name \.\.\/evil\.onnx/);
  });

  it('detects a corrupt entry by its CRC', async () => {
    const zip = join(dir, 'bad.zip');
    const bytes = makeZip([{ name: 'textual.onnx', data: Buffer.from('hello world, hello world') }]);
    bytes[30 + 'textual.onnx'.length] ^= 0xff; // first payload byte
    await writeFile(zip, bytes);
    await assert.rejects(extractZip(zip, join(dir, 'bad')), /textual\.onnx is corrupt/);
  });

  it('says so when a file is not a zip', async () => {
    const zip = join(dir, 'not.zip');
    await writeFile(zip, 'plain text');
    await assert.rejects(listZip(zip), /not a zip archive/);
  });
});
