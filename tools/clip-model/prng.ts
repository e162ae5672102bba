// Deterministic pseudo-random numbers for weights. Each tensor gets its own
// stream keyed by (seed, tensor name), so a tensor's values never depend on
// which other tensors were generated before it: graphs can be written in any
// order, tensors regenerated on demand, and presets extended, without
// changing the weights that already exist.

/** FNV-1a over the UTF-16 code units of `text`; a cheap, stable 32-bit key. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** splitmix32 step, used only to spread a seed over the generator's state. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) >>> 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A small fast generator (sfc32: 128-bit state with a counter, so no stream
 * repeats within 2^32 draws; statistically far better than weight init
 * needs) with normals by Marsaglia's polar method.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  /** A stream for `seed`, optionally split by a string key (a tensor name). */
  constructor(seed: number, key = '') {
    const st = { s: (seed >>> 0) ^ fnv1a(key) };
    this.a = splitmix32(st) | 0;
    this.b = splitmix32(st) | 0;
    this.c = splitmix32(st) | 0;
    for (let i = 0; i < 12; i++) this.nextInt32(); // discard the warm-up outputs
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    return this.nextInt32() >>> 0;
  }

  // The state stays in int32 (`| 0`) rather than uint32 (`>>> 0`): V8 keeps
  // int32 values unboxed, which makes this several times faster, and the
  // bits are the same.
  private nextInt32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t;
  }

  /** Uniform in the open interval (0, 1), so its log is always finite. */
  uniform(): number {
    return ((this.nextInt32() >>> 0) + 0.5) / 4294967296;
  }

  /** One standard normal value (float32 precision; the pair's second value is dropped). */
  normal(): number {
    return this.normalArray(2, 0, 1)[0]!;
  }

  /** `count` values from N(mean, std²) as float32. */
  normalArray(count: number, mean: number, std: number): Float32Array {
    const out = new Float32Array(count);
    // Marsaglia's polar method, pairs written inline: this is the hot loop of
    // model generation, and it avoids Box–Muller's cos/sin.
    let i = 0;
    while (i + 1 < count) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = std * Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = mean + u * f;
      out[i++] = mean + v * f;
    }
    if (i < count) out[i] = mean + std * this.normal();
    return out;
  }
}
