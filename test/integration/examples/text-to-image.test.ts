// examples/text-to-image on a folder of rendered PNGs.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ascending, runExample } from './example-runner.js';

/** Eight small, clearly different images: a shape in a colour on a background. */
async function renderImages(dir: string): Promise<string[]> {
  const colours = ['#d62828', '#2a9d8f', '#264653', '#e9c46a', '#8338ec', '#ff006e', '#3a86ff', '#fb5607'];
  return Promise.all(
    colours.map(async (fill, i) => {
      const shape = i % 2 ? `<circle cx="32" cy="32" r="${12 + i * 2}" fill="${fill}"/>` : `<rect x="${8 + i}" y="12" width="40" height="${20 + i * 3}" fill="${fill}"/>`;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="${i < 4 ? 'white' : 'black'}"/>${shape}</svg>`;
      const file = join(dir, `image-${i}.png`);
      await sharp(Buffer.from(svg)).png().toFile(file);
      return file;
    }),
  );
}

describe('examples/text-to-image', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-t2i-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes a folder of images and lists the nearest to a sentence', async () => {
    const folder = join(dir, 'images');
    mkdirSync(folder);
    const images = await renderImages(folder);
    const workspace = join(dir, 'workspace');
    const lines = await runExample('text-to-image', [folder, 'a red square on white', '--limit', '5', '--workspace', workspace]);
    assert.equal(lines.length, 5);
    assert.deepEqual(lines.map((l) => l.rank), [1, 2, 3, 4, 5]);
    assert.equal(new Set(lines.map((l) => l.path)).size, 5, 'five different images');
    for (const l of lines) assert.ok(images.includes(l.path as string), `${l.path} is one of the indexed images`);
    assert.ok(ascending(lines.map((l) => l.distance as number)), 'nearest first');
    assert.ok(existsSync(join(workspace, 'docs.lance')), 'the index was written to --workspace');
  });
});
