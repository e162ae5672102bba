// examples/image-to-text on a text file and an image the test writes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import sharp from 'sharp';
import { ascending, runExample } from './example-runner.js';

const TEXT = `A dog runs on the beach. A cat sleeps on a warm sofa!
A red car drives through the city.

Two birds sit on a wire? A bowl of green apples.`;

describe('examples/image-to-text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clipflow-i2t-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('indexes the sentences of a file and lists those nearest to an image', async () => {
    writeFileSync(join(dir, 'captions.txt'), TEXT);
    const image = join(dir, 'photo.png');
    await sharp({ create: { width: 48, height: 40, channels: 3, background: { r: 200, g: 30, b: 40 } } }).png().toFile(image);
    const lines = await runExample('image-to-text', [join(dir, 'captions.txt'), image, '--limit', '4']);
    const sentences = ['A dog runs on the beach.', 'A cat sleeps on a warm sofa!', 'A red car drives through the city.', 'Two birds sit on a wire?', 'A bowl of green apples.'];
    assert.equal(lines.length, 4);
    for (const l of lines) assert.ok(sentences.includes(l.sentence as string), `"${l.sentence}" is one of the file's sentences`);
    assert.equal(new Set(lines.map((l) => l.sentence)).size, 4);
    assert.ok(ascending(lines.map((l) => l.distance as number)), 'nearest first');
  });
});
