/**
 * Unpacks the `.zip` files clip-server ships for graphs over protobuf's 2 GB
 * limit (a `.onnx` plus its external-data files). Reads the central directory
 * (zip64 included, since these archives are several GB), streams each entry
 * through inflate to disk and checks its size and CRC-32. Stored and deflated
 * entries only: that is all such archives use.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';

/** One file in an archive, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** Where the central directory is and how many entries it has. */
async function findCentralDirectory(fh: FileHandle, zipPath: string): Promise<{ offset: number; size: number; count: number }> {
  const fileSize = (await fh.stat()).size;
  // The end record sits within the last 22 bytes + a comment of at most 64 KiB.
  const tailStart = Math.max(0, fileSize - (22 + 0xffff + 20));
  const tail = await readAt(fh, tailStart, fileSize - tailStart);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new Error(`${zipPath} is not a zip archive (no end of central directory)`);
  let count = tail.readUInt16LE(at + 10);
  let size = tail.readUInt32LE(at + 12);
  let offset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || size === U32_MAX || offset === U32_MAX) {
    const loc = at - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR) throw new Error(`${zipPath}: zip64 locator missing`);
    const rec = await readAt(fh, Number(tail.readBigUInt64LE(loc + 8)), 56);
    if (rec.readUInt32LE(0) !== ZIP64_EOCD) throw new Error(`${zipPath}: zip64 end record missing`);
    count = Number(rec.readBigUInt64LE(32));
    size = Number(rec.readBigUInt64LE(40));
    offset = Number(rec.readBigUInt64LE(48));
  }
  return { offset, size, count };
}

/** Lists an archive's entries (directories excluded). */
export async function listZip(zipPath: string): Promise<ZipEntry[]> {
  const fh = await open(zipPath, 'r');
  try {
    const cd = await findCentralDirectory(fh, zipPath);
    const buf = await readAt(fh, cd.offset, cd.size);
    const entries: ZipEntry[] = [];
    let p = 0;
    for (let n = 0; n < cd.count; n++) {
      if (buf.readUInt32LE(p) !== CENTRAL) throw new Error(`${zipPath}: corrupt central directory`);
      const flags = buf.readUInt16LE(p + 8);
      const nameLen = buf.readUInt16LE(p + 28);
      const extraLen = buf.readUInt16LE(p + 30);
      const commentLen = buf.readUInt16LE(p + 32);
      const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
      let compressedSize = buf.readUInt32LE(p + 20);
      let size = buf.readUInt32LE(p + 24);
      let localHeaderOffset = buf.readUInt32LE(p + 42);
      // zip64 extra field: only the fields saturated in the fixed header are present, in this order.
      for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
        const id = buf.readUInt16LE(e);
        const len = buf.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === U32_MAX) (size = Number(buf.readBigUInt64LE(q))), (q += 8);
          if (compressedSize === U32_MAX) (compressedSize = Number(buf.readBigUInt64LE(q))), (q += 8);
          if (localHeaderOffset === U32_MAX) localHeaderOffset = Number(buf.readBigUInt64LE(q));
        }
        e += 4 + len;
      }
      if (flags & 0x1) throw new Error(`${zipPath}: encrypted entry ${name} is not supported`);
      const method = buf.readUInt16LE(p + 10);
      if (!name.endsWith('/')) entries.push({ name, method, crc32: buf.readUInt32LE(p + 16), compressedSize, size, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** `name` joined under `dir`, refusing absolute paths and `..` escapes (zip-slip). */
function safeJoin(dir: string, name: string, zipPath: string): string {
  const rel = normalize(name);
  if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) throw new Error(`${zipPath}: unsafe entry name ${name}`);
  return join(dir, rel);
}

/**
 * Extracts every file of `zipPath` under `destDir` (each written to `.part`
 * first, then renamed) and returns their relative names.
 */
export async function extractZip(zipPath: string, destDir: string, signal?: AbortSignal): Promise<string[]> {
  const entries = await listZip(zipPath);
  const fh = await open(zipPath, 'r');
  const written: string[] = [];
  try {
    for (const entry of entries) {
      signal?.throwIfAborted();
      if (entry.method !== 0 && entry.method !== 8) throw new Error(`${zipPath}: ${entry.name} uses unsupported compression method ${entry.method}`);
      const local = await readAt(fh, entry.localHeaderOffset, 30);
      if (local.readUInt32LE(0) !== LOCAL) throw new Error(`${zipPath}: corrupt local header for ${entry.name}`);
      const start = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const target = safeJoin(destDir, entry.name, zipPath);
      await mkdir(dirname(target), { recursive: true });
      let crc = 0;
      let size = 0;
      const check = new Transform({
        transform(chunk: Buffer, _enc, done) {
          crc = crc32(chunk, crc);
          size += chunk.length;
          done(null, chunk);
        },
      });
      const source = entry.compressedSize === 0
        ? new PassThrough().end()
        : createReadStream(zipPath, { start, end: start + entry.compressedSize - 1, highWaterMark: 1 << 20 });
      const stages = entry.method === 8 && entry.compressedSize > 0 ? [createInflateRaw()] : [];
      await pipeline([source, ...stages, check, createWriteStream(`${target}.part`)], ...(signal ? [{ signal }] : []));
      if (size !== entry.size || crc >>> 0 !== entry.crc32 >>> 0) {
        throw new Error(`${zipPath}: ${entry.name} is corrupt (size ${size}/${entry.size}, crc mismatch: ${crc >>> 0 !== entry.crc32 >>> 0})`);
      }
      await rename(`${target}.part`, target);
      written.push(entry.name);
    }
  } finally {
    await fh.close();
  }
  return written;
}
