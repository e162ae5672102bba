"""The tiny-shapes CLIP: a small CNN image tower and a 2-layer causal text transformer.

Both towers end in a projection to a shared embedding (dim D); similarity is the
cosine times a learned logit scale. Text ids are the real CLIP BPE ids; the token
embedding is factorised as low[id % 256] + high[id // 256] to keep it small.
The text feature is read at the EOT token (the largest id of a row), as in CLIP.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
VOCAB = 49408
CONTEXT = 77


class ImageTower(nn.Module):
    def __init__(self, dim, widths=(32, 64, 128, 128), hidden=256, size=64):
        super().__init__()
        layers, cin = [], 3
        for w in widths:
            layers += [nn.Conv2d(cin, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            cin = w
        self.convs = nn.Sequential(*layers)
        grid = size // (2 ** len(widths))
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(cin * grid * grid, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, dim))

    def forward(self, pixels):
        return self.mlp(self.convs(pixels))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x, bias):
        n, l, w = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).reshape(n, l, 3, h, w // h).permute(2, 0, 3, 1, 4)
        att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(w // h)) + bias
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(n, l, w)
        x = x + self.out(y)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TextTower(nn.Module):
    def __init__(self, dim, width=128, heads=4, layers=2):
        super().__init__()
        self.low = nn.Embedding(256, width)
        self.high = nn.Embedding((VOCAB + 255) // 256, width)
        self.pos = nn.Parameter(torch.randn(CONTEXT, width) * 0.01)
        nn.init.normal_(self.low.weight, std=0.02)
        nn.init.normal_(self.high.weight, std=0.02)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.ln = nn.LayerNorm(width)
        self.proj = nn.Linear(width, dim, bias=False)
        causal = torch.full((CONTEXT, CONTEXT), -1e4).triu(1)
        self.register_buffer('causal', causal, persistent=False)

    def forward(self, ids, mask):
        ids = ids.long()
        l = ids.shape[1]
        x = self.low(torch.remainder(ids, 256)) + self.high(torch.div(ids, 256, rounding_mode='floor')) + self.pos[:l]
        # causal attention; padding keys are masked too (harmless: they follow EOT)
        bias = self.causal[:l, :l].unsqueeze(0).unsqueeze(0) + (1.0 - mask.float()).unsqueeze(1).unsqueeze(1) * -1e4
        for b in self.blocks:
            x = b(x, bias)
        x = self.ln(x)
        eot = F.one_hot(ids.argmax(-1), l).to(x.dtype)
        return self.proj((x * eot.unsqueeze(-1)).sum(1))


class TinyClip(nn.Module):
    def __init__(self, dim=64, text_width=128):
        super().__init__()
        self.visual = ImageTower(dim)
        self.textual = TextTower(dim, width=text_width)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
        self.register_buffer('mean', mean, persistent=False)
        self.register_buffer('std', std, persistent=False)

    def normalise_uint8(self, images):
        """uint8 [N,3,S,S] -> float pixels normalised exactly like clipflow's preprocessing."""
        return (images.float() / 255.0 - self.mean) / self.std
