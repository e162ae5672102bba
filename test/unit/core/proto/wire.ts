// Test helpers for the proto suites: hand-assembled protobuf bytes and a tag walker,
// so wire layout is checked independently of our own .proto and codecs.
import protobuf from 'protobufjs';
import { packagePath } from '../../../../core/config/paths.js';

/** A base-128 varint. */
export function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2). */
export function ld(field: number, payload: ArrayLike<number> | string): number[] {
  const bytes = typeof payload === 'string' ? [...Buffer.from(payload, 'utf8')] : Array.from(payload);
  return [...varint((field << 3) | 2), ...varint(bytes.length), ...bytes];
}

/** A varint field (wire type 0). */
export function vf(field: number, value: number): number[] {
  return [...varint(field << 3), ...varint(value)];
}

/** Little-endian float32 bytes. */
export function f32bytes(values: number[]): number[] {
  return [...new Uint8Array(new Float32Array(values).buffer)];
}

export interface WireField {
  /** The raw tag bytes as hex, e.g. `0a` or `8201`. */
  tag: string;
  field: number;
  wireType: number;
  /** Payload of a length-delimited field. */
  bytes?: Uint8Array;
}

/** Every top-level field of a message, in wire order, read with protobufjs's Reader. */
export function walk(bytes: Uint8Array): WireField[] {
  const r = protobuf.Reader.create(bytes);
  const out: WireField[] = [];
  while (r.pos < r.len) {
    const start = r.pos;
    const t = r.uint32();
    const tag = Buffer.from(bytes.subarray(start, r.pos)).toString('hex');
    const f: WireField = { tag, field: t >>> 3, wireType: t & 7 };
    if (f.wireType === 2) f.bytes = r.bytes();
    else r.skipType(f.wireType);
    out.push(f);
  }
  return out;
}

export function tags(bytes: Uint8Array): string[] {
  return walk(bytes).map((f) => f.tag);
}

/** The payload of the one field with this number (fails if absent). */
export function sub(bytes: Uint8Array, field: number): Uint8Array {
  const f = walk(bytes).find((x) => x.field === field);
  if (!f?.bytes) throw new Error(`field ${field} not found`);
  return f.bytes;
}

let pyRoot: protobuf.Root | undefined;

/**
 * jina.proto loaded with Python's snake_case field names, separately from our
 * schema module, to build messages the way Jina's Python client fills them.
 */
export function pyType(name: string): protobuf.Type {
  if (!pyRoot) {
    pyRoot = new protobuf.Root().loadSync(packagePath('proto', 'jina.proto'), { keepCase: true });
    pyRoot.resolveAll();
  }
  return pyRoot.lookupType(name);
}

/** Serializes a plain snake_case object as the named message. */
export function pyEncode(name: string, obj: Record<string, unknown>): Uint8Array {
  const t = pyType(name);
  const err = t.verify(obj);
  if (err) throw new Error(`bad fixture for ${name}: ${err}`);
  return t.encode(t.fromObject(obj)).finish();
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
