/**
 * CLIP image preprocessing with PIL/torchvision parity: decode (sharp) ->
 * Resize(S, BICUBIC) -> CenterCrop(S) -> RGB -> ToTensor -> Normalize, written
 * straight into a batch tensor. See preprocess.ts for what is matched and what
 * is knowingly not.
 */
export { DEFAULT_MAX_PIXELS, checkPixelBudget, decodeBytes, type DecodedImage, type DecodeOptions } from './decode.js';
export { planCrop, resizedSize, centerCropOffset, roundHalfEven, type CropPlan } from './geometry.js';
export type { CroppedPixels } from './resize-crop.js';
export { pilModeOf, pngMode, gifMode, type PilMode } from './pil-mode.js';
export {
  CLIP_MEAN, CLIP_STD, CLIP_NORMALIZATION, preprocessImage, preprocessInto, preprocessToUint8, cropImage, normaliseCropInto,
  type Normalization, type PreprocessOptions,
} from './preprocess.js';
export { decodeImage, imageFromTensor, parseDataUri, type DataUri, type ImageInput } from './source.js';
