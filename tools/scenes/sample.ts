/**
 * Random scenes: object colours with shade jitter, varied backgrounds, random
 * non-overlapping layouts inside the unit (central) square, and "twins" (the same
 * scene with one fact changed) for hard negatives.
 */
import { COLORS, SHAPES, RELATIONS, type Background, type Color, type ObjectType, type SceneKind, type SceneObject, type SceneSpec, type Shape } from './grammar.js';
import { chance, intIn, pick, uniform, type Rng } from './rng.js';

export function hsvToRgb(hDeg: number, s: number, v: number): [number, number, number] {
  const h = (((hDeg % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = v - c;
  const [r, g, b] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** Hue, saturation and value ranges per colour name. */
const SHADES: Record<Color, { h: [number, number]; s: [number, number]; v: [number, number] }> = {
  red: { h: [-10, 8], s: [0.65, 1], v: [0.6, 1] },
  green: { h: [95, 145], s: [0.55, 1], v: [0.45, 0.95] },
  blue: { h: [205, 242], s: [0.6, 1], v: [0.55, 1] },
  yellow: { h: [47, 62], s: [0.65, 1], v: [0.85, 1] },
};

export function shadeOf(rng: Rng, color: Color): [number, number, number] {
  const s = SHADES[color];
  return hsvToRgb(uniform(rng, ...s.h), uniform(rng, ...s.s), uniform(rng, ...s.v));
}

export function sampleBackground(rng: Rng): Background {
  const kind = pick(rng, ['plain', 'plain', 'tinted', 'dark', 'striped', 'gradient', 'noise'] as const);
  const light = (): [number, number, number] => hsvToRgb(uniform(rng, 0, 360), uniform(rng, 0, 0.08), uniform(rng, 0.8, 1));
  const tinted = (): [number, number, number] => hsvToRgb(uniform(rng, 0, 360), uniform(rng, 0.08, 0.3), uniform(rng, 0.7, 1));
  const dark = (): [number, number, number] => hsvToRgb(uniform(rng, 0, 360), uniform(rng, 0, 0.3), uniform(rng, 0.12, 0.42));
  const angle = uniform(rng, 0, Math.PI);
  switch (kind) {
    case 'plain':
      return { kind, a: light(), b: light(), param: 0, angle };
    case 'tinted':
      return { kind, a: tinted(), b: tinted(), param: 0, angle };
    case 'dark':
      return { kind, a: dark(), b: dark(), param: 0, angle };
    case 'striped': {
      const base = chance(rng, 0.25) ? dark() : chance(rng, 0.5) ? tinted() : light();
      // Half the time a lighter or darker shade of the base, else a second, independently tinted colour:
      // strong, colourful stripes are what most often fooled the counting skill.
      const d = uniform(rng, 15, 80) * (chance(rng, 0.5) ? 1 : -1);
      const b = chance(rng, 0.5)
        ? (base.map((x) => Math.max(0, Math.min(255, Math.round(x + d)))) as [number, number, number])
        : hsvToRgb(uniform(rng, 0, 360), uniform(rng, 0.1, 0.4), uniform(rng, 0.65, 1));
      const straight = chance(rng, 0.5);
      return { kind, a: base, b, param: uniform(rng, 0.05, 0.25), angle: straight ? pick(rng, [0, Math.PI / 2]) : angle };
    }
    case 'gradient':
      return { kind, a: chance(rng, 0.5) ? tinted() : light(), b: chance(rng, 0.3) ? dark() : tinted(), param: 0, angle: uniform(rng, 0, 2 * Math.PI) };
    case 'noise':
      return { kind, a: chance(rng, 0.3) ? dark() : chance(rng, 0.5) ? tinted() : light(), b: [0, 0, 0], param: uniform(rng, 6, 24), angle };
  }
}

/** Radius of a circle enclosing the object at any rotation. */
export function boundingRadius(o: { shape: Shape; r: number }): number {
  return o.shape === 'circle' ? o.r : o.shape === 'square' ? o.r * Math.SQRT2 : o.r * 1.15;
}

function makeObject(rng: Rng, t: ObjectType, r: number, outline: number): SceneObject {
  return {
    ...t, x: 0.5, y: 0.5, r,
    rot: t.shape === 'circle' ? 0 : uniform(rng, -0.35, 0.35),
    rgb: shadeOf(rng, t.color),
    outline,
  };
}

const MARGIN = 0.03;

/** Places objects at random, non-overlapping, inside the unit square; false if it could not. */
function place(rng: Rng, objs: SceneObject[]): boolean {
  for (let i = 0; i < objs.length; i++) {
    const o = objs[i]!;
    const br = boundingRadius(o);
    let ok = false;
    for (let tries = 0; tries < 200 && !ok; tries++) {
      o.x = uniform(rng, br + MARGIN, 1 - br - MARGIN);
      o.y = uniform(rng, br + MARGIN, 1 - br - MARGIN);
      ok = objs.slice(0, i).every((p) => Math.hypot(p.x - o.x, p.y - o.y) > br + boundingRadius(p) + 0.04);
    }
    if (!ok) return false;
  }
  return true;
}

function randomType(rng: Rng): ObjectType {
  return { color: pick(rng, COLORS), shape: pick(rng, SHAPES) };
}

function outlineOf(rng: Rng): number {
  return chance(rng, 0.15) ? uniform(rng, 0.08, 0.18) : 0;
}

function sampleSingle(rng: Rng): SceneSpec {
  const o = makeObject(rng, randomType(rng), uniform(rng, 0.1, 0.3), outlineOf(rng));
  place(rng, [o]);
  return { kind: 'single', objects: [o], background: sampleBackground(rng) };
}

function sampleCount(rng: Rng, forcedN?: number): SceneSpec {
  for (;;) {
    const t = randomType(rng);
    const n = forcedN ?? intIn(rng, 1, 4);
    // Two thirds of count scenes carry distractors (another colour and shape), up to three of them.
    const distractors = chance(rng, 1 / 3) ? 0 : intIn(rng, 1, 3);
    const total = n + distractors;
    const maxR = total <= 2 ? 0.17 : total <= 4 ? 0.13 : total <= 5 ? 0.1 : 0.09;
    const outline = outlineOf(rng);
    const objs: SceneObject[] = [];
    const mixed = chance(rng, 0.6);
    const base = uniform(rng, 0.05, maxR);
    for (let i = 0; i < n; i++) objs.push(makeObject(rng, t, mixed ? uniform(rng, 0.05, maxR) : base * uniform(rng, 0.95, 1.05), outline));
    for (let i = 0; i < distractors; i++) {
      const d: ObjectType = { color: pick(rng, COLORS.filter((c) => c !== t.color)), shape: pick(rng, SHAPES.filter((s) => s !== t.shape)) };
      objs.push(makeObject(rng, d, uniform(rng, 0.05, maxR), outline));
    }
    if (!place(rng, objs)) continue;
    return { kind: 'count', objects: objs, background: sampleBackground(rng), count: { n, ...t } };
  }
}

function sampleRelation(rng: Rng): SceneSpec {
  const ta = randomType(rng);
  let tb = randomType(rng);
  while (tb.color === ta.color && tb.shape === ta.shape) tb = randomType(rng);
  const outline = outlineOf(rng);
  for (;;) {
    const a = makeObject(rng, ta, uniform(rng, 0.08, 0.2), outline);
    const b = makeObject(rng, tb, uniform(rng, 0.08, 0.2), outline);
    const ra = boundingRadius(a), rb = boundingRadius(b);
    const axis = chance(rng, 0.5) ? 'horizontal' : 'vertical';
    // along the axis: clearly apart; across it: small offset.
    const gap = uniform(rng, 0.08, 0.4);
    const span = ra + rb + gap;
    // P comes first along the axis (left or top), Q second.
    const aFirst = chance(rng, 0.5);
    const rp = aFirst ? ra : rb, rq = aFirst ? rb : ra;
    const lo = rp + MARGIN, hi = 1 - rq - MARGIN - span;
    if (hi < lo) continue;
    const pPos = uniform(rng, lo, hi);
    const along: [number, number] = aFirst ? [pPos, pPos + span] : [pPos + span, pPos];
    const mid = uniform(rng, Math.max(ra, rb) + MARGIN, 1 - Math.max(ra, rb) - MARGIN);
    const off = uniform(rng, -1, 1) * Math.min(0.25 * span, 0.12);
    const acrossA = Math.min(1 - ra - MARGIN, Math.max(ra + MARGIN, mid + off / 2));
    const acrossB = Math.min(1 - rb - MARGIN, Math.max(rb + MARGIN, mid - off / 2));
    if (axis === 'horizontal') {
      [a.x, b.x] = along;
      [a.y, b.y] = [acrossA, acrossB];
    } else {
      [a.y, b.y] = along;
      [a.x, b.x] = [acrossA, acrossB];
    }
    const spec: SceneSpec = { kind: 'relation', objects: [a, b], background: sampleBackground(rng), axis };
    spec.relation = relationFor(rng, spec);
    return spec;
  }
}

/** A true relation between the two objects, in a random wording (which comes first). */
function relationFor(rng: Rng, spec: SceneSpec): { first: 0 | 1; rel: (typeof RELATIONS)[number] } {
  const [a, b] = spec.objects as [SceneObject, SceneObject];
  const first: 0 | 1 = chance(rng, 0.5) ? 0 : 1;
  const p = first === 0 ? a : b, q = first === 0 ? b : a;
  const rel = spec.axis === 'horizontal' ? (p.x < q.x ? 'left' : 'right') : p.y < q.y ? 'above' : 'below';
  return { first, rel };
}

/** A random scene of the given kind. */
export function sampleScene(rng: Rng, kind: SceneKind): SceneSpec {
  return kind === 'single' ? sampleSingle(rng) : kind === 'count' ? sampleCount(rng) : sampleRelation(rng);
}

function clone(spec: SceneSpec): SceneSpec {
  return JSON.parse(JSON.stringify(spec)) as SceneSpec;
}

/**
 * The same scene with one fact changed, for hard negatives: a single object gets
 * another colour or shape; a count scene gains or loses one counted object; a
 * relation scene has its two objects' positions swapped.
 */
export function twinOf(rng: Rng, spec: SceneSpec): SceneSpec {
  const t = clone(spec);
  if (t.kind === 'single') {
    const o = t.objects[0]!;
    if (chance(rng, 0.5)) {
      o.color = pick(rng, COLORS.filter((c) => c !== o.color));
      o.rgb = shadeOf(rng, o.color);
    } else {
      o.shape = pick(rng, SHAPES.filter((s) => s !== o.shape));
      if (o.shape === 'square' && boundingRadius(o) + o.x > 1) o.r *= 0.7;
      o.r = Math.min(o.r, (Math.min(o.x, 1 - o.x, o.y, 1 - o.y) - MARGIN) / (o.shape === 'square' ? Math.SQRT2 : o.shape === 'triangle' ? 1.15 : 1));
    }
    return t;
  }
  if (t.kind === 'count') {
    const c = t.count!;
    const counted = t.objects.slice(0, c.n);
    const rest = t.objects.slice(c.n);
    if ((c.n === 4 || chance(rng, 0.5)) && c.n > 1) {
      counted.splice(intIn(rng, 0, c.n - 1), 1);
      t.objects = [...counted, ...rest];
      c.n -= 1;
      return t;
    }
    // add one: try to fit it among the others, else resample the scene with n + 1.
    for (let tries = 0; tries < 50; tries++) {
      const src = counted[intIn(rng, 0, counted.length - 1)]!;
      const o: SceneObject = { ...src, rgb: [...src.rgb] as [number, number, number], r: src.r * uniform(rng, 0.8, 1.1), rot: src.shape === 'circle' ? 0 : uniform(rng, -0.35, 0.35) };
      const br = boundingRadius(o);
      o.x = uniform(rng, br + MARGIN, 1 - br - MARGIN);
      o.y = uniform(rng, br + MARGIN, 1 - br - MARGIN);
      if (t.objects.every((p) => Math.hypot(p.x - o.x, p.y - o.y) > br + boundingRadius(p) + 0.04)) {
        t.objects = [...counted, o, ...rest];
        c.n += 1;
        return t;
      }
    }
    return sampleCount(rng, c.n + 1);
  }
  // mirror the pair along its axis: same objects and offsets, the relation flips
  for (const o of t.objects) {
    if (t.axis === 'horizontal') o.x = 1 - o.x;
    else o.y = 1 - o.y;
  }
  // the primary caption keeps its wording order and states what now holds
  const p = t.objects[t.relation!.first]!, q = t.objects[1 - t.relation!.first]!;
  t.relation!.rel = t.axis === 'horizontal' ? (p.x < q.x ? 'left' : 'right') : p.y < q.y ? 'above' : 'below';
  return t;
}
