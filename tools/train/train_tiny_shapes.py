#!/usr/bin/env python3
"""Trains and exports the tiny-shapes CLIP (`tiny-shapes::clipflow`).

Data comes from the TypeScript scene renderer (tools/scenes/dataset.ts), already
preprocessed as clipflow serves images and tokenised with clipflow's tokenizer:

  node dist/tools/scenes/dataset.js --count 100000 --seed 1 --size 64 --out /tmp/ts/train --pairs
  node dist/tools/scenes/dataset.js --count 3000 --seed 777 --size 64 --out /tmp/ts/heldout
  /usr/bin/python3 tools/train/train_tiny_shapes.py --train /tmp/ts/train --heldout /tmp/ts/heldout \\
      --steps 4000 --seed 0 --out models/tiny-shapes

Loss per step (batch of image pairs: a scene and its twin with one fact changed):
  * image -> text over EVERY caption of the grammar, multi-positive (all captions
    true for the scene are positives; ambiguous ones are left out);
  * text -> image over the batch for the batch's captions (twins are hard negatives);
  * image -> [its caption + its skill alternatives] (colour / shape / count / swapped relation).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tiny_shapes_model import CONTEXT, TinyClip  # noqa: E402

SKILLS = ('color', 'shape', 'count', 'spatial')


def load(prefix):
    meta = json.load(open(prefix + '.json'))
    n, s, g = meta['count'], meta['size'], len(meta['grammar'])
    images = torch.from_numpy(np.fromfile(prefix + '.images.u8', dtype=np.uint8).reshape(n, 3, s, s))
    truth = torch.from_numpy(np.fromfile(prefix + '.truth.i8', dtype=np.int8).reshape(n, g))
    return meta, images, truth


def grammar_tensors(meta):
    rows = [c['ids'] for c in meta['grammar']]
    length = max(len(r) for r in rows)
    ids = torch.zeros(len(rows), length, dtype=torch.int32)
    mask = torch.zeros(len(rows), length, dtype=torch.int32)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r, dtype=torch.int32)
        mask[i, :len(r)] = 1
    return ids, mask


def multi_positive_loss(logits, truth):
    """-log( sum_{true} p ) with softmax over the non-ambiguous columns; truth in {1,0,-1}."""
    neg_inf = torch.finfo(logits.dtype).min
    pos = torch.where(truth == 1, logits, torch.full_like(logits, neg_inf))
    valid = torch.where(truth >= 0, logits, torch.full_like(logits, neg_inf))
    keep = (truth == 1).any(-1)
    return (valid.logsumexp(-1) - pos.logsumexp(-1))[keep].mean()


@torch.no_grad()
def evaluate(model, images, meta, g_ids, g_mask, batch=500):
    model.eval()
    t = F.normalize(model.textual(g_ids, g_mask), dim=-1)
    hits = {k: [0, 0] for k in SKILLS}
    full = [0, 0]
    for start in range(0, images.shape[0], batch):
        x = model.normalise_uint8(images[start:start + batch])
        sims = F.normalize(model.visual(x), dim=-1) @ t.T
        for j, row in enumerate(sims):
            sc = meta['scenes'][start + j]
            for skill, alts in sc['alts'].items():
                cand = [sc['primary']] + alts
                hits[skill][0] += int(row[cand].argmax().item() == 0)
                hits[skill][1] += 1
            full[0] += int(row.argmax().item() == sc['primary'])
            full[1] += 1
    model.train()
    out = {k: v[0] / max(1, v[1]) for k, v in hits.items()}
    out['grammar_top1'] = full[0] / full[1]
    return out


def export(model, out_dir, dim):
    model.eval()
    os.makedirs(out_dir, exist_ok=True)

    class Textual(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m.textual(input_ids, attention_mask)

    ids = torch.zeros(2, CONTEXT, dtype=torch.int32)
    ids[:, 0], ids[:, 1], ids[:, 2] = 49406, 320, 49407
    mask = (ids != 0).to(torch.int32)
    torch.onnx.export(Textual(model), (ids, mask), os.path.join(out_dir, 'textual.onnx'),
                      input_names=['input_ids', 'attention_mask'], output_names=['output'],
                      dynamic_axes={'input_ids': {0: 'batch'}, 'attention_mask': {0: 'batch'}, 'output': {0: 'batch'}},
                      opset_version=14, do_constant_folding=True)
    torch.onnx.export(model.visual, (torch.zeros(2, 3, 64, 64),), os.path.join(out_dir, 'visual.onnx'),
                      input_names=['pixel_values'], output_names=['output'],
                      dynamic_axes={'pixel_values': {0: 'batch'}, 'output': {0: 'batch'}},
                      opset_version=14, do_constant_folding=True)
    manifest = {'name': 'tiny-shapes::clipflow', 'embedDim': dim, 'imageSize': 64, 'contextLength': CONTEXT, 'layout': 'clip-server'}
    with open(os.path.join(out_dir, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', required=True)
    ap.add_argument('--heldout', required=True)
    ap.add_argument('--out', default=None, help='export folder (e.g. models/tiny-shapes)')
    ap.add_argument('--steps', type=int, default=4000)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--dim', type=int, default=64)
    ap.add_argument('--text-width', type=int, default=64)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--extra-captions', type=int, default=64)
    ap.add_argument('--eval-every', type=int, default=500)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--checkpoint', default=None)
    ap.add_argument('--resume', default=None, help='load weights from a checkpoint and skip training if --steps 0')
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(args.seed)
    meta, images, truth = load(args.train)
    hmeta, himages, _ = load(args.heldout)
    g_ids, g_mask = grammar_tensors(meta)
    primary = torch.tensor([s['primary'] for s in meta['scenes']])
    alts = torch.full((len(meta["scenes"]), 5), -1, dtype=torch.long)
    for i, s in enumerate(meta['scenes']):
        a = [x for v in s['alts'].values() for x in v]
        alts[i, :len(a)] = torch.tensor(a)
    pairs = meta.get('pairs', False)
    texts = [c['text'] for c in meta['grammar']]
    n_simple = sum(1 for t in texts if t.startswith('a photo of'))
    assert all(t.startswith('the ') for t in texts[n_simple:])

    def pair_key(t):  # unordered object pair of a relation caption
        w = t.split()
        return ' '.join(sorted([w[1] + ' ' + w[2], w[-2] + ' ' + w[-1]]))
    keys = sorted({pair_key(t) for t in texts[n_simple:]})
    pair_of = torch.tensor([-1] * n_simple + [keys.index(pair_key(t)) for t in texts[n_simple:]])
    print(f'train {images.shape[0]} scenes (pairs={pairs}), held-out {himages.shape[0]}, grammar {g_ids.shape[0]} captions', flush=True)

    model = TinyClip(dim=args.dim, text_width=args.text_width)
    if args.resume:
        model.load_state_dict(torch.load(args.resume))
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    rest = [p for n, p in model.named_parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.02}, {'params': rest, 'weight_decay': 0.0}], lr=args.lr)
    warm = min(200, args.steps // 10 + 1)

    def lr_at(step):
        if step < warm:
            return args.lr * (step + 1) / warm
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, args.steps - warm)))

    started = time.time()
    n = images.shape[0]
    for step in range(args.steps):
        for gr in opt.param_groups:
            gr['lr'] = lr_at(step)
        if pairs:
            base = torch.randint(0, n // 2, (args.batch // 2,), generator=gen) * 2
            idx = torch.stack([base, base + 1], 1).reshape(-1)
        else:
            idx = torch.randint(0, n, (args.batch,), generator=gen)
        x = model.normalise_uint8(images[idx])
        tr = truth[idx].long()
        # captions scored this step: every object / count caption, every relation caption
        # about an object pair in the batch (both orders, all relations), plus random others
        need = (tr[:, n_simple:] >= 0).any(0) & (tr[:, n_simple:] != 0).any(0)
        pair_cols = torch.nonzero(pair_of[n_simple:].unsqueeze(0) == pair_of[n_simple:][need].unique().unsqueeze(1))[:, 1] + n_simple
        extra = torch.randint(n_simple, g_ids.shape[0], (args.extra_captions,), generator=gen)
        sel = torch.unique(torch.cat([torch.arange(n_simple), pair_cols, extra, primary[idx]]))
        img = F.normalize(model.visual(x), dim=-1)
        txt = F.normalize(model.textual(g_ids[sel], g_mask[sel]), dim=-1)
        scale = model.logit_scale.clamp(max=math.log(100)).exp()
        full = torch.full((len(idx), g_ids.shape[0]), -1e4)
        logits = full.index_copy(1, sel, scale * img @ txt.T)  # [B, G]; unscored columns stay -1e4
        tr = torch.where(torch.isin(torch.arange(g_ids.shape[0]), sel).unsqueeze(0), tr, torch.full_like(tr, -1))
        loss_i2t = multi_positive_loss(logits, tr)
        cols = torch.unique(primary[idx])
        loss_t2i = multi_positive_loss(logits[:, cols].T, tr[:, cols].T)
        cand = torch.cat([primary[idx].unsqueeze(1), alts[idx]], 1)  # [B, 6]
        cl = logits.gather(1, cand.clamp(min=0))
        cl = torch.where(cand >= 0, cl, torch.full_like(cl, -1e4))
        loss_alt = F.cross_entropy(cl, torch.zeros(len(idx), dtype=torch.long))
        loss = loss_i2t + loss_t2i + loss_alt
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0:
            print(f'step {step} loss {loss.item():.3f} (i2t {loss_i2t.item():.3f} t2i {loss_t2i.item():.3f} alt {loss_alt.item():.3f}) '
                  f'scale {scale.item():.1f} lr {lr_at(step):.2e} {time.time() - started:.0f}s', flush=True)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            acc = evaluate(model, himages, hmeta, g_ids, g_mask)
            print(f'eval step {step + 1}: ' + ' '.join(f'{k} {v * 100:.1f}%' for k, v in acc.items()) + f' ({time.time() - started:.0f}s)', flush=True)
            if args.checkpoint:
                torch.save(model.state_dict(), args.checkpoint)
    if args.steps == 0:
        acc = evaluate(model, himages, hmeta, g_ids, g_mask)
        print('eval: ' + ' '.join(f'{k} {v * 100:.1f}%' for k, v in acc.items()), flush=True)
    print(f'trained {args.steps} steps in {time.time() - started:.0f}s', flush=True)
    if args.out:
        export(model, args.out, args.dim)
        print('exported to', args.out, flush=True)


if __name__ == '__main__':
    main()
