/**
 * Which mode PIL's `Image.open` would give an encoded image. The mode decides how
 * PIL resizes it (bicubic, premultiplied bicubic, or NEAREST for palettes) and how
 * `convert('RGB')` maps it, and sharp does not report it: libvips expands palettes
 * and turns a PNG tRNS chunk into a real alpha channel. So the few header bytes
 * that decide it are read here, straight from the container.
 */

/** The PIL modes clipflow reproduces. 'I' is PIL's 32-bit integer grey (16-bit PNG). */
export type PilMode = '1' | 'L' | 'P' | 'I' | 'LA' | 'RGB' | 'RGBA' | 'CMYK';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Mode of a PNG from its IHDR (PIL's PngImagePlugin table): bit depth 1 grey is
 * '1', 16-bit grey is 'I', palette is 'P', 16-bit grey+alpha is opened as 'RGBA'.
 * A tRNS chunk does not change the mode (PIL keeps it in `info`, and
 * `convert('RGB')` ignores it). Undefined when the header is not a PNG IHDR.
 */
export function pngMode(bytes: Uint8Array): PilMode | undefined {
  if (bytes.length < 29 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  // IHDR must be the first chunk: length(4) "IHDR"(4) width(4) height(4) depth colour.
  if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') return undefined;
  const depth = bytes[24]!;
  switch (bytes[25]) {
    case 0: return depth === 1 ? '1' : depth === 16 ? 'I' : 'L';
    case 2: return 'RGB';
    case 3: return 'P';
    case 4: return depth === 16 ? 'RGBA' : 'LA';
    case 6: return 'RGBA';
    default: return undefined;
  }
}

/**
 * PIL skips a GIF colour table that is the identity grey ramp (entry i = (i, i, i)),
 * and a first frame left without any other table opens as 'L' (bicubic resize)
 * rather than 'P' (NEAREST).
 */
function isGreyRamp(bytes: Uint8Array, at: number, entries: number): boolean {
  for (let i = 0; i < entries; i++) {
    const p = at + i * 3;
    if (bytes[p] !== i || bytes[p + 1] !== i || bytes[p + 2] !== i) return false;
  }
  return true;
}

/** PIL's view of a GIF's first frame. */
export interface GifFrame {
  readonly mode: PilMode;
  /**
   * The colour PIL shows where libvips reports a fully transparent pixel: PIL keeps
   * the transparent index (or index 0 outside the frame) and `convert('RGB')` maps
   * it through the palette, while libvips outputs (0, 0, 0, 0) there.
   */
  readonly fill: readonly [number, number, number];
}

/**
 * Mode of a GIF's first frame — 'P' when a colour table other than the grey ramp
 * applies (the local one, else the global one), else 'L' — and its fill colour.
 * Walks the extension blocks up to the first image descriptor, noting the graphic
 * control extension's transparent index. A stream too short to tell is reported
 * as 'P' with black fill, and sharp then decides whether it decodes at all.
 */
export function gifFirstFrame(bytes: Uint8Array): GifFrame {
  const unknown: GifFrame = { mode: 'P', fill: [0, 0, 0] };
  const flags = bytes[10] ?? 0;
  let pos = 13;
  let table = -1; // offset of the colour table PIL would use; -1: none (mode 'L')
  let entries = 0;
  if (flags & 0x80) {
    const n = 1 << ((flags & 7) + 1);
    if (pos + n * 3 > bytes.length) return unknown;
    if (!isGreyRamp(bytes, pos, n)) [table, entries] = [pos, n];
    pos += n * 3;
  }
  let transparent = -1;
  while (pos < bytes.length) {
    const kind = bytes[pos];
    if (kind === 0x21) {
      // Graphic control extension: 0x21 0xf9 0x04 flags delay(2) index 0x00.
      if (bytes[pos + 1] === 0xf9 && bytes[pos + 2] === 4 && (bytes[pos + 3]! & 1)) transparent = bytes[pos + 6] ?? -1;
      // Extension: introducer, label, then data sub-blocks ending in a zero length.
      pos += 2;
      while (pos < bytes.length && bytes[pos] !== 0) pos += bytes[pos]! + 1;
      pos += 1;
    } else if (kind === 0x2c) {
      const local = bytes[pos + 9] ?? 0;
      if (local & 0x80) {
        const n = 1 << ((local & 7) + 1);
        if (pos + 10 + n * 3 > bytes.length) return unknown;
        if (!isGreyRamp(bytes, pos + 10, n)) [table, entries] = [pos + 10, n];
      }
      const index = transparent >= 0 ? transparent : 0;
      if (table < 0) return { mode: 'L', fill: [index, index, index] };
      const at = table + index * 3;
      return { mode: 'P', fill: index < entries ? [bytes[at]!, bytes[at + 1]!, bytes[at + 2]!] : [0, 0, 0] };
    } else {
      break;
    }
  }
  return unknown;
}

/** PIL's mode for a GIF's first frame (see {@link gifFirstFrame}). */
export function gifMode(bytes: Uint8Array): PilMode {
  return gifFirstFrame(bytes).mode;
}

/**
 * PIL opens palette TIFFs as 'P' and 1-bit ones as '1' (both NEAREST-resized);
 * libvips reports them as plain sRGB / grey. Reads PhotometricInterpretation (262)
 * and BitsPerSample (258) from the first IFD of a classic TIFF; undefined when the
 * header says neither or cannot be read.
 */
export function tiffMode(bytes: Uint8Array): PilMode | undefined {
  if (bytes.length < 8) return undefined;
  const little = bytes[0] === 0x49 && bytes[1] === 0x49;
  if (!little && !(bytes[0] === 0x4d && bytes[1] === 0x4d)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(2, little) !== 42) return undefined; // BigTIFF (43) is left to libvips
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > bytes.length) return undefined;
  const entries = view.getUint16(ifd, little);
  let photometric = -1;
  let bits = 1; // the TIFF default when the tag is absent, as PIL writes 1-bit files
  for (let i = 0; i < entries; i++) {
    const at = ifd + 2 + i * 12;
    if (at + 12 > bytes.length) return undefined;
    const tag = view.getUint16(at, little);
    // Both tags are SHORTs; the first value sits inline in the entry either way for
    // these (one photometric value; BitsPerSample of a 1-sample image).
    if (tag === 262) photometric = view.getUint16(at + 8, little);
    if (tag === 258 && view.getUint32(at + 4, little) === 1) bits = view.getUint16(at + 8, little);
  }
  if (photometric === 3) return 'P';
  if ((photometric === 0 || photometric === 1) && bits === 1) return '1';
  return undefined;
}

/** What sharp's `metadata()` says, as far as the mode depends on it. */
export interface DecodedLayout {
  readonly format: string;
  /** Channels in the file (sharp's `metadata().channels`). */
  readonly channels: number;
  readonly hasAlpha: boolean;
  /** libvips interpretation, e.g. 'srgb', 'b-w', 'grey16', 'rgb16', 'cmyk'. */
  readonly space: string;
  readonly isPalette: boolean;
  readonly sixteenBit: boolean;
}

/**
 * PIL's mode for any input sharp decodes. PNG and GIF are read from their headers;
 * the rest follow the channel layout (greyscale JPEG/TIFF -> 'L', WebP/AVIF/TIFF with
 * alpha -> 'RGBA', 16-bit single-channel grey -> 'I', CMYK -> 'CMYK').
 */
export function pilModeOf(bytes: Uint8Array, layout: DecodedLayout): PilMode {
  if (layout.format === 'png') {
    const mode = pngMode(bytes);
    if (mode) return mode;
  }
  if (layout.format === 'gif') return gifMode(bytes);
  if (layout.space === 'cmyk') return 'CMYK';
  if (layout.format === 'tiff') {
    const mode = tiffMode(bytes);
    if (mode) return mode;
  }
  if (layout.isPalette && !layout.sixteenBit) return 'P';
  const grey = layout.space === 'b-w' || layout.space === 'grey16';
  if (grey && layout.sixteenBit && !layout.hasAlpha) return 'I';
  if (grey) return layout.hasAlpha ? 'LA' : 'L';
  return layout.hasAlpha ? 'RGBA' : 'RGB';
}
