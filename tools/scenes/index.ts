/** tiny-shapes: scene renderer and caption grammar (developer tool for training and tests). */
export * from './grammar.js';
export { sampleScene, twinOf, sampleBackground, shadeOf, hsvToRgb, boundingRadius } from './sample.js';
export { renderScene, signedDistance, type RenderOptions, type RenderedScene } from './render.js';
export { encodePng } from './png.js';
export { makeRng, type Rng } from './rng.js';
