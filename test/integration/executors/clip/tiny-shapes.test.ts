// The bundled tiny-shapes::clipflow model, served for real: does it understand its
// world? Fresh scenes (new seeds, non-square photos, distractors) are ranked over
// HTTP /rank against wrong captions per skill, and a caption finds its photo in a
// small gallery by cosine.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { packagePath } from '../../../../core/config/paths.js';
import { cosine } from '../../../../executors/clip/rank.js';
import { COLORS, SHAPES, captionText, encodePng, makeRng, renderScene, sampleBackground, shadeOf, type SceneSpec } from '../../../../tools/scenes/index.js';
import { mainCase, rankAccuracy, rankTop, SKILLS, type RankCase } from '../../../../tools/scenes/rank-eval.js';
import { flowYaml, serveYaml } from '../../../helpers/flows.js';

const MODEL_DIR = packagePath('models', 'tiny-shapes');
const BAR: Record<string, number> = { color: 0.95, shape: 0.95, count: 0.85, spatial: 0.9 };
const PER_SKILL = 40;

describe('tiny-shapes::clipflow through the server', () => {
  let serving: Awaited<ReturnType<typeof serveYaml>>;
  let url: string;
  before(async () => {
    serving = await serveYaml(flowYaml(`  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${MODEL_DIR}' }
`));
    url = serving.url('http');
  });
  after(() => serving.close(1000));

  it('/rank picks the right caption per skill on fresh scenes', async () => {
    const cases: RankCase[] = [];
    for (const [s, skill] of SKILLS.entries()) {
      for (let i = 0; i < PER_SKILL; i++) cases.push(await mainCase(910_000 + s * 1000 + i, skill));
    }
    const acc = await rankAccuracy(url, cases);
    for (const skill of SKILLS) {
      assert.ok(acc[skill]! >= BAR[skill]!, `${skill}: ${(acc[skill]! * 100).toFixed(1)}% < ${BAR[skill]! * 100}% (${JSON.stringify(acc)})`);
    }
  });

  it('finds the photo a caption describes in a gallery of 12 (text-to-image search)', async () => {
    const rng = makeRng(4242);
    const gallery: Array<{ caption: string; png: Uint8Array }> = [];
    for (const color of COLORS) {
      for (const shape of SHAPES) {
        const spec: SceneSpec = {
          kind: 'single',
          background: sampleBackground(rng),
          objects: [{ color, shape, x: 0.3 + 0.4 * rng.next(), y: 0.3 + 0.4 * rng.next(), r: 0.15, rot: 0.2 * (rng.next() - 0.5), rgb: shadeOf(rng, color), outline: 0 }],
        };
        gallery.push({ caption: captionText({ type: 'object', color, shape }), png: await encodePng(renderScene(spec, { width: 160, height: 120 })) });
      }
    }
    const queries = ['a photo of a red circle', 'a photo of a blue triangle', 'a photo of a yellow square', 'a photo of a green triangle'];
    const data = [...gallery.map((g) => ({ blob: Buffer.from(g.png).toString('base64') })), ...queries.map((text) => ({ text }))];
    const res = await fetch(`${url}/encode`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
    const images = body.data.slice(0, gallery.length).map((d) => Float32Array.from(d.embedding));
    for (const [q, text] of queries.entries()) {
      const e = Float32Array.from(body.data[gallery.length + q]!.embedding);
      const scores = images.map((img) => cosine(e, img));
      const best = scores.indexOf(Math.max(...scores));
      assert.equal(gallery[best]!.caption, text, `"${text}" found "${gallery[best]!.caption}"`);
    }
  });

  it("answers the README's /rank examples as documented", async () => {
    const examples = [
      ['three-blue-squares.png', 'a photo of three blue squares', ['a photo of one blue square', 'a photo of two blue squares', 'a photo of four blue squares']],
      ['red-circle-left-of-green-triangle.png', 'the red circle is on the left of the green triangle', [
        'the red circle is on the right of the green triangle', 'the red circle is above the green triangle', 'the green triangle is on the left of the red circle',
      ]],
    ] as const;
    const cases: RankCase[] = [];
    for (const [file, caption, alternatives] of examples) {
      cases.push({ skill: 'count', png: await readFile(packagePath('docs', 'scenes', file)), caption, alternatives: [...alternatives] });
    }
    const tops = await rankTop(url, cases);
    assert.deepEqual(tops, examples.map((e) => e[1]));
  });
});
