// Bad (and borderline-good) image payloads, built by hand so each one is
// exactly what its name says: no encoder library decides what the bytes are.
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { packagePath } from '../../../core/config/paths.js';

const image = (name: string) => new Uint8Array(readFileSync(packagePath('test', 'fixtures', 'images', name)));

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A PNG whose header claims `width` x `height` RGB pixels but that carries one
 * row of data: a decompression bomb as far as any header-trusting decoder is
 * concerned, a few dozen bytes on the wire.
 */
export function pngBomb(width: number, height: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter method, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const idat = deflateSync(Buffer.alloc(1 + 3 * 16));
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]));
}

/** A valid 2x2 24-bit BMP (a format clip-server's PIL reads, and sharp's libvips build does not). */
export function bmp2x2(): Uint8Array {
  const rowBytes = 8; // 2 px * 3 bytes, padded to 4
  const pixels = Buffer.alloc(rowBytes * 2, 0x80);
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(2, 18);
  header.writeInt32LE(2, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(pixels.length, 34);
  return new Uint8Array(Buffer.concat([header, pixels]));
}

const photo = image('photo_640x427.jpg');
const png = image('rgba_130x70.png');

/** Each bad image with the reason the server must give (matched against its message). */
export const BAD_IMAGES: ReadonlyArray<{ name: string; bytes: Uint8Array; reason: RegExp }> = [
  { name: 'corrupt (PNG signature, garbage after)', bytes: new Uint8Array([...png.subarray(0, 8), ...new Uint8Array(300).map((_, i) => (i * 37) % 256)]), reason: /corrupt or truncated|not a recognised image/ },
  { name: 'truncated JPEG (first third)', bytes: photo.subarray(0, Math.floor(photo.length / 3)), reason: /corrupt or truncated/ },
  { name: 'truncated PNG (header only)', bytes: png.subarray(0, 40), reason: /corrupt or truncated/ },
  { name: 'non-image bytes (text)', bytes: new Uint8Array(Buffer.from('this is a plain text file, not an image at all\n')), reason: /not a recognised image/ },
  { name: 'SVG (refused on purpose)', bytes: new Uint8Array(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')), reason: /unsupported image format 'svg'|not a recognised image/ },
  { name: 'BMP (not decodable here)', bytes: bmp2x2(), reason: /not a recognised image|unsupported image format/ },
  { name: 'pixel bomb (30000x30000 PNG header)', bytes: pngBomb(30_000, 30_000), reason: /30000x30000 \(900\.0 megapixels\), over the limit of 100\.0 megapixels/ },
];

/** A 1x1 PNG: tiny but valid, must encode. */
export const ONE_BY_ONE = image('one_1x1.png');
