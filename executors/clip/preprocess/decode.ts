/**
 * Decoding encoded images into raw pixels with sharp (libvips, off the main
 * thread), keeping what PIL would see: the first frame only, no EXIF rotation, no
 * ICC conversion, 16-bit grey kept at 16 bits, and PIL's mode alongside the pixels.
 * The common 8-bit PNG skips sharp (png-plain.ts): the same pixels for 40-65 %
 * of the CPU.
 */
import sharp, { type OutputInfo } from 'sharp';
import { BadRequestError } from '../../../core/errors.js';
import { resizedSize } from './geometry.js';
import { jpegHeader, type ImageHeader } from './jpeg-header.js';
import { gifFirstFrame, pilModeOf, type PilMode } from './pil-mode.js';
import { plainPng } from './png-plain.js';

// One libvips thread per decode: images decode in parallel on libuv's pool instead,
// and the model's intra-op threads keep the cores (no oversubscription).
sharp.concurrency(1);
// Every request brings images of its own, so libvips' operation cache never hits:
// it would only keep their pixels (up to 50 MB) and cost a lookup per call.
sharp.cache(false);

/** 100 megapixels: far beyond any photo a CLIP model gains from, far below a bomb. */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * Formats accepted: what clip-server users send. Anything else sharp's libvips can
 * read (SVG above all: rendering it is attack surface we do not need) is refused,
 * as clip-server's PIL would refuse most of it.
 */
const ACCEPTED = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

/** Decoded pixels, interleaved, plus the PIL mode that decides how they are resized. */
export interface DecodedImage {
  /** Row-major interleaved samples: bytes, or 16-bit grey for mode 'I'. */
  readonly data: Uint8Array | Uint16Array;
  readonly width: number;
  readonly height: number;
  /** Samples per pixel in `data` (1-4); may exceed what the mode uses (tRNS alpha). */
  readonly channels: number;
  /** The mode PIL's `Image.open` would give this image. */
  readonly mode: PilMode;
  /** Container format as sharp names it ('jpeg', 'png', 'heif', ... or 'tensor'). */
  readonly format: string;
}

/** Options for {@link decodeImage}. */
export interface DecodeOptions {
  /**
   * Largest accepted width x height, checked from the header before any pixel is
   * decoded (decompression bombs). Default {@link DEFAULT_MAX_PIXELS}.
   */
  readonly maxPixels?: number;
  /**
   * Fast mode, off by default: when the image is at least twice the target, let
   * libvips resize it so the short side is this size (CLIP's Resize(S) arithmetic)
   * while decoding — JPEG shrink-on-load, libvips's bicubic — instead of PIL-exact
   * resampling afterwards. The result is an already-resized 'RGB' image that only
   * needs the centre crop. Smaller images are decoded as usual.
   */
  readonly shrinkTo?: number;
}

/** First line of a libvips message: sharp repeats the decoder's log lines after it. */
function reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0]!.trim();
}

/** Megapixels to one decimal, or plain pixels where that would round to nothing. */
function pixels(n: number): string {
  return n >= 100_000 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n} pixels`;
}

/** Refuses an image over the pixel budget, naming both numbers and the setting. */
export function checkPixelBudget(width: number, height: number, maxPixels: number = DEFAULT_MAX_PIXELS): void {
  if (width * height > maxPixels) {
    throw new BadRequestError(`image is ${width}x${height} (${pixels(width * height)}), over the limit of ${pixels(maxPixels)} (max_image_pixels)`);
  }
}

/**
 * Decodes encoded bytes (jpeg, png, webp, gif, tiff, avif) to raw pixels.
 * Throws {@link BadRequestError} with the reason for empty, non-image, unsupported,
 * corrupt or truncated data and for images over `maxPixels`; the caller adds which
 * document it was.
 */
export async function decodeBytes(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  // The common PNG decodes without sharp (png-plain.ts); fast mode's resize-on-load stays with sharp.
  const png = opts.shrinkTo === undefined ? plainPng(bytes) : undefined;
  if (png) {
    checkPixelBudget(png.width, png.height, opts.maxPixels);
    const image = await png.decode();
    if (image) return image;
  }
  return decodeWithSharp(bytes, opts);
}

/** {@link decodeBytes} without the direct PNG path: every format through sharp. */
export async function decodeWithSharp(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new BadRequestError('image data is empty (0 bytes)');
  const input = {
    // A second guard behind our header check, for decoders that would allocate
    // more than the header admitted.
    limitInputPixels: Math.max(1, Math.min(Math.floor(maxPixels), Number.MAX_SAFE_INTEGER)),
    animated: false,
    failOn: 'error' as const,
    ignoreIcc: true,
  };
  // A plain JPEG's header is read here (jpeg-header.ts); sharp reads the rest.
  let meta: ImageHeader | undefined = jpegHeader(bytes);
  try {
    // Reading the header allocates no pixels, so sharp's own limit is lifted here:
    // our check below then names the size and the limit in its message.
    meta ??= await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (e) {
    const why = reason(e);
    if (/unsupported image format/i.test(why)) throw new BadRequestError('data is not a recognised image (expected jpeg, png, webp, gif, tiff or avif)', { cause: e });
    throw new BadRequestError(`corrupt or truncated image: ${why}`, { cause: e });
  }
  const format = meta.format ?? 'unknown';
  if (!ACCEPTED.has(format) || (format === 'heif' && meta.compression !== 'av1')) {
    const name = format === 'heif' ? `heif/${meta.compression ?? 'unknown'}` : format;
    throw new BadRequestError(`unsupported image format '${name}' (expected jpeg, png, webp, gif, tiff or avif)`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1) throw new BadRequestError(`image header gives no size (${width}x${height})`);
  checkPixelBudget(width, height, maxPixels);

  const sixteenBit = meta.depth === 'ushort' || meta.depth === 'short';
  let mode: PilMode = pilModeOf(bytes, {
    format,
    channels: meta.channels ?? 3,
    hasAlpha: meta.hasAlpha ?? false,
    space: meta.space ?? 'srgb',
    isPalette: meta.isPalette ?? false,
    sixteenBit,
  });
  let pipeline = sharp(bytes, input);
  const [w, h] = opts.shrinkTo !== undefined ? resizedSize(width, height, opts.shrinkTo) : [width, height];
  // Fast mode only where it pays: shrinking by 2x or more (JPEG can then decode at
  // 1/2, 1/4, 1/8 scale). Smaller images take the exact path, which costs little.
  if (opts.shrinkTo !== undefined && width >= 2 * w && height >= 2 * h) {
    // PIL drops alpha without compositing, as removeAlpha does; libvips premultiplies
    // around its own resize.
    pipeline = pipeline.resize(w, h, { fit: 'fill', kernel: 'cubic' }).removeAlpha().toColourspace('srgb').raw();
    mode = 'RGB';
  } else if (mode === 'I') {
    // PIL keeps 16-bit grey as integers and clips only at convert('RGB'); sharp's
    // default 8-bit output would shift instead, so ask for the samples as they are.
    pipeline = sixteenBit ? pipeline.toColourspace('grey16').raw({ depth: 'ushort' }) : pipeline.toColourspace('b-w').raw();
  } else if (mode === 'CMYK') {
    // PIL resizes the CMYK samples and converts with its own formula afterwards;
    // keeping libvips in CMYK end to end yields the samples PIL decodes.
    pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw();
  } else if (mode === 'L' && meta.space === 'b-w') {
    // One channel instead of three identical ones; drops a tRNS alpha PIL ignores too.
    pipeline = pipeline.toColourspace('b-w').raw();
  } else {
    pipeline = pipeline.raw();
  }
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await pipeline.toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new BadRequestError(`corrupt or truncated ${format} image: ${reason(e)}`, { cause: e });
  }
  const { data, info } = out;
  let pixels: Uint8Array | Uint16Array = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (mode === 'I' && sixteenBit) {
    // A Buffer may sit at an odd offset of a shared pool, where no Uint16Array view
    // can start; copy into fresh memory then (Buffer.from could land in the pool again).
    if (data.byteOffset % 2 === 0) {
      pixels = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    } else {
      const copy = new Uint8Array(data.byteLength);
      copy.set(data);
      pixels = new Uint16Array(copy.buffer);
    }
  }
  if (format === 'gif' && info.channels === 4 && pixels instanceof Uint8Array) fillTransparent(pixels, gifFirstFrame(bytes).fill);
  return { data: pixels, width: info.width, height: info.height, channels: info.channels, mode, format };
}

/**
 * GIF only: where libvips reports a fully transparent pixel, put the colour PIL
 * shows there (the palette entry of the transparent index; alpha is dropped later).
 */
function fillTransparent(rgba: Uint8Array, fill: readonly [number, number, number]): void {
  for (let p = 0; p < rgba.length; p += 4) {
    if (rgba[p + 3] === 0) {
      rgba[p] = fill[0];
      rgba[p + 1] = fill[1];
      rgba[p + 2] = fill[2];
    }
  }
}
