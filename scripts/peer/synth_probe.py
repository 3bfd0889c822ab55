#!/usr/bin/env python3
"""Instrument for the demo's synthetic VQA (docs/training.md, "VQA on the synthetic set"); not part of the product.

  attributes  Can a pre-trained model read each caption attribute from the image? Masks one word of each val
              caption (kind, side, size, intensity, modality, region) and asks the MLM head to restore it among that
              attribute's values, with the scan and with a blank image (what the caption's other words give).
  finetune    Fine-tunes the peer on the set's VQA as DemoFinetune does (VQA MLP head on the joint feature, BCE with
              soft targets x n_answers, AdamW betas 0.9/0.98, backbone/fusion/heads lr multipliers, 10 % warm-up then
              linear decay, clipping at 1.0), printing validation accuracy and how far the answer probabilities move
              across the images of one question.

Images are preprocessed as the pipelines' `clip` transform (shorter side bicubic to the model size, centre crop, CLIP
mean/std) through PIL; the tokenizer is the set's word-level BERT vocabulary. Run with /usr/bin/python3 (torch 1.13):

  /usr/bin/python3 scripts/peer/synth_probe.py attributes --model configs/models/synth-teacher.yaml \\
      --weights runs/teacher/model.safetensors --data /tmp/m3ae-synthetic-v2-n400-s1234
  /usr/bin/python3 scripts/peer/synth_probe.py finetune --model configs/models/synth-teacher.yaml \\
      --weights runs/teacher/model.safetensors --data /tmp/m3ae-synthetic-v2-n400-s1234 --steps 400
"""
import argparse, collections, json, os, re, sys, time, types
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
import torch
from PIL import Image
import m3ae_peer as P

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)
MASK_ID = 4
ATTRIBUTES = {'kind': ['nodule', 'cyst', 'mass'], 'side': ['left', 'right'], 'size': ['small', 'large'],
              'intensity': ['bright', 'dark'], 'modality': ['ct', 'mri'], 'region': ['head', 'chest', 'abdomen']}


def load_image(path, size):
    im = Image.open(path).convert('RGB')
    w, h = im.size
    nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    im = im.resize((nw, nh), Image.BICUBIC)
    l, t = (nw - size) // 2, (nh - size) // 2
    a = (np.asarray(im.crop((l, t, l + size, t + size)), dtype=np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


class Tokenizer:
    """The synthetic set's tokenizer: every word is in the vocabulary, so WordPiece is a lookup."""

    def __init__(self, path):
        self.vocab = json.load(open(path))['model']['vocab']

    def __call__(self, s, length):
        ids = [2] + [self.vocab.get(w, 1) for w in re.findall(r"[a-z0-9]+|[^\sa-z0-9]", s.lower())][:length - 2] + [3]
        return ids + [0] * (length - len(ids)), [1.0] * len(ids) + [0.0] * (length - len(ids))


def build(model, weights):
    _, m = P.build(model, types.SimpleNamespace(image_size=0, text_len=0), weights=weights)
    return m


def attributes(a):
    model = build(a.model, a.weights).eval()
    size = model.c.vision.image_size
    tok = Tokenizer(os.path.join(a.data, 'tokenizer.json'))
    inv = {v: k for k, v in tok.vocab.items()}
    rows = [json.loads(l) for s in ('val',) for l in open(os.path.join(a.data, 'captions_%s.jsonl' % s))]
    hit, blank, n = collections.Counter(), collections.Counter(), collections.Counter()
    with torch.no_grad():
        for r in rows:
            img = load_image(os.path.join(a.data, 'images', r['image'] + '.png'), size)[None]
            ids, mask = tok(r['caption'], 40)
            for pos, t in enumerate(ids):
                for g, words in ATTRIBUTES.items():
                    if inv[t] not in words:
                        continue
                    x = list(ids)
                    x[pos] = MASK_ID
                    cand = [tok.vocab[w] for w in words]
                    for im, counter in ((img, hit), (torch.zeros_like(img), blank)):
                        text, _, _ = model.infer(im, torch.tensor([x]), torch.tensor([mask]), need='text')
                        counter[g] += words[int(model.mlm_head(text)[0, pos][cand].argmax())] == inv[t]
                    n[g] += 1
    for g, words in ATTRIBUTES.items():
        print('%-9s n=%3d  restored %.2f  (blank image %.2f, chance %.2f)' % (g, n[g], hit[g] / n[g], blank[g] / n[g], 1 / len(words)))


def vqa_split(root, split, size, tok, answers):
    recs = json.load(open(os.path.join(root, 'vqa_%s.json' % split)))
    cache = {}
    for r in recs:
        if r['image_name'] not in cache:
            cache[r['image_name']] = load_image(os.path.join(root, 'images', r['image_name']), size)
    enc = [tok(r['question'], 32) for r in recs]
    return dict(image=torch.stack([cache[r['image_name']] for r in recs]), ids=torch.tensor([e[0] for e in enc]),
                mask=torch.tensor([e[1] for e in enc]), q=[r['question'] for r in recs],
                ans=torch.tensor([answers.index(r['answer']) if r['answer'] in answers else -1 for r in recs]),
                closed=torch.tensor([r['answer_type'] == 'CLOSED' for r in recs]))


def finetune(a):
    torch.manual_seed(a.seed)
    model = build(a.model, a.weights)
    size, d2 = model.c.vision.image_size, 2 * model.c.fusion.width
    tok = Tokenizer(os.path.join(a.data, 'tokenizer.json'))
    answers = sorted({r['answer'] for r in json.load(open(os.path.join(a.data, 'vqa_train.json')))})
    tr, va = (vqa_split(a.data, s, size, tok, answers) for s in ('train', 'val'))
    head = torch.nn.Sequential(torch.nn.Linear(d2, d2), torch.nn.LayerNorm(d2), torch.nn.GELU(), torch.nn.Linear(d2, len(answers)))
    with torch.no_grad():
        for m in head:
            if isinstance(m, torch.nn.Linear):
                m.weight.normal_(0, 0.02)  # M3AE's init_weights, as TaskHeads
                m.bias.zero_()
    mult = dict(zip(('backbone', 'fusion', 'heads'), map(float, a.mult.split(','))))
    named = [(n, p) for n, p in model.named_parameters() if not n.startswith(('mlm_head', 'mim_head', 'itm_head'))]
    named += [('vqa_head.' + n, p) for n, p in head.named_parameters()]
    groups = []
    for n, p in named:
        g = 'heads' if n.startswith('vqa_head') else 'fusion' if 'multi_modal' in n else 'backbone'
        decay = not (n.endswith('.bias') or P.is_norm_gain(n) or p.dim() == 1)
        groups.append(dict(params=[p], weight_decay=a.weight_decay if decay else 0.0, m=mult[g]))
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.98), eps=1e-8)
    warm = int(0.1 * a.steps)
    rng, perm, t0 = np.random.default_rng(a.seed), [], time.time()
    model.train()
    for s in range(a.steps):
        if len(perm) < a.batch:
            perm = list(rng.permutation(len(tr['q']))) + perm
        idx = torch.tensor([perm.pop() for _ in range(a.batch)])
        f = (s + 1) / warm if s < warm else max(0.0, (a.steps - s) / (a.steps - warm))
        for g in opt.param_groups:
            g['lr'] = a.lr * g['m'] * f
        logits = head(model.infer(tr['image'][idx], tr['ids'][idx], tr['mask'][idx])[2])
        target = torch.nn.functional.one_hot(tr['ans'][idx], len(answers)).float()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target) * len(answers)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
        opt.step()
        if (s + 1) % a.every == 0 or s == a.steps - 1:
            model.eval()
            with torch.no_grad():
                lg = torch.cat([head(model.infer(va['image'][i:i + 64], va['ids'][i:i + 64], va['mask'][i:i + 64])[2])
                                for i in range(0, len(va['q']), 64)])
            model.train()
            ok = (lg.argmax(1) == va['ans']).float()
            byq = collections.defaultdict(list)
            for k, q in enumerate(va['q']):
                byq[q].append(k)
            pr = torch.sigmoid(lg)
            spread = np.mean([pr[ks].std(0).max().item() for ks in byq.values() if len(ks) > 2])
            print('step %d loss %.3f  val overall %.3f closed %.3f open %.3f  answer-probability spread across the images '
                  'of a question %.4f  (%.0f s)' % (s + 1, loss.item(), ok.mean(), ok[va['closed']].mean(),
                                                   ok[~va['closed']].mean(), spread, time.time() - t0), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('what', choices=['attributes', 'finetune'])
    ap.add_argument('--model', required=True)
    ap.add_argument('--weights', help='graph-layout safetensors (default: random N(0, init.std))')
    ap.add_argument('--data', required=True, help='a folder written by `data synth`')
    ap.add_argument('--steps', type=int, default=400)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--mult', default='1,1,5', help='lr multipliers backbone,fusion,heads (DemoFinetune: 1,1,5)')
    ap.add_argument('--weight-decay', type=float, default=0.01)
    ap.add_argument('--every', type=int, default=40)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    attributes(a) if a.what == 'attributes' else finetune(a)


if __name__ == '__main__':
    main()
