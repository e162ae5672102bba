import protobuf from 'protobufjs';

/**
 * One field of a serialised protobuf message, as it sits in the bytes. A rewrite
 * copies the fields it does not change byte for byte, so nothing our .proto
 * subset leaves out (sparse initializers, functions, training info, external-data
 * entries) is lost, and large initializers are never decoded.
 */
export interface RawField {
  field: number;
  /** The whole field, tag included. */
  bytes: Uint8Array;
  /** The payload of a length-delimited field (a message, string or bytes). */
  value?: Uint8Array;
}

const LENGTH_DELIMITED = 2;

/** The top-level fields of a message, in order. */
export function rawFields(message: Uint8Array): RawField[] {
  const reader = protobuf.Reader.create(message);
  const fields: RawField[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === LENGTH_DELIMITED) {
      const length = reader.uint32();
      const valueStart = reader.pos;
      reader.skip(length);
      fields.push({ field, bytes: message.subarray(start, reader.pos), value: message.subarray(valueStart, reader.pos) });
    } else {
      reader.skipType(wireType);
      fields.push({ field, bytes: message.subarray(start, reader.pos) });
    }
  }
  return fields;
}

/** A length-delimited field: tag, length, payload. */
export function lengthDelimited(field: number, value: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32((field << 3) | LENGTH_DELIMITED).bytes(value).finish();
}

/** A string field. */
export function stringField(field: number, value: string): Uint8Array {
  return protobuf.Writer.create().uint32((field << 3) | LENGTH_DELIMITED).string(value).finish();
}

/** Joins field bytes into one message. */
export function joinFields(parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}
