/**
 * A direct decoder for the common PNG: 8-bit grey, RGB or RGBA, not interlaced,
 * no tRNS, not animated, up to a megapixel. Such a file is a zlib stream of
 * filtered rows: node's zlib inflates it on the libuv pool, as sharp would decode,
 * and the rows are unfiltered on the calling thread (None and Up in JS, the rest
 * by a SIMD kernel, png-unfilter-simd.ts). A 224x224 PNG costs ~0.5-0.7 ms of CPU
 * this way against ~1.1-1.3 ms for sharp's metadata + decode, whose fixed cost
 * dominates at that size; on a CPU-bound encoder the difference goes to the
 * model. Larger images go to sharp, which keeps their decode off the event loop.
 *
 * Anything else, and anything irregular (a bad CRC, a truncated stream, an
 * unknown critical chunk or row filter), returns undefined and goes to sharp,
 * which then gives the usual result or the usual error: this path never decides
 * that an image is bad. The pixels equal sharp's (tested on every filter and
 * colour type).
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { DecodedImage } from './decode.js';
import type { PilMode } from './pil-mode.js';
import { unfilterSimd } from './png-unfilter-simd.js';

const inflate = promisify(zlib.inflate);
const crc32: ((data: Uint8Array) => number) | undefined = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Colour types taken here, at bit depth 8: channels and PIL's mode. Grey+alpha is
 * left to sharp, which hands it on as RGBA.
 */
const LAYOUTS: Record<number, { channels: number; mode: PilMode }> = {
  0: { channels: 1, mode: 'L' },
  2: { channels: 3, mode: 'RGB' },
  6: { channels: 4, mode: 'RGBA' },
};

/** Beyond this the unfiltering would hold the event loop for milliseconds: sharp decodes off it. */
const MAX_PIXELS = 1 << 20;

/** Chunks that change what the pixels are (transparency, animation): left to sharp. */
const DEFER = new Set(['tRNS', 'acTL']);

interface Layout {
  width: number;
  height: number;
  channels: number;
  mode: PilMode;
  idat: Uint8Array[];
}

/** Walks the chunks, checking each CRC; undefined for anything this path does not take. */
function readLayout(bytes: Uint8Array): Layout | undefined {
  if (!crc32 || bytes.length < 57 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let layout: Layout | undefined;
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) return undefined;
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) return undefined;
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (at === 8) {
      if (type !== 'IHDR' || length !== 13) return undefined;
      const [depth, colour, compression, filter, interlace] = data.subarray(8);
      const known = LAYOUTS[colour!];
      if (depth !== 8 || !known || compression !== 0 || filter !== 0 || interlace !== 0) return undefined;
      layout = { width: view.getUint32(at + 8), height: view.getUint32(at + 12), ...known, idat: [] };
    } else if (type === 'IDAT') {
      layout!.idat.push(data);
    } else if (type === 'IEND') {
      return layout!.idat.length > 0 ? layout : undefined;
    } else if (DEFER.has(type) || (type !== 'PLTE' && (bytes[at + 4]! & 0x20) === 0)) {
      // A critical chunk we do not know (bit 5 of the first letter clear), or one that
      // changes the pixels. PLTE in a truecolour image is only a suggestion.
      return undefined;
    }
    at = end;
  }
  return undefined;
}

/** Which row filters the scanlines use (bit f for filter f); bit 5 for any invalid filter byte. */
function filtersUsed(raw: Uint8Array, stride: number, height: number): number {
  let used = 0;
  for (let y = 0; y < height; y++) used |= 1 << Math.min(raw[y * (stride + 1)]!, 5);
  return used;
}

/** Rows filtered with None or Up only: a copy or a byte-wise add per row, cheap enough in JS. */
function unfilterNoneUp(raw: Uint8Array, width: number, height: number, bpp: number): Uint8Array {
  const stride = width * bpp;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    if (raw[src - 1] === 0 || y === 0) out.set(raw.subarray(src, src + stride), row);
    else for (let x = 0; x < stride; x++) out[row + x] = raw[src + x]! + out[row - stride + x]!;
  }
  return out;
}

/** A PNG this path takes: its size from the header, and the decode. */
export interface PlainPng {
  readonly width: number;
  readonly height: number;
  /** The pixels, or undefined when the stream turns out irregular (then use sharp). */
  decode(): Promise<DecodedImage | undefined>;
}

/** The PNG's header when this path takes it, so the pixel budget can be checked first; else undefined. */
export function plainPng(bytes: Uint8Array): PlainPng | undefined {
  const layout = readLayout(bytes);
  if (!layout || layout.width < 1 || layout.height < 1 || layout.width * layout.height > MAX_PIXELS) return undefined;
  const { width, height, channels, mode, idat } = layout;
  return {
    width,
    height,
    async decode() {
      const size = height * (width * channels + 1);
      let raw: Buffer;
      try {
        // One output chunk: zlib's default 16 kB chunks would each be a round trip to the thread pool.
        const chunkSize = Math.max(zlib.constants.Z_MIN_CHUNK, size + 1);
        raw = await inflate(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: size + 1, chunkSize });
      } catch {
        return undefined;
      }
      if (raw.length !== size) return undefined;
      const used = filtersUsed(raw, width * channels, height);
      if (used & (1 << 5)) return undefined;
      // Sub, Average and Paeth chain each byte to its left neighbour: the SIMD kernel, or sharp without it.
      const data = used & 0b11010 ? unfilterSimd(raw, width, height, channels) : unfilterNoneUp(raw, width, height, channels);
      if (!data) return undefined;
      return { data, width, height, channels, mode, format: 'png' };
    },
  };
}
