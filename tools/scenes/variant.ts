/**
 * A second, independently written tiny-shapes renderer, used only to estimate how
 * the model does on photos it was not trained on: its own layout sampler (other
 * size ranges and spacing), its own fixed palette (with a little jitter), analytic
 * edge coverage instead of supersampling, unrotated shapes drawn from their own
 * formulas (isosceles triangles, axis-aligned squares), and other backgrounds
 * (checkerboards, high-contrast stripes, vignettes, saturated pastel tints).
 * It describes each scene with the shared caption grammar.
 */
import { alternativesOf, captionOf, COLORS, SHAPES, type Color, type ObjectType, type SceneObject, type SceneSpec, type Shape, type Skill } from './grammar.js';
import { makeRng, chance, pick, uniform, intIn, type Rng } from './rng.js';

const PALETTE: Record<Color, [number, number, number]> = {
  red: [228, 26, 28],
  green: [44, 160, 44],
  blue: [31, 90, 220],
  yellow: [250, 210, 20],
};

interface VObj { t: ObjectType; cx: number; cy: number; half: number; rgb: [number, number, number] }

export interface VariantScene {
  skill: Skill;
  caption: string;
  alternatives: string[];
  rgb: Uint8Array;
  width: number;
  height: number;
}

function cov(d: number): number {
  return Math.max(0, Math.min(1, 0.5 - d));
}

/** Signed distance in pixels (approximate outside) for the variant's shapes. */
function dist(o: VObj, x: number, y: number): number {
  const dx = x - o.cx, dy = y - o.cy, h = o.half;
  if (o.t.shape === 'circle') return Math.hypot(dx, dy) - h;
  if (o.t.shape === 'square') {
    const qx = Math.abs(dx) - h * 0.9, qy = Math.abs(dy) - h * 0.9;
    return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
  }
  // isosceles triangle: apex (0, -h), base from (-h, h) to (h, h)
  const base = dy - h;
  const side = (2 * Math.abs(dx) - dy - h) / Math.sqrt(5);
  return Math.max(base, side);
}

function jitter(rng: Rng, c: [number, number, number], amount: number): [number, number, number] {
  const f = uniform(rng, 1 - amount, 1 + amount * 0.3);
  return c.map((v) => Math.max(0, Math.min(255, v * f))) as [number, number, number];
}

function background(rng: Rng, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  const style = pick(rng, ['white', 'pastel', 'dark', 'checker', 'stripes', 'vignette'] as const);
  const pastel: [number, number, number] = [uniform(rng, 170, 255), uniform(rng, 170, 255), uniform(rng, 170, 255)];
  const darkc: [number, number, number] = [uniform(rng, 20, 90), uniform(rng, 20, 90), uniform(rng, 20, 90)];
  const cell = intIn(rng, 4, 12);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let c: number[];
    switch (style) {
      case 'white': c = [250, 250, 248]; break;
      case 'pastel': c = pastel; break;
      case 'dark': c = darkc; break;
      case 'checker': c = ((Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? [235, 235, 235] : [200, 200, 205]); break;
      case 'stripes': c = Math.floor((x + y) / cell) % 2 ? pastel : [255, 255, 255]; break;
      case 'vignette': {
        const r = Math.hypot(x / w - 0.5, y / h - 0.5) * 1.6;
        c = pastel.map((v) => v * (1 - 0.6 * r));
        break;
      }
    }
    const i = (y * w + x) * 3;
    out[i] = c[0]!; out[i + 1] = c[1]!; out[i + 2] = c[2]!;
  }
  return out;
}

/** Renders one variant scene for a skill at a (usually non-square) size. */
export function variantScene(seed: number, skill: Skill, width: number, height: number): VariantScene {
  const rng = makeRng(seed ^ 0x5eed);
  const side = Math.min(width, height);
  const ox = (width - side) / 2, oy = (height - side) / 2;
  const objs: VObj[] = [];
  const fits = (cx: number, cy: number, half: number) =>
    cx - half * 1.5 > ox + 2 && cx + half * 1.5 < ox + side - 2 && cy - half * 1.5 > oy + 2 && cy + half * 1.5 < oy + side - 2 &&
    objs.every((o) => Math.hypot(o.cx - cx, o.cy - cy) > (o.half + half) * 1.5 + 2);
  const put = (t: ObjectType, half: number): VObj => {
    for (let k = 0; k < 500; k++) {
      const cx = uniform(rng, ox, ox + side), cy = uniform(rng, oy, oy + side);
      if (fits(cx, cy, half)) {
        const o = { t, cx, cy, half, rgb: jitter(rng, PALETTE[t.color], 0.15) };
        objs.push(o);
        return o;
      }
    }
    return put(t, half * 0.85);
  };
  const t: ObjectType = { color: pick(rng, COLORS), shape: pick(rng, SHAPES) };
  const spec: SceneSpec = { kind: 'single', objects: [], background: { kind: 'plain', a: [0, 0, 0], b: [0, 0, 0], param: 0, angle: 0 } };
  const asObject = (o: VObj): SceneObject => ({ ...o.t, x: (o.cx - ox) / side, y: (o.cy - oy) / side, r: o.half / side, rot: 0, rgb: o.rgb, outline: 0 });
  if (skill === 'color' || skill === 'shape') {
    spec.objects = [asObject(put(t, side * uniform(rng, 0.12, 0.28)))];
  } else if (skill === 'count') {
    const n = intIn(rng, 1, 4);
    for (let i = 0; i < n; i++) put(t, side * uniform(rng, 0.055, 0.12));
    const d = intIn(rng, 0, 2);
    for (let i = 0; i < d; i++) {
      const dt: ObjectType = { color: pick(rng, COLORS.filter((c) => c !== t.color)), shape: pick(rng, SHAPES.filter((s) => s !== t.shape)) as Shape };
      put(dt, side * uniform(rng, 0.055, 0.12));
    }
    spec.kind = 'count';
    spec.count = { n, ...t };
    spec.objects = objs.map(asObject);
  } else {
    let u: ObjectType = { color: pick(rng, COLORS), shape: pick(rng, SHAPES) };
    while (u.color === t.color && u.shape === t.shape) u = { color: pick(rng, COLORS), shape: pick(rng, SHAPES) };
    const horizontal = chance(rng, 0.5);
    const ha = side * uniform(rng, 0.09, 0.16), hb = side * uniform(rng, 0.09, 0.16);
    const along = [uniform(rng, 0.2, 0.3), uniform(rng, 0.7, 0.8)].map((f) => f * side);
    if (chance(rng, 0.5)) along.reverse();
    const across = side * uniform(rng, 0.35, 0.65);
    const off = side * uniform(rng, -0.06, 0.06);
    const place = (tt: ObjectType, a: number, c: number, half: number) => {
      const o: VObj = { t: tt, cx: ox + (horizontal ? a : c), cy: oy + (horizontal ? c : a), half, rgb: jitter(rng, PALETTE[tt.color], 0.15) };
      objs.push(o);
      return o;
    };
    const A = place(t, along[0]!, across + off, ha), B = place(u, along[1]!, across - off, hb);
    spec.kind = 'relation';
    spec.axis = horizontal ? 'horizontal' : 'vertical';
    spec.objects = [asObject(A), asObject(B)];
    const first: 0 | 1 = chance(rng, 0.5) ? 0 : 1;
    const p = spec.objects[first]!, q = spec.objects[1 - first]!;
    spec.relation = { first, rel: horizontal ? (p.x < q.x ? 'left' : 'right') : p.y < q.y ? 'above' : 'below' };
  }
  const buf = background(rng, width, height);
  for (const o of objs) {
    const x0 = Math.max(0, Math.floor(o.cx - o.half * 1.3)), x1 = Math.min(width - 1, Math.ceil(o.cx + o.half * 1.3));
    const y0 = Math.max(0, Math.floor(o.cy - o.half * 1.3)), y1 = Math.min(height - 1, Math.ceil(o.cy + o.half * 1.3));
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
      const a = cov(dist(o, x + 0.5, y + 0.5));
      if (a <= 0) continue;
      const i = (y * width + x) * 3;
      for (let k = 0; k < 3; k++) buf[i + k] = buf[i + k]! * (1 - a) + o.rgb[k]! * a;
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.round(Math.max(0, Math.min(255, buf[i]!)));
  return { skill, caption: captionOf(spec), alternatives: alternativesOf(spec, skill), rgb, width, height };
}
