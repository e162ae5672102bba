/**
 * The three ways an image reaches the encoder, reduced to one {@link DecodedImage}:
 * encoded bytes (a document's `blob`, or what the URI fetcher downloaded), a
 * `data:` URI, or a uint8 tensor that PIL would take through `Image.fromarray`.
 */
import { BadRequestError } from '../../../core/errors.js';
import { canonicalDtype, NdArray } from '../../../core/document/ndarray.js';
import { checkPixelBudget, decodeBytes, type DecodeOptions, type DecodedImage } from './decode.js';
import type { PilMode } from './pil-mode.js';

/** Encoded bytes, a `data:` URI, or an H x W (x C) uint8 tensor. */
export type ImageInput = Uint8Array | string | NdArray;

/** A decoded `data:` URI. */
export interface DataUri {
  /** The declared media type, lower-cased; '' when none was given. */
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

const HEX = /^[0-9a-fA-F]{2}$/;

/**
 * Turns `%XX` escapes into bytes and other characters into their UTF-8 bytes.
 * Works on the UTF-8 encoding of the text: a multi-byte sequence never contains
 * the byte of '%', so escapes can be found byte by byte.
 */
function percentDecode(text: string): Uint8Array {
  const utf8 = Buffer.from(text, 'utf8');
  const out = new Uint8Array(utf8.length);
  let o = 0;
  for (let i = 0; i < utf8.length; i++) {
    if (utf8[i] !== 0x25) {
      out[o++] = utf8[i]!;
      continue;
    }
    const hex = utf8.toString('latin1', i + 1, i + 3);
    if (!HEX.test(hex)) throw new BadRequestError(`invalid data URI: bad percent escape '%${hex}' at byte ${i}`);
    out[o++] = parseInt(hex, 16);
    i += 2;
  }
  return out.subarray(0, o);
}

/**
 * Parses a `data:[<media type>][;base64],<data>` URI (RFC 2397). The payload is
 * percent-decoded first, as browsers do; with `;base64` it must then be valid
 * base64 (standard or URL-safe alphabet, whitespace ignored) — Node's own decoder
 * silently skips garbage, which would turn a mangled upload into a confusing
 * "corrupt image" instead of naming the real problem.
 */
export function parseDataUri(uri: string): DataUri {
  if (!/^data:/i.test(uri)) throw new BadRequestError('not a data: URI');
  const comma = uri.indexOf(',');
  if (comma < 0) throw new BadRequestError('invalid data URI: no comma before the data');
  const params = uri.slice(5, comma).split(';').map((p) => p.trim());
  const base64 = params.length > 1 && params[params.length - 1]!.toLowerCase() === 'base64';
  const mediaType = (params[0] ?? '').toLowerCase();
  const body = uri.slice(comma + 1);
  if (!base64) return { mediaType, bytes: percentDecode(body) };
  const text = (body.includes('%') ? Buffer.from(percentDecode(body)).toString('latin1') : body).replace(/[\t\n\f\r ]+/g, '');
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(text) || text.length % 4 === 1 || (text.includes('=') && text.length % 4 !== 0)) {
    throw new BadRequestError('invalid data URI: the payload is not valid base64');
  }
  const bytes = Buffer.from(text, 'base64');
  return { mediaType, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

const TENSOR_MODES: Record<number, PilMode> = { 1: 'L', 2: 'LA', 3: 'RGB', 4: 'RGBA' };

/**
 * A uint8 tensor as `Image.fromarray` sees it: [H, W] or [H, W, 1] is 'L',
 * [H, W, 2] 'LA', [H, W, 3] 'RGB', [H, W, 4] 'RGBA' (so it is resized premultiplied,
 * like an RGBA PNG). The bytes are used in place, not copied.
 */
export function imageFromTensor(tensor: NdArray, opts: DecodeOptions = {}): DecodedImage {
  const dtype = canonicalDtype(tensor.dtype);
  if (dtype !== '|u1') throw new BadRequestError(`image tensor must be uint8 (dtype '|u1'), got '${tensor.dtype}'`);
  const shape = tensor.shape;
  const channels = shape.length === 2 ? 1 : shape.length === 3 ? shape[2]! : 0;
  const mode = TENSOR_MODES[channels];
  if (!mode) throw new BadRequestError(`image tensor must have shape [H, W] or [H, W, C] with C in 1..4, got ${JSON.stringify(shape)}`);
  const [height, width] = shape as [number, number];
  if (!(height >= 1 && width >= 1)) throw new BadRequestError(`image tensor is empty: shape ${JSON.stringify(shape)}`);
  checkPixelBudget(width, height, opts.maxPixels);
  const expected = height * width * channels;
  if (tensor.buffer.byteLength !== expected) {
    throw new BadRequestError(`image tensor of shape ${JSON.stringify(shape)} needs ${expected} bytes, got ${tensor.buffer.byteLength}`);
  }
  return { data: tensor.buffer, width, height, channels, mode, format: 'tensor' };
}

/**
 * Any {@link ImageInput} to decoded pixels, checking the pixel budget before
 * decoding. Throws `BadRequestError` with the reason for anything unusable (the
 * caller adds which document it was). Strings must be `data:` URIs: remote
 * `http(s)` URIs are fetched (with their own limits) before they get here, and
 * local paths are never read by the server.
 */
export async function decodeImage(input: ImageInput, opts: DecodeOptions = {}): Promise<DecodedImage> {
  if (input instanceof NdArray) return imageFromTensor(input, opts);
  if (typeof input === 'string') {
    if (!/^data:/i.test(input)) throw new BadRequestError(`only data: URIs are decoded here, got '${input.slice(0, 32)}${input.length > 32 ? '...' : ''}'`);
    return decodeBytes(parseDataUri(input).bytes, opts);
  }
  if (input instanceof Uint8Array) return decodeBytes(input, opts);
  throw new BadRequestError('image input must be bytes, a data: URI or a uint8 tensor');
}
