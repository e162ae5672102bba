import { isUtf8 } from 'node:buffer';

/**
 * Strict UTF-8 helpers. Node's default decoding replaces malformed bytes with
 * U+FFFD without a word; at the wire boundary we would rather refuse the input,
 * naming where it breaks, than embed text the client never sent.
 */

/** Lead byte -> sequence length (0 = not a valid lead byte). Overlongs and surrogates are caught by isUtf8. */
function sequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b < 0xe0) return 2;
  if (b >= 0xe0 && b < 0xf0) return 3;
  if (b >= 0xf0 && b < 0xf5) return 4;
  return 0;
}

/** Offset of the first byte that breaks UTF-8, or the length when all of it is valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceLength(bytes[i]!);
    if (n === 0 || i + n > bytes.length || !isUtf8(bytes.subarray(i, i + n))) return i;
    i += n;
  }
  return i;
}

const fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes UTF-8, throwing a TypeError that names the offset of the first bad
 * byte instead of substituting U+FFFD.
 */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return fatal.decode(bytes);
  } catch {
    throw new TypeError(`invalid UTF-8 at byte ${firstInvalidUtf8(bytes)} of a ${bytes.length}-byte string`);
  }
}
