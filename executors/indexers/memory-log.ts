import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import type { StoredDoc } from './index-backend.js';

/** One logged change. */
export type LogOp = { op: 'put'; doc: StoredDoc & { embedding: Float32Array } } | { op: 'delete'; id: string };

/** A snapshot's first record. */
export interface SnapshotHeader {
  format: 'clipflow-vectors';
  version: 1;
  generation: number;
  dim: number | null;
}

const enum Kind {
  Header = 0,
  Put = 1,
  Delete = 2,
  End = 3,
}

// Vectors are copied as raw bytes; the files are little-endian by definition.
if (endianness() !== 'LE') throw new Error('the memory index backend needs a little-endian CPU');

/**
 * Frames a payload as `u32 length | u32 crc32(payload) | payload`. The CRC lets a
 * reader tell a complete record from one torn by a crash mid-write.
 */
function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(8 + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, 8);
  return out;
}

function withString(kind: Kind, s: string, extra = 0): { buf: Buffer; at: number } {
  const bytes = Buffer.from(s, 'utf8');
  const buf = Buffer.allocUnsafe(1 + 4 + bytes.length + extra);
  buf.writeUInt8(kind, 0);
  buf.writeUInt32LE(bytes.length, 1);
  bytes.copy(buf, 5);
  return { buf, at: 5 + bytes.length };
}

/** A logged change as one framed record. */
export function encodeOp(op: LogOp): Buffer {
  if (op.op === 'delete') return frame(withString(Kind.Delete, op.id).buf);
  const { doc } = op;
  const meta = Buffer.from(JSON.stringify({ text: doc.text, uri: doc.uri, mimeType: doc.mimeType, tags: doc.tags }), 'utf8');
  const vec = Buffer.from(doc.embedding.buffer, doc.embedding.byteOffset, doc.embedding.byteLength);
  const { buf, at } = withString(Kind.Put, doc.id, 4 + meta.length + 4 + vec.length);
  buf.writeUInt32LE(meta.length, at);
  meta.copy(buf, at + 4);
  buf.writeUInt32LE(doc.embedding.length, at + 4 + meta.length);
  vec.copy(buf, at + 8 + meta.length);
  return frame(buf);
}

export function encodeHeader(header: SnapshotHeader): Buffer {
  return frame(withString(Kind.Header, JSON.stringify(header)).buf);
}

/** The closing record of a snapshot: without it (a crash mid-write) the snapshot is not used. */
export function encodeEnd(count: number): Buffer {
  const buf = Buffer.allocUnsafe(5);
  buf.writeUInt8(Kind.End, 0);
  buf.writeUInt32LE(count, 1);
  return frame(buf);
}

/** What a decoded file holds. */
export type LogRecord = LogOp | { op: 'header'; header: SnapshotHeader } | { op: 'end'; count: number };

/**
 * Decodes records from the start of `buf` until its end or the first damaged one.
 * `validBytes` is where the intact prefix ends (a torn tail is cut there).
 */
export function decodeRecords(buf: Buffer): { records: LogRecord[]; validBytes: number } {
  const records: LogRecord[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len === 0 || off + 8 + len > buf.length) break;
    const payload = buf.subarray(off + 8, off + 8 + len);
    if (crc32(payload) !== buf.readUInt32LE(off + 4)) break;
    const record = decodePayload(payload);
    if (!record) break;
    records.push(record);
    off += 8 + len;
  }
  return { records, validBytes: off };
}

function decodePayload(p: Buffer): LogRecord | undefined {
  const kind = p.readUInt8(0) as Kind;
  if (kind === Kind.End) return { op: 'end', count: p.readUInt32LE(1) };
  const idLen = p.readUInt32LE(1);
  const str = p.toString('utf8', 5, 5 + idLen);
  if (kind === Kind.Header) return { op: 'header', header: JSON.parse(str) as SnapshotHeader };
  if (kind === Kind.Delete) return { op: 'delete', id: str };
  if (kind !== Kind.Put) return undefined;
  let at = 5 + idLen;
  const metaLen = p.readUInt32LE(at);
  const meta = JSON.parse(p.toString('utf8', at + 4, at + 4 + metaLen)) as Omit<StoredDoc, 'id' | 'embedding'>;
  at += 4 + metaLen;
  const dim = p.readUInt32LE(at);
  // Copied into a fresh (aligned) buffer: a Float32Array view needs 4-byte alignment.
  const embedding = new Float32Array(dim);
  new Uint8Array(embedding.buffer).set(p.subarray(at + 4, at + 4 + dim * 4));
  const doc: StoredDoc & { embedding: Float32Array } = { id: str, tags: meta.tags ?? {}, embedding };
  if (meta.text !== undefined && meta.text !== null) doc.text = meta.text;
  if (meta.uri !== undefined && meta.uri !== null) doc.uri = meta.uri;
  if (meta.mimeType !== undefined && meta.mimeType !== null) doc.mimeType = meta.mimeType;
  return { op: 'put', doc };
}
