/**
 * Size arithmetic of CLIP's `Resize(S)` + `CenterCrop(S)` on a PIL image, as
 * torchvision computes it. Off-by-one here shifts the whole crop by a pixel, which
 * costs more embedding parity than any resampling detail, so it lives apart and is
 * tested case by case.
 */

/** Where the S x S crop sits inside the resized image. */
export interface CropPlan {
  /** Source image size. */
  readonly width: number;
  readonly height: number;
  /** Size after `Resize(S)`: the short side is S. */
  readonly resizedWidth: number;
  readonly resizedHeight: number;
  /** Offset of the crop in the resized image. */
  readonly top: number;
  readonly left: number;
  /** Crop side, S. */
  readonly size: number;
}

/**
 * torchvision's `Resize(int)` output size: the short side becomes `size` and the
 * long side is `int(size * long / short)`, a float division truncated toward zero
 * (JS doubles are the same IEEE doubles Python uses, so the truncation agrees).
 * A square image stays square.
 */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  const portrait = width <= height;
  const short = portrait ? width : height;
  const long = portrait ? height : width;
  const newLong = Math.trunc((size * long) / short);
  return portrait ? [size, newLong] : [newLong, size];
}

/**
 * Python 3's `round()` on a float: ties go to the even neighbour (0.5 -> 0,
 * 1.5 -> 2, 2.5 -> 2). `Math.round` sends ties up, which would move the crop by
 * one pixel for every odd size difference of the form 4k + 1.
 */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * torchvision's `center_crop` offsets: `int(round((h - S) / 2.0))` for the top,
 * the same on the width for the left.
 */
export function centerCropOffset(extent: number, size: number): number {
  return Math.trunc(roundHalfEven((extent - size) / 2));
}

/** The whole plan for one image and model input size S. */
export function planCrop(width: number, height: number, size: number): CropPlan {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`crop size must be a positive integer, got ${size}`);
  if (!(width >= 1 && height >= 1)) throw new RangeError(`image size must be positive, got ${width}x${height}`);
  const [resizedWidth, resizedHeight] = resizedSize(width, height, size);
  return {
    width,
    height,
    resizedWidth,
    resizedHeight,
    top: centerCropOffset(resizedHeight, size),
    left: centerCropOffset(resizedWidth, size),
    size,
  };
}
