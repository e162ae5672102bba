/**
 * Measures tiny-shapes per-skill accuracy through a served clipflow's HTTP `/rank`:
 * each photo is ranked against its caption and the skill's wrong alternatives.
 *
 *   node dist/tools/scenes/rank-eval.js [--model DIR] [--per-skill 200] [--seed 5000] [--renderer main|variant]
 *
 * `main` renders with tools/scenes (fresh seeds, non-square photos, distractors in
 * half of the count scenes); `variant` with the independent renderer in variant.ts.
 */
import { parseArgs } from 'node:util';
import { alternativesOf, captionOf, type Skill } from './grammar.js';
import { encodePng } from './png.js';
import { renderScene } from './render.js';
import { makeRng, pick } from './rng.js';
import { sampleScene } from './sample.js';
import { variantScene } from './variant.js';

export const SKILLS: readonly Skill[] = ['color', 'shape', 'count', 'spatial'];
export const PHOTO_SIZES: ReadonlyArray<readonly [number, number]> = [[200, 150], [150, 200], [96, 64], [64, 96], [80, 64], [128, 128], [240, 180], [90, 120]];

export interface RankCase {
  skill: Skill;
  png: Uint8Array;
  caption: string;
  alternatives: string[];
}

/** A fresh scene of the main renderer for a skill (count scenes: distractors when `seed` is odd). */
export async function mainCase(seed: number, skill: Skill): Promise<RankCase> {
  const rng = makeRng(seed);
  const [w, h] = pick(rng, PHOTO_SIZES);
  const kind = skill === 'count' ? 'count' : skill === 'spatial' ? 'relation' : 'single';
  let spec = sampleScene(rng, kind);
  while (skill === 'count' && (seed % 2 === 1) !== spec.objects.length > spec.count!.n) spec = sampleScene(rng, kind);
  const png = await encodePng(renderScene(spec, { width: w, height: h, seed }));
  return { skill, png, caption: captionOf(spec), alternatives: alternativesOf(spec, skill) };
}

/** A scene of the independent variant renderer. */
export async function variantCase(seed: number, skill: Skill): Promise<RankCase> {
  const [w, h] = pick(makeRng(seed + 17), PHOTO_SIZES);
  const v = variantScene(seed, skill, w, h);
  return { skill, png: await encodePng(v), caption: v.caption, alternatives: v.alternatives };
}

/** Top captions `/rank` picks for the cases (one request per chunk). */
export async function rankTop(httpUrl: string, cases: readonly RankCase[], chunk = 50): Promise<string[]> {
  const tops: string[] = [];
  for (let i = 0; i < cases.length; i += chunk) {
    const data = cases.slice(i, i + chunk).map((c) => ({
      blob: Buffer.from(c.png).toString('base64'),
      matches: [c.caption, ...c.alternatives].map((text) => ({ text })),
    }));
    const res = await fetch(`${httpUrl}/rank`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }) });
    if (res.status !== 200) throw new Error(`/rank answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { data: Array<{ matches: Array<{ text: string }> }> };
    tops.push(...body.data.map((d) => d.matches[0]!.text));
  }
  return tops;
}

/** Per-skill top-1 accuracy of `/rank` over the cases. */
export async function rankAccuracy(httpUrl: string, cases: readonly RankCase[]): Promise<Record<string, number>> {
  const tops = await rankTop(httpUrl, cases);
  const acc: Record<string, [number, number]> = {};
  cases.forEach((c, i) => {
    const a = (acc[c.skill] ??= [0, 0]);
    a[0] += tops[i] === c.caption ? 1 : 0;
    a[1] += 1;
  });
  return Object.fromEntries(Object.entries(acc).map(([k, [h, n]]) => [k, h / n]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      'per-skill': { type: 'string', default: '200' },
      seed: { type: 'string', default: '5000' },
      renderer: { type: 'string', default: 'main' },
    },
  });
  const { packagePath } = await import('../../core/config/paths.js');
  const { parseFlow } = await import('../../core/flow/load.js');
  const { serveFlow } = await import('../../core/serve/gateway.js');
  const dir = values.model ?? packagePath('models', 'tiny-shapes');
  const yaml = `jtype: Flow
version: '1'
with:
  host: 127.0.0.1
  port: [0]
  protocol: [http]
executors:
  - name: clip
    uses:
      jtype: ClipEncoder
      with: { model_path: '${dir}' }
`;
  const serving = await serveFlow(parseFlow(yaml, process.cwd()));
  try {
    const url = serving.servers.find((s) => s.protocol === 'http')!.url;
    const per = Number(values['per-skill']), seed = Number(values.seed);
    const make = values.renderer === 'variant' ? variantCase : mainCase;
    const cases: RankCase[] = [];
    for (const skill of SKILLS) for (let i = 0; i < per; i++) cases.push(await make(seed + i * 7 + SKILLS.indexOf(skill) * 100003, skill));
    const acc = await rankAccuracy(url, cases);
    console.log(JSON.stringify({ renderer: values.renderer, perSkill: per, accuracy: acc }));
  } finally {
    await serving.close(1000);
  }
}

const invoked = process.argv[1] ?? '';
if (invoked.endsWith('rank-eval.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
