import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NdArray, canonicalDtype, type TypedArray } from '../../../../core/document/ndarray.js';

type Ctor = new (values: ArrayLike<number> & ArrayLike<bigint>) => TypedArray;
const TABLE: Array<[string, Ctor, Array<number | bigint>]> = [
  ['<f4', Float32Array as unknown as Ctor, [1.5, -2.25, 3e-8]],
  ['<f8', Float64Array as unknown as Ctor, [Math.PI, -1e300, 5e-324]],
  ['|i1', Int8Array as unknown as Ctor, [-128, 0, 127]],
  ['|u1', Uint8Array as unknown as Ctor, [0, 128, 255]],
  ['<i2', Int16Array as unknown as Ctor, [-32768, 1, 32767]],
  ['<u2', Uint16Array as unknown as Ctor, [0, 65535, 258]],
  ['<i4', Int32Array as unknown as Ctor, [-(2 ** 31), 7, 2 ** 31 - 1]],
  ['<u4', Uint32Array as unknown as Ctor, [0, 2 ** 32 - 1, 65536]],
  ['<i8', BigInt64Array as unknown as Ctor, [-(2n ** 63n), 1n, 2n ** 63n - 1n]],
  ['<u8', BigUint64Array as unknown as Ctor, [0n, 2n ** 64n - 1n, 2n ** 40n]],
];

/** Little-endian float16 bytes from raw 16-bit patterns. */
function f16(...bits: number[]): Uint8Array {
  const out = new Uint8Array(bits.length * 2);
  bits.forEach((b, i) => { out[i * 2] = b & 0xff; out[i * 2 + 1] = b >> 8; });
  return out;
}

describe('NdArray', () => {
  describe('from / toTypedArray round trips every dtype', () => {
    for (const [dtype, Ctor, values] of TABLE) {
      it(dtype, () => {
        const src = new Ctor(values as never);
        const arr = NdArray.from(src);
        assert.equal(arr.dtype, dtype);
        assert.deepEqual(arr.shape, [3]);
        assert.equal(arr.buffer.byteLength, src.byteLength);
        // No copy: the NdArray views the typed array's memory.
        assert.equal(arr.buffer.buffer, src.buffer);
        const back = arr.toTypedArray();
        assert.equal(back.constructor, Ctor);
        assert.deepEqual(Array.from(back as ArrayLike<number>), Array.from(src as ArrayLike<number>));
      });
    }

    it('|b1 views as bytes', () => {
      const arr = new NdArray(new Uint8Array([1, 0, 1]), [3], '|b1');
      const t = arr.toTypedArray();
      assert.ok(t instanceof Uint8Array);
      assert.deepEqual(Array.from(t), [1, 0, 1]);
      assert.deepEqual(arr.toNested(), [true, false, true]);
    });

    it('<f2 decodes to float32', () => {
      const t = new NdArray(f16(0x3c00, 0xc000), [2], '<f2').toTypedArray();
      assert.ok(t instanceof Float32Array);
      assert.deepEqual(Array.from(t), [1, -2]);
    });

    it('Uint8ClampedArray reads back as |u1', () => {
      assert.equal(NdArray.from(new Uint8ClampedArray([1, 2])).dtype, '|u1');
    });

    it('keeps the given shape', () => {
      const arr = NdArray.from(new Float32Array(6), [2, 3]);
      assert.deepEqual(arr.shape, [2, 3]);
      assert.equal(arr.size, 6);
    });

    it('accepts numpy aliases for the dtype', () => {
      assert.ok(new NdArray(new Uint8Array(8), [2], 'float32').toTypedArray() instanceof Float32Array);
      assert.ok(new NdArray(new Uint8Array(8), [1], 'int64').toTypedArray() instanceof BigInt64Array);
      assert.ok(new NdArray(new Uint8Array(2), [2], 'uint8').toTypedArray() instanceof Uint8Array);
      assert.equal(canonicalDtype('float16'), '<f2');
      assert.equal(canonicalDtype('<f4'), '<f4');
    });
  });

  describe('float16 decoding', () => {
    const cases: Array<[number, number]> = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x7bff, 65504],
      [0x3555, 0.333251953125],
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x8001, -(2 ** -24)],
      [0x0000, 0],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
    ];
    for (const [bits, value] of cases) {
      it(`0x${bits.toString(16).padStart(4, '0')} = ${value}`, () => {
        const [got] = new NdArray(f16(bits), [1], '<f2').toTypedArray() as Float32Array;
        assert.equal(got, Math.fround(value));
      });
    }

    it('keeps the sign of zero and decodes NaN', () => {
      const t = new NdArray(f16(0x8000, 0x7e00), [2], '<f2').toTypedArray() as Float32Array;
      assert.ok(Object.is(t[0], -0));
      assert.ok(Number.isNaN(t[1]));
    });

    it('decodes from an odd byte offset', () => {
      const backing = new Uint8Array(5);
      backing.set(f16(0x3c00, 0x7bff), 1);
      const t = new NdArray(backing.subarray(1), [2], '<f2').toTypedArray();
      assert.deepEqual(Array.from(t as Float32Array), [1, 65504]);
    });

    it('refuses an odd number of bytes', () => {
      assert.throws(() => new NdArray(new Uint8Array(3), [2], '<f2').toTypedArray(), /whole number/);
    });
  });

  describe('unaligned and malformed buffers', () => {
    it('copies bytes that are not aligned for the element size', () => {
      const src = new Float32Array([1.5, -7, 1e10]);
      const backing = new Uint8Array(src.byteLength + 1);
      backing.set(new Uint8Array(src.buffer), 1);
      const arr = new NdArray(backing.subarray(1), [3], '<f4');
      const t = arr.toTypedArray();
      assert.ok(t instanceof Float32Array);
      assert.deepEqual(Array.from(t), [1.5, -7, 1e10]);
      assert.notEqual(t.buffer, backing.buffer);
    });

    it('copies unaligned bytes correctly when they are a Node Buffer (whose slice() is a view)', () => {
      const pool = Buffer.alloc(64, 0xee);
      new Uint8Array(new Float32Array([0.5, -3]).buffer).forEach((b, i) => { pool[9 + i] = b; });
      const view = pool.subarray(9, 17);
      assert.ok(Buffer.isBuffer(view));
      assert.deepEqual(Array.from(new NdArray(view, [2], '<f4').toTypedArray() as Float32Array), [0.5, -3]);
    });

    it('unaligned int64 and float64 too', () => {
      const src = new BigInt64Array([-5n, 2n ** 60n]);
      const backing = new Uint8Array(src.byteLength + 3);
      backing.set(new Uint8Array(src.buffer), 3);
      assert.deepEqual(Array.from(new NdArray(backing.subarray(3), [2], '<i8').toTypedArray() as BigInt64Array), [-5n, 2n ** 60n]);
      const d = new Float64Array([0.1, -0.2]);
      const b2 = new Uint8Array(d.byteLength + 4);
      b2.set(new Uint8Array(d.buffer), 4);
      assert.deepEqual(Array.from(new NdArray(b2.subarray(4), [2], '<f8').toTypedArray() as Float64Array), [0.1, -0.2]);
    });

    it('views aligned bytes inside a larger buffer without copying', () => {
      const backing = new Uint8Array(16);
      new DataView(backing.buffer).setFloat32(4, 2.5, true);
      const t = new NdArray(backing.subarray(4, 8), [1], '<f4').toTypedArray();
      assert.equal(t.buffer, backing.buffer);
      assert.equal(t[0], 2.5);
    });

    it('refuses a byte count that is not a whole number of elements', () => {
      assert.throws(() => new NdArray(new Uint8Array(6), [1], '<f4').toTypedArray(), /6 bytes.*<f4/);
    });

    it('refuses an unknown dtype, naming it', () => {
      assert.throws(() => new NdArray(new Uint8Array(4), [1], '>f4').toTypedArray(), /unsupported dtype >f4/);
    });
  });

  describe('fromNested', () => {
    it('infers the shape of a 2-D list and stores float32 by default', () => {
      const arr = NdArray.fromNested([[1, 2, 3], [4, 5, 6]]);
      assert.deepEqual(arr.shape, [2, 3]);
      assert.equal(arr.dtype, '<f4');
      assert.deepEqual(Array.from(arr.toTypedArray() as Float32Array), [1, 2, 3, 4, 5, 6]);
    });

    it('handles 3-D, 1-D, empty and scalar input', () => {
      assert.deepEqual(NdArray.fromNested([[[1], [2]], [[3], [4]]]).shape, [2, 2, 1]);
      assert.deepEqual(NdArray.fromNested([7]).shape, [1]);
      const empty = NdArray.fromNested([]);
      assert.deepEqual(empty.shape, [0]);
      assert.equal(empty.buffer.byteLength, 0);
      const scalar = NdArray.fromNested(5);
      assert.deepEqual(scalar.shape, []);
      assert.equal(scalar.toNested(), 5);
    });

    it('honours a requested dtype, including 64-bit ints and aliases', () => {
      const i8 = NdArray.fromNested([1, -2], '<i8');
      assert.ok(i8.toTypedArray() instanceof BigInt64Array);
      assert.deepEqual(i8.toNested(), [1, -2]);
      const u1 = NdArray.fromNested([[0, 255]], 'uint8');
      assert.equal(u1.dtype, '|u1');
      assert.deepEqual(u1.toNested(), [[0, 255]]);
      const b1 = NdArray.fromNested([true, false], '|b1');
      assert.equal(b1.dtype, '|b1');
      assert.deepEqual(b1.toNested(), [true, false]);
      assert.equal(NdArray.fromNested([1], 'float64').dtype, '<f8');
    });

    for (const ragged of [[[1, 2], [3]], [[1], [2, 3], []], [[1, 2], [3, [4]]], [1, [2]], [[1, 2], 3]]) {
      it(`refuses the ragged list ${JSON.stringify(ragged)}`, () => {
        assert.throws(() => NdArray.fromNested(ragged), (e: unknown) => e instanceof TypeError && /ragged/.test(e.message));
      });
    }

    it('refuses non-numbers, naming the type', () => {
      assert.throws(() => NdArray.fromNested([1, 'a']), /must be numbers, got string/);
      assert.throws(() => NdArray.fromNested([[1], [null]]), /must be numbers, got null/);
    });

    it('refuses float16 list input (no JS array type to build it)', () => {
      assert.throws(() => NdArray.fromNested([1], '<f2'), /unsupported dtype/);
    });
  });

  describe('toNested', () => {
    it('rebuilds nested lists from the shape', () => {
      const arr = NdArray.from(new Int32Array([1, 2, 3, 4, 5, 6]), [3, 2]);
      assert.deepEqual(arr.toNested(), [[1, 2], [3, 4], [5, 6]]);
      assert.deepEqual(NdArray.from(new Float64Array([1, 2, 3, 4]), [2, 1, 2]).toNested(), [[[1, 2]], [[3, 4]]]);
    });

    it('turns 64-bit ints into numbers and float16 into floats', () => {
      assert.deepEqual(NdArray.from(new BigUint64Array([3n, 4n])).toNested(), [3, 4]);
      assert.deepEqual(new NdArray(f16(0x3c00, 0xc000), [1, 2], '<f2').toNested(), [[1, -2]]);
    });

    it('gives booleans for bool arrays under any spelling of the dtype', () => {
      assert.deepEqual(new NdArray(new Uint8Array([1, 0]), [2], 'bool').toNested(), [true, false]);
    });

    it('refuses a shape that does not match the data', () => {
      assert.throws(() => NdArray.from(new Float32Array(3), [2, 2]).toNested(), /shape \[2,2\] needs 4 values/);
    });

    it('round trips fromNested', () => {
      const nested = [[[0.5, 1], [2, 3]], [[4, 5], [6, -7.25]]];
      assert.deepEqual(NdArray.fromNested(nested).toNested(), nested);
    });
  });

  describe('toFloat32', () => {
    it('converts every numeric dtype', () => {
      assert.deepEqual(Array.from(NdArray.from(new Float64Array([0.5, 2])).toFloat32()), [0.5, 2]);
      assert.deepEqual(Array.from(NdArray.from(new Int32Array([-3, 9])).toFloat32()), [-3, 9]);
      assert.deepEqual(Array.from(NdArray.from(new BigInt64Array([5n])).toFloat32()), [5]);
      assert.deepEqual(Array.from(new NdArray(f16(0x7bff), [1], '<f2').toFloat32()), [65504]);
    });

    it('returns float32 data as is', () => {
      const f = new Float32Array([1]);
      assert.equal(NdArray.from(f).toFloat32().buffer, f.buffer);
    });
  });
});
