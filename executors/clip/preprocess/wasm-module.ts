/**
 * A minimal WebAssembly binary writer: just what resample-simd.ts,
 * normalise-simd.ts and png-unfilter-simd.ts need to emit their kernels (i32
 * locals and params, v128 locals, one exported memory, structured loops, core
 * i32 and a few SIMD instructions). Emitting the bytes from TypeScript keeps the
 * build free of a wasm toolchain, like the ONNX graphs the model generator writes.
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;

/** SIMD opcodes used (after the 0xfd prefix), from the WebAssembly SIMD binary encoding. */
export const Simd = {
  load: 0x00,
  load8x8U: 0x02,
  store: 0x0b,
  const: 0x0c,
  i32x4Splat: 0x11,
  i8x16NarrowI16x8U: 0x66,
  i16x8NarrowI32x4S: 0x85,
  i16x8ExtendLowI8x16U: 0x89,
  i16x8ExtendHighI8x16U: 0x8a,
  i32x4ExtendLowI16x8U: 0xa9,
  i32x4ExtendHighI16x8U: 0xaa,
  i32x4ShrS: 0xac,
  i32x4Add: 0xae,
  i32x4Mul: 0xb5,
  store32Lane: 0x5a,
  i8x16Swizzle: 0x0e,
  f32x4Splat: 0x13,
  v128Or: 0x50,
  f32x4Sub: 0xe5,
  f32x4Div: 0xe7,
  f32x4ConvertI32x4U: 0xfb,
  load32Zero: 0x5c,
  i16x8LeS: 0x33,
  v128And: 0x4e,
  v128Bitselect: 0x52,
  i16x8Abs: 0x80,
  i16x8ShrU: 0x8d,
  i16x8Add: 0x8e,
  i16x8Sub: 0x91,
} as const;

/** A function body under construction: locals are numbered after the params. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: number[] = [];

  constructor(readonly params: number) {}

  /** A new i32 local; returns its index. */
  i32(): number {
    this.locals.push(I32);
    return this.params + this.locals.length - 1;
  }

  /** A new v128 local; returns its index. */
  v128(): number {
    this.locals.push(V128);
    return this.params + this.locals.length - 1;
  }

  get(i: number): this {
    return this.op(0x20, ...uleb(i));
  }

  set(i: number): this {
    return this.op(0x21, ...uleb(i));
  }

  const(v: number): this {
    return this.op(0x41, ...sleb(v | 0));
  }

  add(): this {
    return this.op(0x6a);
  }

  sub(): this {
    return this.op(0x6b);
  }

  mul(): this {
    return this.op(0x6c);
  }

  /** i32.eq */
  eq(): this {
    return this.op(0x46);
  }

  /** `if (top of stack) { body }` */
  if(body: () => void): this {
    this.op(0x04, 0x40);
    body();
    return this.op(0x0b);
  }

  /** i32.lt_s */
  lt(): this {
    return this.op(0x48);
  }

  /** i32.ge_s */
  ge(): this {
    return this.op(0x4e);
  }

  /** select: [a, b, cond] -> cond ? a : b */
  select(): this {
    return this.op(0x1b);
  }

  /** i32.load with 4-byte alignment. */
  load(): this {
    return this.op(0x28, 2, 0);
  }

  /** local += step */
  inc(i: number, step: number | (() => void)): this {
    this.get(i);
    if (typeof step === 'number') this.const(step);
    else step();
    return this.add().set(i);
  }

  simd(op: number, ...immediates: number[]): this {
    return this.op(0xfd, ...uleb(op), ...immediates);
  }

  /** `for (; local < limit; ) { body }`: the limit is pushed by `limit`, re-evaluated each turn. */
  loopWhileLess(local: number, limit: () => void, body: () => void): this {
    this.op(0x02, 0x40); // block
    this.op(0x03, 0x40); // loop
    this.get(local);
    limit();
    this.ge().op(0x0d, 1); // br_if to the block's end
    body();
    this.op(0x0c, 0); // br to the loop's start
    this.op(0x0b, 0x0b); // end loop, end block
    return this;
  }

  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  /** The code section entry: size, local declarations (runs of one type), body, end. */
  encode(): number[] {
    const runs: Array<[count: number, type: number]> = [];
    for (const type of this.locals) {
      const last = runs[runs.length - 1];
      if (last && last[1] === type) last[0]++;
      else runs.push([1, type]);
    }
    const body = [...uleb(runs.length), ...runs.flatMap(([count, type]) => [...uleb(count), type]), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

function section(id: number, payload: number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...uleb(bytes.length), ...bytes];
}

/** A module with one memory (exported as `memory`) and the given exported functions (all params i32, no results). */
export function moduleBytes(functions: Array<{ name: string; fn: FunctionBuilder }>): Uint8Array {
  const types = functions.flatMap(({ fn }) => [0x60, ...uleb(fn.params), ...new Array<number>(fn.params).fill(I32), 0]);
  const exports = [
    ...name('memory'), 0x02, 0,
    ...functions.flatMap(({ name: n }, i) => [...name(n), 0x00, ...uleb(i)]),
  ];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(functions.length), ...types]),
    ...section(3, [...uleb(functions.length), ...functions.flatMap((_, i) => uleb(i))]),
    ...section(5, [1, 0x00, 1]),
    ...section(7, [...uleb(functions.length + 1), ...exports]),
    ...section(10, [...uleb(functions.length), ...functions.flatMap(({ fn }) => fn.encode())]),
  ]);
}

// The few WebAssembly JS-API shapes used here (this project's type libraries do not declare them).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
};

/** A module's exported memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * Compiles and instantiates a module of these functions, once per thread (module
 * scope); undefined where the engine cannot (no SIMD), so callers keep a fallback.
 */
export function instantiate<T>(functions: Array<{ name: string; fn: FunctionBuilder }>): (T & { memory: WasmMemory }) | undefined {
  try {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes(functions)), {});
    return exports as T & { memory: WasmMemory };
  } catch {
    return undefined;
  }
}

/** Grows `memory` to at least `bytes`; returns a view of all of it (growing detaches older views). */
export function heapOf(memory: WasmMemory, bytes: number): Uint8Array {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / 65536));
  return new Uint8Array(memory.buffer);
}
