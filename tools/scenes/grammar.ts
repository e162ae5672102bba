/**
 * The tiny-shapes world and its caption grammar.
 *
 * Captions (the grammar is closed; {@link grammar} lists every caption):
 * - object:   "a photo of a red circle"            (single-object scenes)
 * - count:    "a photo of one red circle", "a photo of three blue squares"
 *             (number words one..four; "one" keeps the singular, 2+ the plural)
 * - relation: "the red circle is on the left of the blue square",
 *             "... is on the right of ...", "... is above ...", "... is below ..."
 *             (the two objects differ in colour, shape or both)
 *
 * A single-object scene is described with "a"; the same scene is also a valid
 * "one ..." count scene. {@link truthOf} says which captions hold for a scene:
 * 1 true, 0 false, -1 ambiguous (not used as a positive nor as a negative).
 */
export const COLORS = ['red', 'green', 'blue', 'yellow'] as const;
export const SHAPES = ['circle', 'square', 'triangle'] as const;
export const COUNT_WORDS = ['one', 'two', 'three', 'four'] as const;
export const RELATIONS = ['left', 'right', 'above', 'below'] as const;

export type Color = (typeof COLORS)[number];
export type Shape = (typeof SHAPES)[number];
export type Relation = (typeof RELATIONS)[number];
export type SceneKind = 'single' | 'count' | 'relation';
export type Skill = 'color' | 'shape' | 'count' | 'spatial';

export interface ObjectType {
  color: Color;
  shape: Shape;
}

/** One object, in the unit coordinates of the photo's central square (y down). */
export interface SceneObject extends ObjectType {
  x: number;
  y: number;
  /** Size: circle radius; square half side; triangle circumradius is 1.15 r. */
  r: number;
  /** Rotation in radians (squares and triangles). */
  rot: number;
  /** The object's own shade of its colour, 0..255. */
  rgb: [number, number, number];
  /** Dark outline width as a fraction of r, 0 for none. */
  outline: number;
}

export type BackgroundKind = 'plain' | 'tinted' | 'dark' | 'striped' | 'gradient' | 'noise';

export interface Background {
  kind: BackgroundKind;
  a: [number, number, number];
  b: [number, number, number];
  /** Stripe period in central-square units, or noise amplitude (0..255). */
  param: number;
  /** Stripe / gradient direction in radians. */
  angle: number;
}

export interface SceneSpec {
  kind: SceneKind;
  objects: SceneObject[];
  background: Background;
  /** Count scenes: the counted type and how many (the first `n` objects). */
  count?: { n: number; color: Color; shape: Shape };
  /** Relation scenes: objects[0] and objects[1], arranged along one axis. */
  axis?: 'horizontal' | 'vertical';
  /** The relation the primary caption states: objects[first] `rel` objects[1 - first]. */
  relation?: { first: 0 | 1; rel: Relation };
}

export type Caption =
  | { type: 'object'; color: Color; shape: Shape }
  | { type: 'count'; n: number; color: Color; shape: Shape }
  | { type: 'relation'; a: ObjectType; rel: Relation; b: ObjectType };

const PLURAL: Record<Shape, string> = { circle: 'circles', square: 'squares', triangle: 'triangles' };

export function captionText(c: Caption): string {
  switch (c.type) {
    case 'object':
      return `a photo of a ${c.color} ${c.shape}`;
    case 'count':
      return `a photo of ${COUNT_WORDS[c.n - 1]} ${c.color} ${c.n === 1 ? c.shape : PLURAL[c.shape]}`;
    case 'relation': {
      const phrase = c.rel === 'left' ? 'is on the left of' : c.rel === 'right' ? 'is on the right of' : c.rel === 'above' ? 'is above' : 'is below';
      return `the ${c.a.color} ${c.a.shape} ${phrase} the ${c.b.color} ${c.b.shape}`;
    }
  }
}

/** Every caption of the grammar, in a fixed order (12 object + 48 count + 528 relation). */
export function grammar(): Caption[] {
  const out: Caption[] = [];
  const types: ObjectType[] = COLORS.flatMap((color) => SHAPES.map((shape) => ({ color, shape })));
  for (const t of types) out.push({ type: 'object', ...t });
  for (const t of types) for (let n = 1; n <= 4; n++) out.push({ type: 'count', n, ...t });
  for (const a of types) for (const b of types) {
    if (a.color === b.color && a.shape === b.shape) continue;
    for (const rel of RELATIONS) out.push({ type: 'relation', a, rel, b });
  }
  return out;
}

const OPPOSITE: Record<Relation, Relation> = { left: 'right', right: 'left', above: 'below', below: 'above' };

function typeOf(o: ObjectType): ObjectType {
  return { color: o.color, shape: o.shape };
}

function same(a: ObjectType, b: ObjectType): boolean {
  return a.color === b.color && a.shape === b.shape;
}

/** The caption a scene is generated for. */
export function primaryCaption(spec: SceneSpec): Caption {
  if (spec.kind === 'single') return { type: 'object', ...typeOf(spec.objects[0]!) };
  if (spec.kind === 'count') return { type: 'count', ...spec.count! };
  const first = spec.relation!.first;
  return { type: 'relation', a: typeOf(spec.objects[first]!), rel: spec.relation!.rel, b: typeOf(spec.objects[1 - first]!) };
}

export function captionOf(spec: SceneSpec): string {
  return captionText(primaryCaption(spec));
}

/** Wrong captions for one skill: other colours, shapes, counts, or the swapped relation. */
export function alternativesOf(spec: SceneSpec, skill: Skill): string[] {
  const p = primaryCaption(spec);
  if (skill === 'color' || skill === 'shape') {
    if (p.type !== 'object') throw new Error(`${skill} alternatives need a single-object scene, got ${spec.kind}`);
    return skill === 'color'
      ? COLORS.filter((c) => c !== p.color).map((color) => captionText({ ...p, color }))
      : SHAPES.filter((s) => s !== p.shape).map((shape) => captionText({ ...p, shape }));
  }
  if (skill === 'count') {
    if (p.type !== 'count') throw new Error(`count alternatives need a count scene, got ${spec.kind}`);
    return [1, 2, 3, 4].filter((n) => n !== p.n).map((n) => captionText({ ...p, n }));
  }
  if (p.type !== 'relation') throw new Error(`spatial alternatives need a relation scene, got ${spec.kind}`);
  return [captionText({ ...p, rel: OPPOSITE[p.rel] }), captionText({ ...p, a: p.b, b: p.a })];
}

/** Does relation `rel` hold for a relative to b in this arrangement? */
function relationHolds(a: SceneObject, b: SceneObject, axis: 'horizontal' | 'vertical', rel: Relation): boolean {
  if (axis === 'horizontal') return rel === 'left' ? a.x < b.x : rel === 'right' ? a.x > b.x : false;
  return rel === 'above' ? a.y < b.y : rel === 'below' ? a.y > b.y : false;
}

/** 1 if the caption holds for the scene, 0 if it does not, -1 if it is ambiguous (ignored in training). */
export function truthOf(spec: SceneSpec, c: Caption): 1 | 0 | -1 {
  const objs = spec.objects;
  if (c.type === 'object') {
    const has = objs.some((o) => same(o, c));
    if (!has) return 0;
    return spec.kind === 'single' ? 1 : -1;
  }
  if (c.type === 'count') {
    const k = objs.filter((o) => same(o, c)).length;
    if (k !== c.n) return 0;
    return spec.kind === 'relation' ? -1 : 1;
  }
  const a = objs.find((o) => same(o, c.a));
  const b = objs.find((o) => same(o, c.b));
  if (!a || !b) return 0;
  if (spec.kind !== 'relation') return -1;
  return relationHolds(a, b, spec.axis!, c.rel) ? 1 : 0;
}
