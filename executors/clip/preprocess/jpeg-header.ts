/**
 * What sharp's `metadata()` reports for a plain JPEG (8-bit baseline, extended or
 * progressive; grey or three components), read from its frame header instead.
 * metadata() is a libvips pipeline of its own, ~0.2 ms of CPU and a thread-pool
 * round trip per image, before the decode pays for another; the header is a few
 * bytes into the file. Anything else (CMYK, 12-bit, lossless, arithmetic coding,
 * a height left to a DNL marker, a malformed segment) returns undefined and
 * metadata() reads it, so its errors stay sharp's.
 */
import type { Metadata } from 'sharp';

/** The metadata fields decoding looks at. */
export type ImageHeader = Pick<Metadata, 'format' | 'compression' | 'width' | 'height' | 'channels' | 'space' | 'depth' | 'hasAlpha' | 'isPalette'>;

/** Start-of-frame markers taken: baseline, extended sequential and progressive Huffman. */
const TAKEN_FRAMES = new Set([0xc0, 0xc1, 0xc2]);

/** The other start-of-frame markers (lossless, hierarchical, arithmetic): left to sharp. */
function isOtherFrame(marker: number): boolean {
  return marker >= 0xc3 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** The header of a plain JPEG as sharp's metadata() gives it, or undefined (ask sharp). */
export function jpegHeader(bytes: Uint8Array): ImageHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  for (let at = 2; at + 4 <= bytes.length;) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // a fill byte before the marker
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2 || at + 2 + length > bytes.length) return undefined;
    if (TAKEN_FRAMES.has(marker)) {
      if (length < 8) return undefined;
      const precision = bytes[at + 4];
      const height = (bytes[at + 5]! << 8) | bytes[at + 6]!;
      const width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
      const channels = bytes[at + 9]!;
      if (precision !== 8 || height === 0 || width === 0 || (channels !== 1 && channels !== 3)) return undefined;
      return { format: 'jpeg', width, height, channels: channels as 1 | 3, space: channels === 1 ? 'b-w' : 'srgb', depth: 'uchar', hasAlpha: false, isPalette: false };
    }
    // Scan data, the end, a frame we do not take, or a marker with no length where a segment should be.
    if (marker === 0xda || marker === 0xd9 || isOtherFrame(marker) || (marker >= 0xd0 && marker <= 0xd8) || marker === 0x01) return undefined;
    at += 2 + length;
  }
  return undefined;
}
