import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import protobuf from 'protobufjs';

/**
 * Serialised protobuf read field by field, where it lies. A rewrite copies the
 * fields it does not change byte for byte, so nothing our .proto subset leaves
 * out (sparse initializers, functions, external-data entries) is lost, and the
 * weights are neither decoded nor, from a file, held in memory: a ViT-B/32
 * tower is ~350 MB, which loading must not hold twice.
 */
export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end): a view for a buffer, a fresh read for a file. */
  read(start: number, end: number): Uint8Array;
}

/** A model already in memory. */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (start, end) => bytes.subarray(start, end) };
}

/** A model file, read piece by piece; `close` when done. */
export function fileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  return {
    size: fstatSync(fd).size,
    read(start, end) {
      const out = Buffer.allocUnsafe(end - start);
      let done = 0;
      while (done < out.length) {
        const n = readSync(fd, out, done, out.length - done, start + done);
        if (n === 0) throw new Error(`unexpected end of file at byte ${start + done}`);
        done += n;
      }
      return out;
    },
    close: () => closeSync(fd),
  };
}

/** One field of a message: where it lies in the source. */
export interface RawField {
  field: number;
  /** The whole field, tag included: [start, end). */
  start: number;
  end: number;
  /** Where a length-delimited field's payload starts (it ends at `end`); undefined for other wire types. */
  valueStart?: number;
}

const LENGTH_DELIMITED = 2;
/** Enough for a tag and a length (two varints of at most 10 bytes). */
const HEADER_WINDOW = 20;

/** The fields of the message at [start, end) of `source`, in order. */
export function rawFields(source: ByteSource, start = 0, end = source.size): RawField[] {
  const fields: RawField[] = [];
  let pos = start;
  while (pos < end) {
    const window = source.read(pos, Math.min(end, pos + HEADER_WINDOW));
    const reader = protobuf.Reader.create(window);
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === LENGTH_DELIMITED) {
      const length = reader.uint32();
      const valueStart = pos + reader.pos;
      fields.push({ field, start: pos, end: valueStart + length, valueStart });
      pos = valueStart + length;
    } else {
      // Fixed-width and varint fields fit in the window.
      reader.skipType(wireType);
      fields.push({ field, start: pos, end: pos + reader.pos });
      pos += reader.pos;
    }
    if (pos > end) throw new Error(`a protobuf field runs past its message (byte ${pos} of ${end})`);
  }
  return fields;
}

/** A length-delimited field's payload. */
export function valueOf(source: ByteSource, f: RawField): Uint8Array {
  if (f.valueStart === undefined) throw new Error(`field ${f.field} is not length-delimited`);
  return source.read(f.valueStart, f.end);
}

/** Part of a message being written: new bytes, or a stretch of the source copied as it is. */
export type Piece = Uint8Array | { start: number; end: number };

const pieceLength = (p: Piece) => (p instanceof Uint8Array ? p.length : p.end - p.start);

/** The pieces of a length-delimited field holding `parts`. */
export function nested(field: number, parts: Piece[]): Piece[] {
  const length = parts.reduce((n, p) => n + pieceLength(p), 0);
  return [protobuf.Writer.create().uint32((field << 3) | LENGTH_DELIMITED).uint32(length).finish(), ...parts];
}

/** A length-delimited field: tag, length, payload. */
export function lengthDelimited(field: number, value: Uint8Array): Uint8Array {
  return protobuf.Writer.create().uint32((field << 3) | LENGTH_DELIMITED).bytes(value).finish();
}

/** A string field. */
export function stringField(field: number, value: string): Uint8Array {
  return protobuf.Writer.create().uint32((field << 3) | LENGTH_DELIMITED).string(value).finish();
}

/** The pieces as one buffer. */
export function joinPieces(pieces: Piece[], source: ByteSource): Buffer {
  return Buffer.concat(pieces.map((p) => (p instanceof Uint8Array ? p : source.read(p.start, p.end))));
}

/** Copy stretches this long at most when writing to a file. */
const COPY_CHUNK = 16 << 20;

/** Writes the pieces to `path`, copying source stretches in chunks. */
export function writePieces(pieces: Piece[], source: ByteSource, path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const p of pieces) {
      if (p instanceof Uint8Array) {
        writeAll(fd, p);
        continue;
      }
      for (let at = p.start; at < p.end; at += COPY_CHUNK) writeAll(fd, source.read(at, Math.min(p.end, at + COPY_CHUNK)));
    }
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}
