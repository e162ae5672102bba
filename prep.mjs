import sharp from 'sharp';
import { decodeImage, preprocessToUint8, normaliseUint8Into } from './dist/executors/clip/preprocess/index.js';
sharp.concurrency(1);
const w = 640, h = 427; const raw = Buffer.alloc(w*h*3); for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i >> 9)) & 255;
const jpg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
const png = await sharp(raw.subarray(0, 224*224*3), { raw: { width: 224, height: 224, channels: 3 } }).png().toBuffer();
for (const [name, buf] of [['jpeg', jpg], ['png', png]]) {
  let td = 0, tr = 0, tn = 0; const out = new Float32Array(3*224*224);
  const c0 = process.cpuUsage();
  for (let i = 0; i < 50; i++) {
    const a = performance.now(); const img = await decodeImage(new Uint8Array(buf)); const b = performance.now();
    const chw = preprocessToUint8(img, 224); const c = performance.now();
    normaliseUint8Into(chw, out, 0); const d = performance.now();
    td += b - a; tr += c - b; tn += d - c;
  }
  const cpu = process.cpuUsage(c0);
  console.log(name, 'decode', (td/50).toFixed(2), 'resize+crop', (tr/50).toFixed(2), 'normalise', (tn/50).toFixed(2), 'cpu/img', ((cpu.user+cpu.system)/1000/50).toFixed(2));
}
