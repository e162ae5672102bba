import { fromFloat16Bits } from '../util/float16.js';

/**
 * A dense n-dimensional array kept as raw little-endian bytes, the way docarray
 * ships tensors on the wire. Keeping the bytes (not a converted copy) makes proto
 * round trips lossless for every dtype, including ones JS has no array type for.
 */
export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray
  | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** numpy dtype strings we can view as a typed array, with their element size. */
const DTYPES: Record<string, { size: number; view?: new (b: ArrayBuffer, o: number, n: number) => TypedArray }> = {
  '<f4': { size: 4, view: Float32Array },
  '<f8': { size: 8, view: Float64Array },
  '<f2': { size: 2 },
  '|i1': { size: 1, view: Int8Array },
  '|u1': { size: 1, view: Uint8Array },
  '<i2': { size: 2, view: Int16Array },
  '<u2': { size: 2, view: Uint16Array },
  '<i4': { size: 4, view: Int32Array },
  '<u4': { size: 4, view: Uint32Array },
  '<i8': { size: 8, view: BigInt64Array },
  '<u8': { size: 8, view: BigUint64Array },
  '|b1': { size: 1, view: Uint8Array },
};

/** Aliases numpy and users write for the canonical strings above. */
const ALIASES: Record<string, string> = {
  float32: '<f4', float64: '<f8', float16: '<f2', int8: '|i1', uint8: '|u1', int16: '<i2',
  uint16: '<u2', int32: '<i4', uint32: '<u4', int64: '<i8', uint64: '<u8', bool: '|b1',
  '=f4': '<f4', '=f8': '<f8', '<i1': '|i1', '<u1': '|u1', '=i4': '<i4', '=i8': '<i8', f4: '<f4', f8: '<f8',
};

export function canonicalDtype(dtype: string): string {
  return ALIASES[dtype] ?? dtype;
}

function dtypeOf(arr: TypedArray): string {
  if (arr instanceof Float32Array) return '<f4';
  if (arr instanceof Float64Array) return '<f8';
  if (arr instanceof Int8Array) return '|i1';
  if (arr instanceof Uint8Array || arr instanceof Uint8ClampedArray) return '|u1';
  if (arr instanceof Int16Array) return '<i2';
  if (arr instanceof Uint16Array) return '<u2';
  if (arr instanceof Int32Array) return '<i4';
  if (arr instanceof Uint32Array) return '<u4';
  if (arr instanceof BigInt64Array) return '<i8';
  return '<u8';
}

export class NdArray {
  constructor(
    /** Little-endian element bytes, row-major. */
    readonly buffer: Uint8Array,
    readonly shape: number[],
    /** numpy dtype string, e.g. `<f4`, `|u1`. */
    readonly dtype: string,
  ) {}

  /** Wraps a typed array (no copy) with a shape; shape defaults to 1-D. */
  static from(data: TypedArray, shape: number[] = [data.length]): NdArray {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return new NdArray(bytes, shape, dtypeOf(data));
  }

  /** Builds a float32 or given-dtype array from nested JS number lists (JSON input). */
  static fromNested(value: unknown, dtype = '<f4'): NdArray {
    const shape: number[] = [];
    let probe: unknown = value;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      probe = probe[0];
    }
    const expected = shape.reduce((a, b) => a * b, 1);
    // Counting leaves is not enough: [[1], [2, 3], []] has the 3 values shape [3, 1]
    // asks for. Every list at depth k must have length shape[k], leaves at the bottom.
    const flat: unknown[] = [];
    const walk = (v: unknown, dim: number, at: string): void => {
      if (dim === shape.length) {
        if (Array.isArray(v)) throw new TypeError(`ragged nested list: ${at} is a list where shape ${JSON.stringify(shape)} expects a number`);
        if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`array values must be numbers, got ${v === null ? 'null' : typeof v} at ${at}`);
        flat.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[dim]) {
        throw new TypeError(`ragged nested list: shape ${JSON.stringify(shape)} needs ${expected} values; ${at} has ${Array.isArray(v) ? `${v.length} items, not ${shape[dim]}` : 'a number where a list is expected'}`);
      }
      for (let i = 0; i < v.length; i++) walk(v[i], dim + 1, `${at}[${i}]`);
    };
    walk(value, 0, 'value');
    const canon = canonicalDtype(dtype);
    const info = DTYPES[canon];
    if (!info?.view) throw new TypeError(`unsupported dtype for list input: ${dtype}`);
    const out = new info.view(new ArrayBuffer(expected * info.size), 0, expected);
    const isBig = out instanceof BigInt64Array || out instanceof BigUint64Array;
    flat.forEach((v, i) => { (out as unknown as unknown[])[i] = isBig ? BigInt(Math.trunc(Number(v))) : Number(v); });
    // Not NdArray.from: that names the dtype after the view, and '|b1' is viewed as Uint8Array.
    return new NdArray(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), shape, canon);
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** A typed-array view of the data (copied only when the bytes are unaligned). */
  toTypedArray(): TypedArray {
    const info = DTYPES[canonicalDtype(this.dtype)];
    if (!info) throw new TypeError(`unsupported dtype ${this.dtype}`);
    const n = this.buffer.byteLength / info.size;
    if (!Number.isInteger(n)) throw new TypeError(`buffer of ${this.buffer.byteLength} bytes is not a whole number of ${this.dtype} elements`);
    if (!info.view) return float16ToFloat32(this.buffer);
    if (this.buffer.byteOffset % info.size === 0) return new info.view(this.buffer.buffer as ArrayBuffer, this.buffer.byteOffset, n);
    // Copy via the Uint8Array constructor: on a Node Buffer (what protobufjs and grpc-js
    // hand us) `.slice()` is a view into the shared pool, not a copy.
    return new info.view(new Uint8Array(this.buffer).buffer as ArrayBuffer, 0, n);
  }

  /** Values as float32, converting from any numeric dtype. */
  toFloat32(): Float32Array {
    const t = this.toTypedArray();
    if (t instanceof Float32Array) return t;
    const out = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) out[i] = Number(t[i]);
    return out;
  }

  /** Nested JS lists, as Jina's HTTP JSON carries tensors. */
  toNested(): unknown {
    const flat = Array.from(this.toTypedArray() as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
    if (flat.length !== this.size) throw new TypeError(`shape ${JSON.stringify(this.shape)} needs ${this.size} values, the buffer holds ${flat.length}`);
    if (canonicalDtype(this.dtype) === '|b1') flat.forEach((v, i) => { (flat as unknown[])[i] = v !== 0; });
    const build = (offset: number, dim: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(offset + i * stride, dim + 1));
    };
    return this.shape.length === 0 ? flat[0] : build(0, 0);
  }
}

/** Reads little-endian float16 bytes (any alignment) as float32. */
function float16ToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const bits = new Uint16Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true);
  return fromFloat16Bits(bits);
}
