#!/usr/bin/env python3
"""A tiny OpenAI-architecture CLIP in PyTorch, exported to ONNX in both layouts
clipflow loads, plus reference embeddings computed by PyTorch itself.

Dev-only tool: nothing at runtime or in the test suite imports it; the files it
writes are committed (test/fixtures/torch-clip/, ~1.5 MB) and checked by
test/integration/executors/clip/torch-parity.test.ts, which serves the exported
graphs through a real ClipEncoder flow and compares its embeddings with the ones
written here (text cosine >= 0.99999, image cosine >= 0.999).

The model is OpenAI CLIP's ViT design (clip/model.py), only small:

  vision: Conv2d patch embedding (no bias) -> [class token; patches] + positional
          embedding -> ln_pre -> residual attention blocks -> ln_post on the class
          token -> @ proj
  text:   token embedding + positional embedding -> blocks under a causal mask ->
          ln_final -> the row at the EOT position (argmax of the ids) -> @ text_projection
  block:  x + attn(ln_1(x)); x + c_proj(QuickGELU(c_fc(ln_2(x))))  (nn.MultiheadAttention)

with one deliberate change to keep the fixtures small: the 49408-row token
table is factorised as low[id % 256] + high[id // 256] (two nn.Embedding
tables, summed), which still gives every id its own vector. Weights follow
CLIP's initialisation scales (seeded); LayerNorm gains/biases and the linear
biases are perturbed away from 1/0 so every parameter takes part.

Exports (torch.onnx.export, TorchScript exporter):

  OUT/clip-server/textual.onnx   input_ids, attention_mask: int32 [N, 77] -> output [N, D]
  OUT/clip-server/visual.onnx    pixel_values: float32 [N, 3, S, S]       -> output [N, D]
  OUT/hf/onnx/text_model.onnx    input_ids, attention_mask: int64 [N, L] (L dynamic)
                                 -> text_embeds [N, D], last_hidden_state [N, L, W]
  OUT/hf/onnx/vision_model.onnx  pixel_values -> image_embeds [N, D], last_hidden_state
  OUT/hf/config.json, OUT/hf/preprocessor_config.json, OUT/*/manifest.json

The attention mask is honoured the way HF's CLIP text model does it (padding
keys masked on top of the causal mask); with EOT pooling that cannot change the
embedding, but it keeps the input in the graph (an unused input is dropped by
the exporter) so clipflow has to feed it in the declared dtype.

References (OUT/expected.json) come from the PyTorch modules in float32, never
from ONNX:
  texts:  tokenised like OpenAI's clip.tokenize(text, truncate=True), with the
          dev reference tokenizer in tools/reference/clip_tokenizer_reference.py:
          [SOT] + BPE ids + [EOT], cut to 77 keeping EOT last, zero padded.
  images: every file in test/fixtures/images/ (or --images DIR), preprocessed as
          OpenAI CLIP's _transform(S): Image.open -> Resize(S, BICUBIC) ->
          CenterCrop(S) -> convert('RGB') -> ToTensor -> Normalize(mean, std).
          torchvision is used when installed; a PIL+numpy transcription of the
          same steps is always run too and must agree bit for bit.
The float64 forward of the same weights is computed as well and its distance to
the float32 reference printed, so the size of float32 rounding is on record.

Requirements (Debian bookworm; run with /usr/bin/python3):
  apt-get install -y python3-torch python3-numpy python3-pil libopenblas0-pthread \\
                     python3-regex [python3-torchvision]

Usage:
  /usr/bin/python3 tools/reference/torch_clip_export.py [--out DIR] [--images DIR]
                   [--opset 17] [--seed 20240611]
"""
import argparse
import hashlib
import io
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from clip_tokenizer_reference import Reference  # noqa: E402  (dev reference tokenizer)

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
SOT, EOT = 49406, 49407
VOCAB = 49408
CONTEXT = 77
LOW = 256  # factorised token table: low[id % LOW] + high[id // LOW]

CONFIG = {
    "embed_dim": 32,
    "image_size": 48,
    "patch_size": 8,
    "vision_width": 48,
    "vision_layers": 2,
    "vision_heads": 4,
    "text_width": 48,
    "text_layers": 2,
    "text_heads": 3,
}


# ---------------------------------------------------------------------- model

class LayerNorm(nn.LayerNorm):
    """CLIP's LayerNorm: half-precision inputs are normalised in float32 and cast back
    (float32 and the float64 cross-check run as they are)."""

    def forward(self, x):
        if x.dtype in (torch.float16, torch.bfloat16):
            return super().forward(x.float()).type(x.dtype)
        return super().forward(x)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))
        self.ln_2 = LayerNorm(width)

    def forward(self, x, attn_mask=None, key_padding_mask=None):
        # x is sequence-first [L, N, W], as in clip/model.py
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=attn_mask, key_padding_mask=key_padding_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.width, self.layers = width, layers
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, attn_mask=None, key_padding_mask=None):
        for block in self.resblocks:
            x = block(x, attn_mask, key_padding_mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, image_size, patch_size, width, layers, heads, output_dim):
        super().__init__()
        self.input_resolution = image_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        grid = image_size // patch_size
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward_with_hidden(self, pixels):
        x = self.conv1(pixels)                       # [N, W, g, g]
        x = x.reshape(x.shape[0], x.shape[1], -1)    # [N, W, g*g]
        x = x.permute(0, 2, 1)                       # [N, g*g, W]
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.ln_pre(x)
        x = self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2)
        hidden = x                                   # encoder output, before ln_post (HF's last_hidden_state)
        pooled = self.ln_post(x[:, 0, :])
        return pooled @ self.proj, hidden

    def forward(self, pixels):
        return self.forward_with_hidden(pixels)[0]


class TextTransformer(nn.Module):
    def __init__(self, width, layers, heads, output_dim, context=CONTEXT):
        super().__init__()
        self.context_length = context
        self.token_low = nn.Embedding(LOW, width)
        self.token_high = nn.Embedding((VOCAB + LOW - 1) // LOW, width)
        self.positional_embedding = nn.Parameter(torch.empty(context, width))
        self.transformer = Transformer(width, layers, heads)
        self.ln_final = LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, output_dim))
        # CLIP's build_attention_mask: -inf above the diagonal (a position sees itself and earlier ones)
        self.register_buffer("causal", torch.full((context, context), float("-inf")).triu(1), persistent=False)

    def embed_tokens(self, ids):
        return self.token_low(torch.remainder(ids, LOW)) + self.token_high(torch.div(ids, LOW, rounding_mode="floor"))

    def forward_with_hidden(self, ids, attention_mask=None):
        """ids: int64 [N, L] with L <= 77. Returns ([N, D] embeddings, [N, L, W] after ln_final)."""
        length = ids.shape[1]
        x = self.embed_tokens(ids) + self.positional_embedding[:length]
        mask = self.causal[:length, :length]
        padding = None if attention_mask is None else attention_mask == 0
        x = self.transformer(x.permute(1, 0, 2), mask, padding).permute(1, 0, 2)
        x = self.ln_final(x)
        # EOT carries the largest id; argmax over int32 (as HF does: ONNX ArgMax on int64 is not
        # universally implemented), first occurrence as torch and ONNX both define it.
        eot = ids.to(torch.int32).argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0]), eot]
        return pooled @ self.text_projection, x

    def forward(self, ids):
        return self.forward_with_hidden(ids)[0]


class TinyClip(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.visual = VisionTransformer(cfg["image_size"], cfg["patch_size"], cfg["vision_width"],
                                        cfg["vision_layers"], cfg["vision_heads"], cfg["embed_dim"])
        self.text = TextTransformer(cfg["text_width"], cfg["text_layers"], cfg["text_heads"], cfg["embed_dim"])
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.initialize()

    def initialize(self):
        """CLIP's initialize_parameters scales, plus non-trivial LayerNorm and bias values."""
        t = self.text
        nn.init.normal_(t.token_low.weight, std=0.02)
        nn.init.normal_(t.token_high.weight, std=0.02)
        nn.init.normal_(t.positional_embedding, std=0.01)
        nn.init.normal_(t.text_projection, std=t.transformer.width ** -0.5)
        for tr in (t.transformer, self.visual.transformer):
            w, n = tr.width, tr.layers
            proj_std = w ** -0.5 * (2 * n) ** -0.5
            attn_std = w ** -0.5
            fc_std = (2 * w) ** -0.5
            for block in tr.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
                for bias in (block.attn.in_proj_bias, block.attn.out_proj.bias, block.mlp.c_fc.bias,
                             block.mlp.c_proj.bias):
                    nn.init.normal_(bias, std=0.02)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.LayerNorm):
                    m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                    m.bias.copy_(0.05 * torch.randn_like(m.bias))


# ---------------------------------------------------------------- export heads

class ClipServerTextual(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def forward(self, input_ids, attention_mask):
        return self.text.forward_with_hidden(input_ids.long(), attention_mask)[0]


class HfText(nn.Module):
    def __init__(self, text):
        super().__init__()
        self.text = text

    def forward(self, input_ids, attention_mask):
        return self.text.forward_with_hidden(input_ids, attention_mask)


class ClipServerVisual(nn.Module):
    def __init__(self, visual):
        super().__init__()
        self.visual = visual

    def forward(self, pixel_values):
        return self.visual(pixel_values)


class HfVision(nn.Module):
    def __init__(self, visual):
        super().__init__()
        self.visual = visual

    def forward(self, pixel_values):
        return self.visual.forward_with_hidden(pixel_values)


def export(module, args, path, inputs, outputs, dynamic, opset):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                      opset_version=opset, do_constant_folding=True)
    print(f"  {os.path.relpath(path, ROOT)}: {os.path.getsize(path)} bytes")


def export_all(model, out, opset):
    cfg, s = model.cfg, model.cfg["image_size"]
    ids = torch.tensor([[SOT, 320, 1125, 539, 320, 2368, EOT] + [0] * (CONTEXT - 7)] * 2)
    mask = (torch.arange(CONTEXT) < 7).long().expand(2, -1).contiguous()
    pixels = torch.randn(2, 3, s, s)
    batch = {0: "batch_size"}

    cs = os.path.join(out, "clip-server")
    export(ClipServerTextual(model.text), (ids.int(), mask.int()), os.path.join(cs, "textual.onnx"),
           ["input_ids", "attention_mask"], ["output"],
           {"input_ids": batch, "attention_mask": batch, "output": batch}, opset)
    export(ClipServerVisual(model.visual), (pixels,), os.path.join(cs, "visual.onnx"),
           ["pixel_values"], ["output"], {"pixel_values": batch, "output": batch}, opset)

    hf = os.path.join(out, "hf")
    seq = {0: "batch_size", 1: "sequence_length"}
    # trace with a short sequence so nothing about 77 gets baked in
    export(HfText(model.text), (ids[:, :9], mask[:, :9]), os.path.join(hf, "onnx", "text_model.onnx"),
           ["input_ids", "attention_mask"], ["text_embeds", "last_hidden_state"],
           {"input_ids": seq, "attention_mask": seq, "text_embeds": batch, "last_hidden_state": seq}, opset)
    export(HfVision(model.visual), (pixels,), os.path.join(hf, "onnx", "vision_model.onnx"),
           ["pixel_values"], ["image_embeds", "last_hidden_state"],
           {"pixel_values": batch, "image_embeds": batch, "last_hidden_state": batch}, opset)

    manifest = {"name": "torch-tiny", "embedDim": cfg["embed_dim"], "imageSize": s, "contextLength": CONTEXT}
    write_json(os.path.join(cs, "manifest.json"), {**manifest, "layout": "clip-server"})
    write_json(os.path.join(hf, "manifest.json"), {**manifest, "layout": "hf"})
    write_json(os.path.join(hf, "config.json"), {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": cfg["embed_dim"],
        "logit_scale_init_value": 2.6592,
        "text_config": {
            "model_type": "clip_text_model", "hidden_size": cfg["text_width"],
            "intermediate_size": 4 * cfg["text_width"], "num_hidden_layers": cfg["text_layers"],
            "num_attention_heads": cfg["text_heads"], "max_position_embeddings": CONTEXT,
            "vocab_size": VOCAB, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
            "bos_token_id": SOT, "eos_token_id": EOT, "pad_token_id": 0,
        },
        "vision_config": {
            "model_type": "clip_vision_model", "hidden_size": cfg["vision_width"],
            "intermediate_size": 4 * cfg["vision_width"], "num_hidden_layers": cfg["vision_layers"],
            "num_attention_heads": cfg["vision_heads"], "image_size": s, "patch_size": cfg["patch_size"],
            "num_channels": 3, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
        },
        "clipflow_note": "tiny test model from tools/reference/torch_clip_export.py; token embedding "
                         "factorised as low[id % 256] + high[id // 256] (not loadable by transformers)",
    })
    write_json(os.path.join(hf, "preprocessor_config.json"), {
        "do_resize": True, "size": {"shortest_edge": s}, "resample": 3,
        "do_center_crop": True, "crop_size": {"height": s, "width": s},
        "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
        "image_mean": list(MEAN), "image_std": list(STD), "do_convert_rgb": True,
    })


# ------------------------------------------------------------------ reference inputs

def reference_texts():
    long_text = ("The quick brown fox jumps over the lazy dog while seventeen curious onlookers, "
                 "several of them holding umbrellas, cameras and half-eaten sandwiches, argue loudly "
                 "about whether the dog is in fact lazy or merely conserving energy for the long walk "
                 "home through the rain-soaked streets of the old harbour town at dusk. Nobody notices "
                 "the cat on the roof, who has seen it all before and will see it all again tomorrow.")
    return [
        "a photo of a cat",
        "A PHOTO OF A DOG!!!",
        "two people riding bicycles along the river at sunset",
        "a diagram of the transformer architecture, with attention heads.",
        "Hello, world! How's it going? I'm fine; you'd think so...",
        "don't won't can't shouldn't it's we're they've I'll he'd",
        "3.14159 is pi; 1,000,000 dollars in 2024 (approx. 42%)",
        "café crème brûlée à la française",
        "naïve résumé: Zürich, São Paulo, Ångström, Łódź",
        "東京タワーの夜景",
        "一只在草地上奔跑的小狗",
        "서울의 밤 풍경",
        "Pokémon ポケモン 포켓몬 宝可梦",
        "Привет, мир! Ελληνικά κείμενα",
        "مرحبا بالعالم",
        "🐶🐱 emoji party 🎉🎉",
        "👨\u200d👩\u200d👧 family ❤️ 👍🏽",
        "   lots   of\twhitespace\n\nand newlines   ",
        "&amp; html &lt;entities&gt; &quot;quoted&quot; &#39;x&#39;",
        "<|startoftext|> special tokens <|endoftext|> inside the text",
        "https://example.com/path?query=1&x=2 #hashtag @user",
        "\u201ccurly quotes\u201d and \u2018apostrophes\u2019 \u2014 em dash \u2026 ellipsis",
        "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28 \uff54\uff45\uff58\uff54 \uff11\uff12\uff13 and \ufb01ne \ufb02owers",
        "ALL CAPS WITH SYMBOLS $%^&*() and_under_scores",
        "banana",
        " ".join(["dog"] * 75),   # exactly 77 tokens with SOT and EOT: nothing cut
        " ".join(["dog"] * 76),   # one too many: cut, EOT kept last
        long_text,                # ~95 tokens: cut at 77
        " \t ",                   # whitespace only: a text document that tokenises to [SOT, EOT]
        "",                       # empty string: same ids; not a text document for clipflow's encoder
    ]


def tokenize(ref, texts):
    """OpenAI clip.tokenize(texts, context_length=77, truncate=True)."""
    rows, used = [], []
    for text in texts:
        ids = [SOT] + ref.encode(text) + [EOT]
        if len(ids) > CONTEXT:
            ids = ids[:CONTEXT]
            ids[-1] = EOT
        used.append(ids)
        rows.append(ids + [0] * (CONTEXT - len(ids)))
    return torch.tensor(rows, dtype=torch.int64), used


def resized_size(w, h, s):
    """torchvision's Resize(int) size rule: short side -> s, long side int(s * long / short)."""
    if w <= h:
        return s, int(s * h / w)
    return int(s * w / h), s


def pil_transform(im, s):
    """OpenAI CLIP's _transform(s) written out with PIL + numpy (torchvision 0.14 semantics)."""
    w, h = resized_size(*im.size, s)
    if (w, h) != im.size:  # torchvision's F.resize returns the image untouched when the size agrees
        im = im.resize((w, h), Image.BICUBIC)
    top, left = int(round((h - s) / 2.0)), int(round((w - s) / 2.0))
    im = im.crop((left, top, left + s, top + s)).convert("RGB")
    x = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255)
    return (x - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)


def torchvision_transform(s):
    try:
        from torchvision import transforms as T
    except ImportError:
        return None
    return T.Compose([
        T.Resize(s, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(s),
        lambda im: im.convert("RGB"),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


def preprocess_images(folder, s):
    tv = torchvision_transform(s)
    names = sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n)) and not n.startswith("."))
    tensors, files = [], []
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            blob = f.read()
        try:
            ours = pil_transform(Image.open(io.BytesIO(blob)), s)
        except Exception as e:  # not an image PIL opens (e.g. AVIF on old Pillow): not a reference case
            print(f"  skipping {name}: {e}")
            continue
        if tv is not None:
            theirs = tv(Image.open(io.BytesIO(blob)))
            if not torch.equal(ours, theirs):
                sys.exit(f"{name}: PIL transcription differs from torchvision by "
                         f"{(ours - theirs).abs().max().item():g}")
        im = Image.open(io.BytesIO(blob))
        tensors.append(ours)
        files.append({"file": name, "sha256": hashlib.sha256(blob).hexdigest(), "pilMode": im.mode,
                      "size": list(im.size)})
    return torch.stack(tensors), files, tv is not None


# ---------------------------------------------------------------------- output

def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


def rounded(vec):
    return [float(f"{float(v):.7g}") for v in vec]


def min_cosine(a, b):
    return torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=-1).min().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "test", "fixtures", "torch-clip"))
    ap.add_argument("--images", default=os.path.join(ROOT, "test", "fixtures", "images"))
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--seed", type=int, default=20240611)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # deterministic float32 reductions run to run
    model = TinyClip(CONFIG).eval()
    s = CONFIG["image_size"]
    print(f"torch {torch.__version__}, opset {args.opset}, seed {args.seed}, "
          f"{sum(p.numel() for p in model.parameters())} parameters")

    with torch.no_grad():
        export_all(model, args.out, args.opset)

        texts = reference_texts()
        ids, used = tokenize(Reference(), texts)
        text_emb = model.text(ids)
        pixels, files, with_tv = preprocess_images(args.images, s)
        image_emb = model.visual(pixels)

        model64 = TinyClip(CONFIG).double().eval()
        model64.load_state_dict(model.state_dict())
        print(f"  float32 vs float64 forward: text min cosine {min_cosine(text_emb, model64.text(ids)):.12f}, "
              f"image min cosine {min_cosine(image_emb, model64.visual(pixels.double())):.12f}")
        # the export heads must be the same function as the reference forward
        lengths = torch.tensor([len(u) for u in used])
        mask = (torch.arange(CONTEXT)[None, :] < lengths[:, None]).int()  # id 0 ("!") is a real token
        cs = ClipServerTextual(model.text)(ids.int(), mask)
        assert torch.allclose(cs, text_emb, atol=1e-6), "attention mask changed the text embedding"

    expected = {
        "generator": "tools/reference/torch_clip_export.py",
        "torch": torch.__version__,
        "opset": args.opset,
        "seed": args.seed,
        "config": CONFIG,
        "tokenizer": "tools/reference/clip_tokenizer_reference.py (OpenAI clip.tokenize, truncate=True)",
        "preprocess": ("OpenAI CLIP _transform: Resize(S, BICUBIC), CenterCrop(S), convert('RGB'), ToTensor, "
                       f"Normalize; torchvision {'checked' if with_tv else 'not installed'}"),
        "imagesDir": os.path.relpath(args.images, ROOT),
        "texts": [{"text": t, "ids": u, "embedding": rounded(e)} for t, u, e in zip(texts, used, text_emb)],
        "images": [{**f, "embedding": rounded(e)} for f, e in zip(files, image_emb)],
    }
    write_json(os.path.join(args.out, "expected.json"), expected)
    print(f"  {len(texts)} texts, {len(files)} images -> {os.path.relpath(os.path.join(args.out, 'expected.json'), ROOT)}")


if __name__ == "__main__":
    main()
