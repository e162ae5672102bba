import sharp from 'sharp';
import type { RenderedScene } from './render.js';

/** PNG bytes of a rendered scene. */
export async function encodePng(scene: RenderedScene): Promise<Uint8Array> {
  const buf = await sharp(Buffer.from(scene.rgb.buffer, scene.rgb.byteOffset, scene.rgb.byteLength), {
    raw: { width: scene.width, height: scene.height, channels: 3 },
  }).png().toBuffer();
  return new Uint8Array(buf);
}
