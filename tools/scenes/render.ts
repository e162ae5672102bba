/**
 * Pure-TypeScript rasteriser of tiny-shapes scenes. Objects live in the unit
 * coordinates of the photo's central square (side = the short side), so CLIP's
 * resize + center crop always keeps them; the background covers the whole photo.
 * Anti-aliasing: pixels within about a pixel of an edge are supersampled 4x4.
 */
import type { Background, SceneObject, SceneSpec } from './grammar.js';
import { boundingRadius } from './sample.js';
import { makeRng } from './rng.js';

export interface RenderOptions {
  width: number;
  height: number;
  /** Seeds the background noise. */
  seed?: number;
}

export interface RenderedScene {
  /** Interleaved RGB, row-major, width * height * 3 bytes. */
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * Signed distance (unit coordinates) from (px, py) to the object's outline:
 * negative inside. Exact inside; outside a lower bound of the true distance,
 * which is all the edge test needs.
 */
export function signedDistance(o: SceneObject, px: number, py: number): number {
  const dx = px - o.x, dy = py - o.y;
  if (o.shape === 'circle') return Math.hypot(dx, dy) - o.r;
  const c = Math.cos(-o.rot), s = Math.sin(-o.rot);
  const x = dx * c - dy * s, y = dx * s + dy * c;
  if (o.shape === 'square') return Math.max(Math.abs(x), Math.abs(y)) - o.r;
  // equilateral triangle, apex up (y down), circumradius R, inradius R / 2
  const R = o.r * 1.15, inr = R / 2;
  const e1 = y - inr; // bottom edge
  const e2 = -0.8660254 * x - 0.5 * y - inr; // upper left edge
  const e3 = 0.8660254 * x - 0.5 * y - inr; // upper right edge
  return Math.max(e1, e2, e3);
}

function backgroundAt(bg: Background, u: number, v: number, out: Float64Array, noise: () => number): void {
  const { a, b } = bg;
  switch (bg.kind) {
    case 'plain':
    case 'tinted':
    case 'dark':
      out[0] = a[0]; out[1] = a[1]; out[2] = a[2];
      return;
    case 'striped': {
      const t = u * Math.cos(bg.angle) + v * Math.sin(bg.angle);
      const phase = (t / bg.param) % 1;
      const c = (phase < 0 ? phase + 1 : phase) < 0.5 ? a : b;
      out[0] = c[0]; out[1] = c[1]; out[2] = c[2];
      return;
    }
    case 'gradient': {
      const t = Math.min(1, Math.max(0, 0.5 + 0.6 * ((u - 0.5) * Math.cos(bg.angle) + (v - 0.5) * Math.sin(bg.angle))));
      for (let k = 0; k < 3; k++) out[k] = a[k]! + (b[k]! - a[k]!) * t;
      return;
    }
    case 'noise': {
      const n = (noise() - 0.5) * 2 * bg.param;
      for (let k = 0; k < 3; k++) out[k] = a[k]! + n + (noise() - 0.5) * bg.param * 0.5;
      return;
    }
  }
}

const SUB = 4;

/** Renders a scene to RGB bytes at the given size. */
export function renderScene(spec: SceneSpec, opts: RenderOptions): RenderedScene {
  const { width, height } = opts;
  const side = Math.min(width, height);
  const x0 = (width - side) / 2, y0 = (height - side) / 2;
  const buf = new Float64Array(width * height * 3);
  const noise = makeRng(opts.seed ?? 0).next;
  const px = new Float64Array(3);
  // background: unit coordinates relative to the central square (may exceed 0..1)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      backgroundAt(spec.background, (x + 0.5 - x0) / side, (y + 0.5 - y0) / side, px, noise);
      const i = (y * width + x) * 3;
      buf[i] = px[0]!; buf[i + 1] = px[1]!; buf[i + 2] = px[2]!;
    }
  }
  const pixel = 1 / side;
  for (const o of spec.objects) {
    const br = boundingRadius(o) * 1.2;
    const xa = Math.max(0, Math.floor(x0 + (o.x - br) * side) - 1), xb = Math.min(width - 1, Math.ceil(x0 + (o.x + br) * side) + 1);
    const ya = Math.max(0, Math.floor(y0 + (o.y - br) * side) - 1), yb = Math.min(height - 1, Math.ceil(y0 + (o.y + br) * side) + 1);
    const ow = o.outline * o.r;
    const dark = o.rgb.map((c) => c * 0.25);
    for (let y = ya; y <= yb; y++) {
      for (let x = xa; x <= xb; x++) {
        const u = (x + 0.5 - x0) / side, v = (y + 0.5 - y0) / side;
        const d = signedDistance(o, u, v);
        if (d > 0.75 * pixel) continue;
        let cover = 0, line = 0;
        if (d < -0.75 * pixel - ow || (ow === 0 && d < -0.75 * pixel)) {
          cover = 1;
        } else {
          for (let sy = 0; sy < SUB; sy++) {
            for (let sx = 0; sx < SUB; sx++) {
              const ds = signedDistance(o, (x + (sx + 0.5) / SUB - x0) / side, (y + (sy + 0.5) / SUB - y0) / side);
              if (ds <= 0) {
                if (ds > -ow) line++;
                else cover++;
              }
            }
          }
          cover /= SUB * SUB;
          line /= SUB * SUB;
        }
        const i = (y * width + x) * 3;
        const rest = 1 - cover - line;
        for (let k = 0; k < 3; k++) buf[i + k] = buf[i + k]! * rest + o.rgb[k]! * cover + dark[k]! * line;
      }
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.max(0, Math.min(255, Math.round(buf[i]!)));
  return { rgb, width, height };
}
