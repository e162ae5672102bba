import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromStruct, fromValue, toStruct, toValue, type StructObj } from '../../../../core/proto/struct.js';
import { protoType } from '../../../../core/proto/schema.js';
import { ld, tags, sub } from './wire.js';

const Struct = () => protoType('google.protobuf.Struct');
const wire = (obj: Record<string, unknown>): Uint8Array => Struct().encode(toStruct(obj) as Record<string, unknown>).finish();
const unwire = (bytes: Uint8Array): Record<string, unknown> => fromStruct(Struct().decode(bytes) as unknown as StructObj);

describe('Struct conversion', () => {
  it('round trips JSON values through the wire', () => {
    const value = {
      n: 1.5, neg: -3, zero: 0, s: '', t: true, f: false, nil: null,
      list: [1, 'a', [true, null], { k: 'v' }], deep: { a: { b: { c: [0.25] } } }, empty: {}, none: [],
    };
    assert.deepEqual(unwire(wire(value)), value);
  });

  it('uses the Value kinds null=1, number=2, string=3, bool=4, struct=5, list=6', () => {
    const kindOf = (v: unknown): string => tags(sub(sub(wire({ k: v }), 1), 2))[0]!;
    assert.equal(kindOf(null), '08');
    assert.equal(kindOf(2), '11'); // double, wire type 1
    assert.equal(kindOf('s'), '1a');
    assert.equal(kindOf(true), '20');
    assert.equal(kindOf({}), '2a');
    assert.equal(kindOf([]), '32');
  });

  it('decodes a hand-assembled Struct', () => {
    const bytes = new Uint8Array(ld(1, [...ld(1, 'name'), ...ld(2, ld(3, 'clip'))]));
    assert.deepEqual(unwire(bytes), { name: 'clip' });
  });

  it('drops undefined fields and maps undefined list items to null, as JSON does', () => {
    assert.deepEqual(unwire(wire({ a: undefined, b: [undefined, 1] })), { b: [null, 1] });
  });

  it('turns typed arrays into number lists and bigints into numbers', () => {
    assert.deepEqual(fromValue(toValue(new Float32Array([0.5, 2]))), [0.5, 2]);
    assert.deepEqual(fromValue(toValue(12n)), 12);
  });

  it('encodes a Date (any toJSON object) as JSON.stringify would', () => {
    const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    assert.deepEqual(unwire(wire({ when, nested: { when } })), { when: '2024-01-02T03:04:05.006Z', nested: { when: '2024-01-02T03:04:05.006Z' } });
  });

  it('reads a missing or empty Struct as {}', () => {
    assert.deepEqual(fromStruct(undefined), {});
    assert.deepEqual(fromStruct(null), {});
    assert.deepEqual(fromStruct({}), {});
    assert.equal(fromValue(undefined), null);
    assert.equal(fromValue({}), null);
  });

  it('refuses a "__proto__" key at any depth, naming where it is, rather than letting it set a prototype', () => {
    const withKey = (value: Record<string, unknown>) => {
      const fields = Object.create(null) as Record<string, unknown>;
      fields['__proto__'] = value;
      fields.ok = { numberValue: 1 };
      return { fields };
    };
    const top = Struct().encode(withKey({ structValue: { fields: { polluted: { boolValue: true } } } })).finish();
    assert.throws(() => fromStruct(Struct().decode(top) as unknown as StructObj, 'parameters'), (e: Error) => e.name === 'BadRequestError' && e.message === 'parameters: the key "__proto__" is not allowed');
    const nested = Struct().encode({ fields: { a: { listValue: { values: [{ numberValue: 1 }, { structValue: withKey({ nullValue: 0 }) }] } } } }).finish();
    assert.throws(() => fromStruct(Struct().decode(nested) as unknown as StructObj, 'data.docs[0].tags'), /^BadRequestError: data\.docs\[0\]\.tags\.a\[1\]: the key "__proto__" is not allowed$/);
    assert.deepEqual(unwire(wire({ proto: '__proto__', __proto__x: 1 })), { proto: '__proto__', __proto__x: 1 });
  });
});
