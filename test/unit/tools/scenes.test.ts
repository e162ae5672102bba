// tiny-shapes scene renderer and caption grammar: determinism, grammar, truth, geometry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  alternativesOf, captionOf, captionText, grammar, makeRng, primaryCaption, renderScene, sampleScene, signedDistance,
  truthOf, twinOf, boundingRadius, type SceneKind,
} from '../../../tools/scenes/index.js';

const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('tiny-shapes scenes', () => {
  it('renders the same bytes for the same seed and different ones for another', () => {
    const a = sampleScene(makeRng(42), 'count');
    const b = sampleScene(makeRng(42), 'count');
    assert.deepEqual(a, b);
    const ra = renderScene(a, { width: 80, height: 64, seed: 3 });
    const rb = renderScene(b, { width: 80, height: 64, seed: 3 });
    assert.equal(ra.rgb.length, 80 * 64 * 3);
    assert.equal(hash(ra.rgb), hash(rb.rgb));
    const c = sampleScene(makeRng(43), 'count');
    assert.notEqual(hash(renderScene(c, { width: 80, height: 64, seed: 3 }).rgb), hash(ra.rgb));
  });

  it('writes the captions of the grammar', () => {
    assert.equal(captionText({ type: 'object', color: 'red', shape: 'circle' }), 'a photo of a red circle');
    assert.equal(captionText({ type: 'count', n: 3, color: 'blue', shape: 'square' }), 'a photo of three blue squares');
    assert.equal(captionText({ type: 'count', n: 1, color: 'green', shape: 'triangle' }), 'a photo of one green triangle');
    assert.equal(
      captionText({ type: 'relation', a: { color: 'red', shape: 'circle' }, rel: 'left', b: { color: 'blue', shape: 'square' } }),
      'the red circle is on the left of the blue square',
    );
    assert.equal(
      captionText({ type: 'relation', a: { color: 'red', shape: 'circle' }, rel: 'above', b: { color: 'blue', shape: 'square' } }),
      'the red circle is above the blue square',
    );
    const all = grammar().map(captionText);
    assert.equal(all.length, 12 + 48 + 528);
    assert.equal(new Set(all).size, all.length);
  });

  it('keeps objects apart and inside the central square; captions are true and alternatives false', () => {
    const rng = makeRng(7);
    const kinds: SceneKind[] = ['single', 'count', 'relation'];
    const caps = grammar();
    for (let i = 0; i < 300; i++) {
      const base = sampleScene(rng, kinds[i % 3]!);
      for (const spec of [base, twinOf(rng, base)]) {
        for (const [j, o] of spec.objects.entries()) {
          const br = boundingRadius(o);
          assert.ok(o.x - br >= 0 && o.x + br <= 1 && o.y - br >= 0 && o.y + br <= 1, `object ${j} outside: ${JSON.stringify(o)}`);
          for (const p of spec.objects.slice(0, j)) assert.ok(Math.hypot(p.x - o.x, p.y - o.y) > br + boundingRadius(p), 'overlap');
        }
        const text = captionOf(spec);
        const primary = caps.findIndex((c) => captionText(c) === text);
        assert.equal(truthOf(spec, caps[primary]!), 1, text);
        const skills = spec.kind === 'single' ? (['color', 'shape'] as const) : spec.kind === 'count' ? (['count'] as const) : (['spatial'] as const);
        for (const skill of skills) {
          for (const alt of alternativesOf(spec, skill)) {
            assert.notEqual(alt, text);
            assert.equal(truthOf(spec, caps.find((c) => captionText(c) === alt)!), 0, `${alt} vs ${text}`);
          }
        }
      }
      if (base.kind === 'relation') {
        const twin = twinOf(makeRng(i), base);
        assert.equal(captionText(primaryCaption(twin)), alternativesOf(base, 'spatial')[0]);
      }
    }
  });

  it('draws the object where the spec puts it, in its colour, with anti-aliased edges', () => {
    const spec = sampleScene(makeRng(11), 'single');
    const o = spec.objects[0]!;
    const w = 96, h = 64; // central square is x in [16, 80)
    const img = renderScene(spec, { width: w, height: h });
    const px = Math.floor(16 + o.x * 64), py = Math.floor(o.y * 64);
    const i = (py * w + px) * 3;
    assert.ok(signedDistance(o, (px + 0.5 - 16) / 64, (py + 0.5) / 64) < 0);
    assert.deepEqual([img.rgb[i], img.rgb[i + 1], img.rgb[i + 2]], o.rgb);
    const levels = new Set<number>();
    for (let k = 0; k < img.rgb.length; k += 3) levels.add(img.rgb[k]! * 65536 + img.rgb[k + 1]! * 256 + img.rgb[k + 2]!);
    assert.ok(levels.size > 4, 'expected blended edge pixels');
  });
});
