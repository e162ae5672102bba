#!/usr/bin/env python3
"""Reference CLIP forward pass in numpy, for checking clipflow's generated graphs.

Dev-only tool. It reads the weights bundle that tools/generate-clip-model writes
(weights.json: name -> {offset, shape} into weights.bin, float32 little-endian,
OpenAI state_dict names and PyTorch layouts) and computes CLIP's text and image
embeddings the way clip/model.py does, in float64 by default, so an ONNX graph
built from the same weights can be compared against an independent
implementation that shares no code with it.

Usage:
  python3 clip_reference.py --weights DIR --input in.json --output out.json [--float32] [--hidden]

in.json:  {"input_ids": [[49406, ..., 49407, 0, ...], ...],        (any length <= 77)
           "pixel_values": {"shape": [N, 3, S, S], "data": [...]}}  (or nested lists)
           either key may be left out.
out.json: {"text_embeds": [[...]], "image_embeds": [[...]]}
          plus "text_last_hidden_state" / "vision_last_hidden_state" with --hidden
          (text: after ln_final; vision: encoder output before ln_post, as in HF).
"""
import argparse
import json
import os

import numpy as np


def load_bundle(directory, dtype):
    with open(os.path.join(directory, "weights.json")) as f:
        index = json.load(f)
    raw = np.fromfile(os.path.join(directory, "weights.bin"), dtype="<f4")
    weights = {}
    for name, entry in index["tensors"].items():
        start = entry["offset"] // 4
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        weights[name] = raw[start:start + count].reshape(entry["shape"]).astype(dtype)
    return index["preset"], weights


def layer_norm(x, w, b, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def softmax(x):
    # Rows always hold a finite entry (the diagonal), so the max is finite.
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(x, W, prefix, heads, mask):
    n, t, width = x.shape
    hd = width // heads
    qkv = x @ W[prefix + ".in_proj_weight"].T + W[prefix + ".in_proj_bias"]
    q, k, v = np.split(qkv, 3, axis=-1)

    def split_heads(a):
        return a.reshape(n, t, heads, hd).transpose(0, 2, 1, 3)

    q, k, v = split_heads(q), split_heads(k), split_heads(v)
    scores = (q / np.sqrt(hd)) @ k.transpose(0, 1, 3, 2)
    if mask is not None:
        scores = scores + mask
    out = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(n, t, width)
    return out @ W[prefix + ".out_proj.weight"].T + W[prefix + ".out_proj.bias"]


def mlp(x, W, prefix):
    h = x @ W[prefix + ".c_fc.weight"].T + W[prefix + ".c_fc.bias"]
    h = h * (1.0 / (1.0 + np.exp(-1.702 * h)))  # QuickGELU
    return h @ W[prefix + ".c_proj.weight"].T + W[prefix + ".c_proj.bias"]


def transformer(x, W, prefix, layers, heads, mask=None):
    for i in range(layers):
        p = "%s.resblocks.%d" % (prefix, i)
        x = x + attention(layer_norm(x, W[p + ".ln_1.weight"], W[p + ".ln_1.bias"]), W, p + ".attn", heads, mask)
        x = x + mlp(layer_norm(x, W[p + ".ln_2.weight"], W[p + ".ln_2.bias"]), W, p + ".mlp")
    return x


def encode_text(ids, preset, W):
    ids = np.asarray(ids, dtype=np.int64)
    n, t = ids.shape
    x = W["token_embedding.weight"][ids] + W["positional_embedding"][:t]
    mask = np.triu(np.full((t, t), -np.inf), 1).astype(x.dtype)
    x = transformer(x, W, "transformer", preset["textLayers"], preset["textHeads"], mask)
    x = layer_norm(x, W["ln_final.weight"], W["ln_final.bias"])
    # EOT has the largest id, so argmax finds it (first occurrence, as torch does).
    pooled = x[np.arange(n), ids.argmax(axis=-1)]
    return pooled @ W["text_projection"], x


def encode_image(pixels, preset, W):
    n, c, s, _ = pixels.shape
    p = preset["patchSize"]
    g = s // p
    width = preset["visionWidth"]
    # Conv with kernel = stride = p is a matmul over non-overlapping patches.
    patches = pixels.reshape(n, c, g, p, g, p).transpose(0, 2, 4, 1, 3, 5).reshape(n, g * g, c * p * p)
    tokens = patches @ W["visual.conv1.weight"].reshape(width, c * p * p).T
    cls = np.broadcast_to(W["visual.class_embedding"], (n, 1, width))
    x = np.concatenate([cls, tokens], axis=1) + W["visual.positional_embedding"]
    x = layer_norm(x, W["visual.ln_pre.weight"], W["visual.ln_pre.bias"])
    x = transformer(x, W, "visual.transformer", preset["visionLayers"], preset["visionHeads"])
    pooled = layer_norm(x[:, 0, :], W["visual.ln_post.weight"], W["visual.ln_post.bias"])
    return pooled @ W["visual.proj"], x


def read_pixels(value, dtype):
    if isinstance(value, dict):
        return np.asarray(value["data"], dtype=dtype).reshape(value["shape"])
    return np.asarray(value, dtype=dtype)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", required=True, help="directory holding weights.json and weights.bin")
    ap.add_argument("--input", required=True, help="JSON file with input_ids and/or pixel_values")
    ap.add_argument("--output", required=True, help="where to write the embeddings (JSON)")
    ap.add_argument("--float32", action="store_true", help="compute in float32 instead of float64")
    ap.add_argument("--hidden", action="store_true", help="also write the last hidden states")
    args = ap.parse_args()

    dtype = np.float32 if args.float32 else np.float64
    preset, W = load_bundle(args.weights, dtype)
    with open(args.input) as f:
        inputs = json.load(f)
    out = {}
    if "input_ids" in inputs:
        emb, hidden = encode_text(inputs["input_ids"], preset, W)
        out["text_embeds"] = emb.tolist()
        if args.hidden:
            out["text_last_hidden_state"] = hidden.tolist()
    if "pixel_values" in inputs:
        emb, hidden = encode_image(read_pixels(inputs["pixel_values"], dtype), preset, W)
        out["image_embeds"] = emb.tolist()
        if args.hidden:
            out["vision_last_hidden_state"] = hidden.tolist()
    with open(args.output, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
