#!/usr/bin/env python3
"""Reference CLIP image preprocessing with PIL, for checking clipflow's TypeScript port.

Dev-only tool: nothing at runtime imports it, and the files it writes are committed,
so the unit tests need neither Python nor PIL. It needs Pillow and numpy
(Debian: `apt-get install -y python3-pil python3-numpy`, run with /usr/bin/python3).

It does two things:

1. Generates the test images in test/fixtures/images/ (deterministic: a seeded
   generator; gradients, mild noise and hard-edged shapes so that bicubic overshoot
   and clipping are exercised) in every mode PIL opens differently: RGB, L, LA,
   RGBA, P (palette, with and without tRNS), 1-bit, 16-bit grey ('I'), 16-bit RGB,
   grey + tRNS, JPEG (incl. an EXIF orientation tag PIL must ignore), WebP,
   two-frame GIF, transparent GIF, grey GIF, TIFF (RGB, palette, 1-bit), CMYK
   JPEG. AVIF is not written: this Pillow cannot, and the TS test makes a
   lossless AVIF from a PNG fixture instead.

2. Runs OpenAI CLIP's `_transform(S)` on each image, the way clip-server feeds it
   `Image.open(blob)`: Resize(S, BICUBIC) -> CenterCrop(S) -> convert('RGB')
   -> ToTensor -> Normalize. torchvision is not needed: its two size formulas are
   written out below (torchvision.transforms.functional `_compute_resized_output_size`
   and `center_crop`); the pixels come from PIL itself.
   The output is the uint8 RGB crop before ToTensor (CHW, row-delta, gzip), which
   is exactly what ToTensor/Normalize consume; one float32 tensor is also stored
   to pin the normalisation arithmetic (float32 x/255, minus mean, divided by std).

Usage:  /usr/bin/python3 tools/reference/pil_preprocess_reference.py [--root REPO]
Writes: test/fixtures/images/*, test/fixtures/preprocess/{manifest.json,*.u8.gz,*.f32}
"""
import argparse
import gzip
import io
import json
import os
import struct
import zlib

import numpy as np
import PIL
from PIL import Image, ImageDraw

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
SIZES = (224, 32)


def scene(w, h, seed, noise=1.0):
    """An RGB float image: two gradients, a sine pattern, shapes with hard edges, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 100 * np.sin(x / 7.0 + seed) * np.cos(y / 11.0)
    img = np.stack([r, g, b], axis=-1)
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(pil)
    for i in range(6):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(1, w // 2 + 2)), y0 + int(rng.integers(1, h // 2 + 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if i % 2 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    draw.line([0, 0, w - 1, h - 1], fill=(255, 255, 255), width=2)
    out = np.asarray(pil).astype(np.float64) + rng.normal(0, noise, (h, w, 3))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def png_bytes(arr, colour_type, depth):
    """A minimal PNG writer for the 16-bit layouts PIL cannot save (RGB;16, LA;16)."""
    h, w = arr.shape[:2]
    raw = arr.astype(">u2" if depth == 16 else "u1").reshape(h, -1).tobytes()
    stride = len(raw) // h
    rows = b"".join(b"\x00" + raw[i * stride:(i + 1) * stride] for i in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def generate(images):
    """Writes every fixture image; returns {file name: what it exercises}."""
    made = {}

    def save(name, im, note, **kw):
        im.save(os.path.join(images, name), **kw)
        made[name] = note

    def save_bytes(name, data, note):
        with open(os.path.join(images, name), "wb") as f:
            f.write(data)
        made[name] = note

    photo = Image.fromarray(scene(640, 427, 1, noise=6))
    save("photo_640x427.jpg", photo, "RGB JPEG 4:2:0, downscale", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW": PIL does not apply it, so neither may we
    save("exif_rot6_96x64.jpg", Image.fromarray(scene(96, 64, 2)), "EXIF orientation ignored",
         quality=92, exif=exif.tobytes())
    save("square_224.png", Image.fromarray(scene(224, 224, 3)), "no resize, no crop")
    save("tall_150x400.png", Image.fromarray(scene(150, 400, 4)), "upscale, vertical crop")
    save("wide_401x97.png", Image.fromarray(scene(401, 97, 5)), "upscale, odd crop")
    save("one_1x1.png", Image.fromarray(np.array([[[200, 30, 90]]], np.uint8)), "1x1")
    save("tiny_3x5.png", Image.fromarray(scene(3, 5, 6, noise=20)), "3x5 upscale")
    pal = Image.fromarray(scene(97, 61, 7, noise=0)).quantize(64)
    save("palette_97x61.png", pal, "P: NEAREST resize")
    pal_t = Image.fromarray(scene(61, 97, 8, noise=0)).quantize(32)
    save("palette_trns_61x97.png", pal_t, "P + tRNS: alpha not used", transparency=3)
    grey = scene(120, 90, 9)[..., 0]
    save("grey_120x90.png", Image.fromarray(grey, "L"), "L")
    save("grey_trns_45x50.png", Image.fromarray(scene(45, 50, 10)[..., 1], "L"),
         "L + tRNS: stays L, no premultiply", transparency=40)
    la = np.stack([scene(80, 100, 11)[..., 2], scene(80, 100, 12)[..., 0]], axis=-1)
    save("grey_alpha_80x100.png", Image.fromarray(la, "LA"), "LA: premultiplied resize")
    rgba = np.concatenate([scene(130, 70, 13), scene(130, 70, 14)[..., 1:2]], axis=-1)
    rgba[:10, :, 3] = 0  # fully transparent rows keep their colour in PIL
    save("rgba_130x70.png", Image.fromarray(rgba, "RGBA"), "RGBA: premultiplied resize")
    save("bilevel_50x33.png", Image.fromarray(scene(50, 33, 15)[..., 0] > 128), "1-bit: NEAREST")
    y, x = np.mgrid[0:48, 0:64]
    g16 = np.where(x < 32, x * 9 + y * 3, 20000 + x * 500 + y * 40).astype(np.uint16)
    save("grey16_64x48.png", Image.fromarray(g16), "16-bit grey -> PIL 'I', clipped to 255")
    rgb16 = scene(40, 30, 16).astype(np.uint16) * 257 + np.uint16(113)
    save_bytes("rgb16_40x30.png", png_bytes(rgb16, 2, 16), "16-bit RGB -> high byte")
    save("lossless_90x60.webp", Image.fromarray(scene(90, 60, 17)), "WebP lossless", lossless=True)
    save("lossy_90x60.webp", Image.fromarray(scene(90, 60, 18)), "WebP lossy", quality=80)
    save("rgba_lossless_70x50.webp", Image.fromarray(np.concatenate(
        [scene(70, 50, 19), scene(70, 50, 20)[..., :1]], axis=-1), "RGBA"), "WebP RGBA", lossless=True)
    f0 = Image.fromarray(scene(72, 48, 21, noise=0)).quantize(100)
    f1 = Image.fromarray(scene(72, 48, 22, noise=0)).quantize(100)
    save("anim_72x48.gif", f0, "GIF 2 frames: first frame, P", save_all=True, append_images=[f1], duration=100)
    trns = Image.fromarray(scene(60, 40, 28, noise=0)).quantize(32)
    save("trns_60x40.gif", trns, "GIF transparency: palette colour, not black",
         transparency=trns.getpixel((30, 20)))
    save("grey_40x30.gif", Image.fromarray(grey[:30, :40], "L"), "GIF identity palette: PIL opens as L",
         optimize=False)
    save("rgb_110x80.tiff", Image.fromarray(scene(110, 80, 23)), "TIFF deflate", compression="tiff_adobe_deflate")
    save("palette_80x50.tiff", Image.fromarray(scene(80, 50, 24, noise=0)).quantize(16), "TIFF palette: NEAREST")
    save("bilevel_45x30.tiff", Image.fromarray(scene(45, 30, 25)[..., 1] > 100), "TIFF 1-bit: NEAREST")
    inks = np.concatenate([scene(90, 70, 26, noise=0), scene(90, 70, 27, noise=0)[..., :1] // 2], axis=-1)
    save("cmyk_90x70.jpg", Image.fromarray(inks, "CMYK"), "CMYK JPEG: PIL's naive conversion", quality=90)
    return made


def resized_size(w, h, s):
    """torchvision Resize(int) on a PIL image: short side -> s, long side truncated."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = s, int(s * long / short)
    return (new_short, new_long) if w <= h else (new_long, new_short)


def clip_uint8(im, s):
    """OpenAI CLIP's transform up to (not including) ToTensor, as uint8 HWC RGB."""
    w, h = resized_size(*im.size, s)
    if (w, h) != im.size:  # torchvision returns the image untouched when sizes agree
        im = im.resize((w, h), Image.BICUBIC)
    top = int(round((h - s) / 2.0))  # torchvision center_crop; Python round: half to even
    left = int(round((w - s) / 2.0))
    im = im.crop((left, top, left + s, top + s))
    return np.asarray(im.convert("RGB")), (w, h), (top, left)


def pack_u8(u8_hwc):
    """CHW bytes, each row stored as differences from its left neighbour (mod 256, as
    PNG's Sub filter does) so smooth upscaled crops gzip small; mtime=0 keeps the
    bytes reproducible run to run."""
    chw = np.ascontiguousarray(u8_hwc.transpose(2, 0, 1)).astype(np.int16)
    delta = np.concatenate([chw[..., :1], np.diff(chw, axis=-1)], axis=-1) % 256
    return gzip.compress(delta.astype(np.uint8).tobytes(), 9, mtime=0)


def normalise(u8_hwc):
    """ToTensor + Normalize in float32, in torchvision's order of operations."""
    x = u8_hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.array(MEAN, np.float32).reshape(3, 1, 1)
    std = np.array(STD, np.float32).reshape(3, 1, 1)
    return (x - mean) / std


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(here)))
    args = parser.parse_args()
    images = os.path.join(args.root, "test", "fixtures", "images")
    out = os.path.join(args.root, "test", "fixtures", "preprocess")
    os.makedirs(images, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    notes = generate(images)
    cases = []
    for name in sorted(notes):
        with open(os.path.join(images, name), "rb") as f:
            blob = f.read()
        for s in SIZES:
            im = Image.open(io.BytesIO(blob))  # fresh handle: first frame, as clip-server sees it
            mode, size = im.mode, im.size
            u8, resized, crop = clip_uint8(im, s)
            ref = f"{os.path.splitext(name)[0]}_{os.path.splitext(name)[1][1:]}_{s}.u8.gz"
            with open(os.path.join(out, ref), "wb") as f:
                f.write(pack_u8(u8))
            cases.append({"image": name, "note": notes[name], "pilMode": mode, "width": size[0],
                          "height": size[1], "size": s, "resized": list(resized),
                          "crop": {"top": crop[0], "left": crop[1]}, "reference": ref})
    # One full float32 tensor pins ToTensor/Normalize bit for bit.
    u8, _, _ = clip_uint8(Image.open(os.path.join(images, "tiny_3x5.png")), 32)
    normalise(u8).astype("<f4").tofile(os.path.join(out, "tiny_3x5_png_32.f32"))
    manifest = {"generator": "tools/reference/pil_preprocess_reference.py", "pillow": PIL.__version__,
                "layout": "uint8 RGB CHW after Resize+CenterCrop+convert('RGB'); "
                "each row as left-neighbour differences mod 256; gzip",
                "float32": {"image": "tiny_3x5.png", "size": 32, "file": "tiny_3x5_png_32.f32"},
                "cases": cases}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"{len(notes)} images, {len(cases)} reference crops -> {out}")


if __name__ == "__main__":
    main()
