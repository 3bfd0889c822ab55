#!/usr/bin/python3
"""The PyTorch peer of m3ae-distill: the same M3AE-family model, built from the same YAML config, timed and compared.

The Java graph (src/main/java/org/m3ae/model) is the reference for what every tensor means; this file follows the
official M3AE code's structure (CLIP ResidualAttentionBlock / VisionTransformer, HF BertLayer, METER's BertCrossLayer
co-attention, the Pooler / MLM / ITM heads, the MAE-style MIM decoder) and names every parameter exactly as the Java
graph names its variable, so one safetensors file of graph weights loads into both. Layout differences are handled in
`load_graph_weights` / `graph_layout`: the graph stores a Linear weight as [in, out] (PyTorch: [out, in]) and the
patch embedding conv1 as the [C*P*P, D] matrix of a Linear on patches flattened in conv1's (c, kh, kw) order
(PyTorch: Conv2d weight [D, C, P, P]).

Run with Debian's torch: /usr/bin/python3 scripts/peer/m3ae_peer.py --model configs/models/tiny-teacher.yaml --json
(scripts/peer/README.md lists the options). Prints one JSON object on stdout; progress goes to stderr.
"""

import argparse
import dataclasses
import json
import math
import os
import platform
import resource
import struct
import sys
import time


# ---------------------------------------------------------------------------------------------------------------------
# Command line first: the thread count must be in the environment before torch (OpenMP) and OpenBLAS start.

def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch peer of m3ae-distill: time and compare an M3AE-family model.")
    p.add_argument("--model", required=True, help="model config YAML (configs/models/*.yaml)")
    p.add_argument("--weights", help="graph-layout safetensors (as the Java bench or `import` writes them); "
                   "default: random weights N(0, init.std), LayerNorm 1/0, biases 0")
    p.add_argument("--fixture-weights", type=int, metavar="SEED",
                   help="the portable test weights (splitmix64 of the variable name and SEED, see fixture_weights) "
                   "instead of --weights")
    p.add_argument("--inputs", help="safetensors with image [B,3,H,W], text_ids [B,Lt], text_mask [B,Lt] and "
                   "optionally image_keep_ids [B,K] (adds the MIM pass)")
    p.add_argument("--outputs", help="write the outputs of --inputs here, under the Java graph's names")
    p.add_argument("--output-set", choices=["all", "hidden", "joint"], default="all",
                   help="all: hidden states, attention maps and head outputs; hidden: hidden states, pooled and "
                   "joint; joint: pooled and joint (default all)")
    p.add_argument("--make-inputs", type=int, metavar="SEED",
                   help="with --inputs PATH: first write seeded random inputs of --batch rows to PATH")
    p.add_argument("--image-size", type=int, default=0, help="image size in pixels, 0 = the config's")
    p.add_argument("--text-len", type=int, default=0, help="text length in tokens, 0 = the config's")
    p.add_argument("--teacher-model", help="time a distillation step of --model from this teacher config "
                   "(as the Java bench does for every model after the first) instead of a pre-training step")
    p.add_argument("--batch", type=int, default=4, help="inference batch (default 4)")
    p.add_argument("--train-batch", type=int, default=1, help="training-step batch (default 1)")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is reported (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed inference runs first (default 1)")
    p.add_argument("--train-warmup", type=int, default=4, help="untimed training steps first (default 4)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op and BLAS threads (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and timing inputs (default 0)")
    p.add_argument("--no-inference", action="store_true", help="skip the batch-B inference timing")
    p.add_argument("--no-latency", action="store_true", help="skip the batch-1 latency timing")
    p.add_argument("--no-train", action="store_true", help="skip the training-step timing")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object (else a short summary)")
    a = p.parse_args(argv)
    if a.threads < 1:
        p.error("--threads must be >= 1, got %d" % a.threads)
    if a.weights and a.fixture_weights is not None:
        p.error("--weights and --fixture-weights exclude each other")
    if (a.outputs or a.make_inputs is not None) and not a.inputs:
        p.error("--outputs and --make-inputs need --inputs")
    return a


ARGS = parse_args(sys.argv[1:]) if __name__ == "__main__" else None
if ARGS is not None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # the Java bench reads this line to tell the user how to install torch
    sys.stderr.write("m3ae_peer: cannot import torch (%s): apt-get install -y python3-torch libopenblas0-pthread, "
                     "and run with /usr/bin/python3\n" % e)
    sys.exit(3)
try:
    import yaml
except ImportError as e:
    sys.stderr.write("m3ae_peer: cannot import yaml (%s): apt-get install -y python3-yaml\n" % e)
    sys.exit(3)


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------------------------------
# Model config: the records of src/main/java/org/m3ae/model/ModelConfig.java, read from the same YAML.

class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Blocks:
    width: int
    layers: int
    heads: int
    mlp_dim: int
    activation: str
    norm: str
    ln_eps: float
    hidden_dropout: float
    attention_dropout: float


@dataclasses.dataclass(frozen=True)
class Vision:
    image_size: int
    patch_size: int
    channels: int
    encoder: Blocks

    @property
    def grid(self):
        return self.image_size // self.patch_size

    @property
    def patches(self):
        return self.grid * self.grid

    @property
    def patch_dim(self):
        return self.channels * self.patch_size * self.patch_size


@dataclasses.dataclass(frozen=True)
class Text:
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    pad_token_id: int
    position_ids: str
    max_text_len: int
    encoder: Blocks


@dataclasses.dataclass(frozen=True)
class Fusion:
    width: int
    layers: int
    heads: int
    mlp_dim: int
    activation: str
    ln_eps: float
    hidden_dropout: float
    attention_dropout: float
    modality_types: int


@dataclasses.dataclass(frozen=True)
class Mim:
    layer: int
    mask_ratio: float
    norm_pix_loss: bool
    decoder: Blocks


@dataclasses.dataclass(frozen=True)
class Config:
    name: str
    vision: Vision
    text: Text
    fusion: Fusion
    mim: Mim
    mlm_activation: str
    mlm_ln_eps: float
    itm_classes: int
    init_std: float
    init_seed: int

    def mim_fusion_layer(self):
        """Fusion layers the image stream passes before the MIM decoder reads it (-1 = all)."""
        return self.fusion.layers if self.mim.layer < 0 else self.mim.layer

    def mim_keep(self):
        """M3AE's len_keep = int(N * (1 - ratio)), as ModelConfig.mimKeep."""
        return int(self.vision.patches * (1.0 - self.mim.mask_ratio))


ACTIVATIONS = ("quick_gelu", "gelu", "relu")


def _get(node, key, path, source, kind, default=None, required=True):
    dotted = (path + "." if path else "") + key
    if not isinstance(node, dict) or key not in node:
        if required:
            raise ConfigError("%s: missing key '%s'" % (source, dotted))
        return default
    v = node[key]
    if kind is float and isinstance(v, int) and not isinstance(v, bool):
        v = float(v)
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        raise ConfigError("%s: key '%s' must be an integer, got %r" % (source, dotted, v))
    if kind is float and not isinstance(v, float):
        raise ConfigError("%s: key '%s' must be a number, got %r" % (source, dotted, v))
    if kind is bool and not isinstance(v, bool):
        raise ConfigError("%s: key '%s' must be true or false, got %r" % (source, dotted, v))
    if kind is str and not isinstance(v, str):
        raise ConfigError("%s: key '%s' must be a string, got %r" % (source, dotted, v))
    return v


def _choice(v, allowed, dotted, source):
    if v not in allowed:
        raise ConfigError("%s: key '%s' is '%s', expected one of %s" % (source, dotted, v, ", ".join(allowed)))
    return v


def _blocks(node, path, source):
    g = lambda k, kind, **kw: _get(node, k, path, source, kind, **kw)  # noqa: E731
    b = Blocks(g("width", int), g("layers", int), g("heads", int), g("mlp_dim", int),
               _choice(g("activation", str), ACTIVATIONS, path + ".activation", source),
               _choice(g("norm", str), ("pre", "post"), path + ".norm", source), g("ln_eps", float),
               g("hidden_dropout", float, default=0.0, required=False),
               g("attention_dropout", float, default=0.0, required=False))
    if b.width % b.heads != 0:
        raise ConfigError("%s: key '%s.width' (%d) is not a multiple of heads (%d)" % (source, path, b.width, b.heads))
    return b


def load_config(path, image_size=0, text_len=0):
    """The model config at `path`, with the bench's image size / text length overrides (0 keeps the config's)."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            root = yaml.safe_load(f)
    except OSError as e:
        raise ConfigError("%s: cannot read model config: %s" % (path, e))
    if not isinstance(root, dict):
        raise ConfigError("%s: not a YAML mapping" % path)
    s = path
    for key in ("vision", "text", "fusion", "mim", "mlm", "itm", "init"):
        if not isinstance(root.get(key), dict):
            raise ConfigError("%s: missing key '%s'" % (s, key))
    v, t, fu, mi = root["vision"], root["text"], root["fusion"], root["mim"]
    vision = Vision(_get(v, "image_size", "vision", s, int), _get(v, "patch_size", "vision", s, int),
                    _get(v, "channels", "vision", s, int), _blocks(v.get("encoder"), "vision.encoder", s))
    text = Text(_get(t, "vocab_size", "text", s, int), _get(t, "max_positions", "text", s, int),
                _get(t, "type_vocab_size", "text", s, int), _get(t, "pad_token_id", "text", s, int),
                _choice(_get(t, "position_ids", "text", s, str), ("roberta", "absolute"), "text.position_ids", s),
                _get(t, "max_text_len", "text", s, int), _blocks(t.get("encoder"), "text.encoder", s))
    fusion = Fusion(_get(fu, "width", "fusion", s, int), _get(fu, "layers", "fusion", s, int),
                    _get(fu, "heads", "fusion", s, int), _get(fu, "mlp_dim", "fusion", s, int),
                    _choice(_get(fu, "activation", "fusion", s, str), ACTIVATIONS, "fusion.activation", s),
                    _get(fu, "ln_eps", "fusion", s, float),
                    _get(fu, "hidden_dropout", "fusion", s, float, default=0.0, required=False),
                    _get(fu, "attention_dropout", "fusion", s, float, default=0.0, required=False),
                    _get(fu, "modality_types", "fusion", s, int))
    mim = Mim(_get(mi, "layer", "mim", s, int), _get(mi, "mask_ratio", "mim", s, float),
              _get(mi, "norm_pix_loss", "mim", s, bool), _blocks(mi.get("decoder"), "mim.decoder", s))
    mlm, itm, init = root["mlm"], root["itm"], root["init"]
    cfg = Config(_get(root, "name", "", s, str), vision, text, fusion, mim,
                 _choice(_get(mlm, "activation", "mlm", s, str), ACTIVATIONS, "mlm.activation", s),
                 _get(mlm, "ln_eps", "mlm", s, float), _get(itm, "classes", "itm", s, int),
                 _get(init, "std", "init", s, float), _get(init, "seed", "init", s, int))
    if image_size > 0:
        cfg = dataclasses.replace(cfg, vision=dataclasses.replace(vision, image_size=image_size))
    if text_len > 0:
        cfg = dataclasses.replace(cfg, text=dataclasses.replace(text, max_text_len=text_len))
    if cfg.vision.image_size % cfg.vision.patch_size != 0:
        raise ConfigError("%s: vision.image_size %d is not a multiple of vision.patch_size %d"
                          % (s, cfg.vision.image_size, cfg.vision.patch_size))
    return cfg


# ---------------------------------------------------------------------------------------------------------------------
# Safetensors: 8-byte little-endian header length, a JSON header, raw little-endian data. Read and written here
# (the `safetensors` package is not in Debian).

_ST_DTYPES = {"F64": (torch.float64, 8), "F32": (torch.float32, 4), "F16": (torch.float16, 2),
              "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8), "I32": (torch.int32, 4),
              "I16": (torch.int16, 2), "I8": (torch.int8, 1), "U8": (torch.uint8, 1), "BOOL": (torch.bool, 1)}
_ST_NAMES = {dt: name for name, (dt, _) in _ST_DTYPES.items()}


def read_safetensors(path):
    """Returns ({name: tensor}, metadata). Each tensor is read straight into its own buffer, so a teacher-sized file
    (1.3 GB) costs its size once, not twice."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        if size < 8:
            raise ValueError("%s: truncated, no header length" % path)
        (n,) = struct.unpack("<Q", f.read(8))
        if n < 2 or 8 + n > size:
            raise ValueError("%s: header length %d is not plausible for a file of %d bytes" % (path, n, size))
        header = json.loads(f.read(n).decode("utf-8"))
        meta = header.pop("__metadata__", {}) or {}
        out = {}
        for name, e in header.items():
            if e.get("dtype") not in _ST_DTYPES:
                raise ValueError("%s: key '%s': unsupported dtype %r" % (path, name, e.get("dtype")))
            dt, width = _ST_DTYPES[e["dtype"]]
            begin, end = e["data_offsets"]
            shape = list(e["shape"])
            count = math.prod(shape)
            if end - begin != count * width or 8 + n + end > size:
                raise ValueError("%s: key '%s': data_offsets [%d, %d] do not hold %s%s"
                                 % (path, name, begin, end, e["dtype"], shape))
            t = torch.empty(count, dtype=dt)
            f.seek(8 + n + begin)
            if count and f.readinto(t.view(torch.uint8).numpy()) != end - begin:
                raise ValueError("%s: key '%s': file ends inside the tensor" % (path, name))
            out[name] = t.reshape(shape)
    if sys.byteorder != "little":
        raise ValueError("%s: this reader assumes a little-endian machine" % path)
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (float32 / int32 / int64 / ...) in insertion order; atomically via a sibling file."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if t.dtype not in _ST_NAMES:
            raise ValueError("%s: key '%s': cannot write dtype %s" % (path, name, t.dtype))
        b = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": _ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)  # the data section starts 8-byte aligned, as the format recommends
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------------------------------
# Building blocks. Each mirrors one class of the Java graph (named in its docstring); the formulas are the graph's.

def activation(name):
    """Nn.activation: exact erf GELU (BERT/RoBERTa), CLIP's QuickGELU x*sigmoid(1.702x), or ReLU."""
    if name == "gelu":
        return F.gelu  # torch's default is the exact erf form
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    return F.relu


def attention(q, k, v, heads, key_mask, dropout, training):
    """Nn.attention: softmax(Q K^T / sqrt(dh) + mask) V per head; returns the context and the post-softmax
    probabilities (before attention dropout: what distillation taps). The scale goes on Q, as in the graph."""
    b, lq, d = q.shape
    lk = k.shape[1]
    dh = d // heads
    qh = (q * (1.0 / math.sqrt(dh))).view(b, lq, heads, dh).transpose(1, 2)  # [B, h, Lq, dh]
    kh = k.view(b, lk, heads, dh).transpose(1, 2)
    vh = v.view(b, lk, heads, dh).transpose(1, 2)
    scores = qh @ kh.transpose(-1, -2)  # [B, h, Lq, Lk]
    if key_mask is not None:
        scores = scores + key_mask
    probs = scores.softmax(-1)
    ctx = F.dropout(probs, dropout, training) @ vh  # [B, h, Lq, dh]
    return ctx.transpose(1, 2).reshape(b, lq, d), probs


def additive_key_mask(mask):
    """Nn.additiveKeyMask: [B, Lk] 0/1 -> [B, 1, 1, Lk] with 0 for real keys and -10000 for padding."""
    return ((mask - 1.0) * 10000.0)[:, None, None, :]


class Taps:
    """Where a forward pass records its named tensors (Names.java), qualified by the pass name; None = no recording."""

    def __init__(self, prefix=""):
        self.prefix = prefix
        self.tensors = {}

    def put(self, name, t):
        self.tensors[(self.prefix + "/" + name) if self.prefix else name] = t


def tap(taps, name, t):
    if taps is not None:
        taps.put(name, t)
    return t


class ClipAttention(nn.Module):
    """CLIP's nn.MultiheadAttention, with the packed in_proj split into q/k/v as the graph stores it."""

    def __init__(self, d):
        super().__init__()
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)


class ClipMlp(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.c_fc = nn.Linear(d, mlp)
        self.c_proj = nn.Linear(mlp, d)


class ResidualAttentionBlock(nn.Module):
    """ClipBlock: pre-LN x + MHA(ln_1(x)), x + c_proj(act(c_fc(ln_2(x)))); with norm: post, ln_1(x + MHA(x)) and
    ln_2(x + MLP(x)). The ViT image encoder and the MIM decoder are made of these."""

    def __init__(self, c: Blocks):
        super().__init__()
        self.c = c
        self.act = activation(c.activation)
        self.ln_1 = nn.LayerNorm(c.width, eps=c.ln_eps)
        self.attn = ClipAttention(c.width)
        self.ln_2 = nn.LayerNorm(c.width, eps=c.ln_eps)
        self.mlp = ClipMlp(c.width, c.mlp_dim)

    def forward(self, x, taps=None, attn_name=None):
        c, a, pre = self.c, self.attn, self.c.norm == "pre"
        h = self.ln_1(x) if pre else x
        ctx, probs = attention(a.q_proj(h), a.k_proj(h), a.v_proj(h), c.heads, None, c.attention_dropout,
                               self.training)
        tap(taps, attn_name, probs)
        o = F.dropout(a.out_proj(ctx), c.hidden_dropout, self.training)
        x = x + o if pre else self.ln_1(x + o)
        h = self.ln_2(x) if pre else x
        m = F.dropout(self.mlp.c_proj(self.act(self.mlp.c_fc(h))), c.hidden_dropout, self.training)
        return x + m if pre else self.ln_2(x + m)


class ResBlocks(nn.Module):
    """CLIP's Transformer: the `resblocks` list (it builds layers - 1 blocks; the config gives the real count)."""

    def __init__(self, c: Blocks):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(c) for _ in range(c.layers)])


class VisionTransformer(nn.Module):
    """VisionEncoder (CLIP ViT): conv1 patch embedding without bias, CLS, positions, ln_pre, blocks, ln_post on every
    token. With keep_ids it runs MAE-style on CLS + the visible patches: positions are added before patches are
    dropped, so each kept patch keeps its own position."""

    def __init__(self, v: Vision):
        super().__init__()
        d = v.encoder.width
        self.v = v
        self.conv1 = nn.Conv2d(v.channels, d, kernel_size=v.patch_size, stride=v.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.zeros(d))
        self.positional_embedding = nn.Parameter(torch.zeros(v.patches + 1, d))
        self.ln_pre = nn.LayerNorm(d, eps=v.encoder.ln_eps)
        self.transformer = ResBlocks(v.encoder)
        self.ln_post = nn.LayerNorm(d, eps=v.encoder.ln_eps)

    def forward(self, image, keep_ids=None, taps=None):
        x = self.conv1(image).flatten(2).transpose(1, 2)  # [B, N, D], patches in row-major grid order
        x = x + self.positional_embedding[1:]
        if keep_ids is not None:
            x = torch.gather(x, 1, keep_ids[:, :, None].expand(-1, -1, x.shape[2]))  # [B, K, D]
        cls = (self.class_embedding + self.positional_embedding[0]).expand(x.shape[0], 1, -1)
        x = self.ln_pre(torch.cat([cls, x], dim=1))  # [B, Li, D]
        tap(taps, "vision.hidden.0", x)
        for i, blk in enumerate(self.transformer.resblocks):
            x = tap(taps, "vision.hidden.%d" % (i + 1), blk(x, taps, "vision.attn.%d" % i))
        return tap(taps, "vision.out", self.ln_post(x))


class VisionEncoder(nn.Module):
    """M3AE's `vision_encoder` (the CLIP model) holds the ViT as `.visual`."""

    def __init__(self, v: Vision):
        super().__init__()
        self.visual = VisionTransformer(v)


class TextEmbeddings(nn.Module):
    """TextEncoder's embeddings: word + position + token type, LayerNorm, dropout. RoBERTa positions count real
    tokens from pad_token_id + 1 (cumsum of the mask, as the graph computes them); BERT's are 0..L-1."""

    def __init__(self, t: Text):
        super().__init__()
        d = t.encoder.width
        self.t = t
        self.word_embeddings = nn.Embedding(t.vocab_size, d)
        self.position_embeddings = nn.Embedding(t.max_positions, d)
        self.token_type_embeddings = nn.Embedding(t.type_vocab_size, d)
        self.LayerNorm = nn.LayerNorm(d, eps=t.encoder.ln_eps)

    def forward(self, ids, mask):
        x = self.word_embeddings(ids)
        if self.t.position_ids == "roberta":
            pos = (torch.cumsum(mask, 1) * mask + self.t.pad_token_id).long()
            x = x + self.position_embeddings(pos)
        else:
            x = x + self.position_embeddings.weight[: ids.shape[1]]
        x = x + self.token_type_embeddings.weight[0]
        return F.dropout(self.LayerNorm(x), self.t.encoder.hidden_dropout, self.training)


class BertSelfAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)


class BertDenseNorm(nn.Module):
    """HF BertSelfOutput / BertOutput: dense, dropout, LayerNorm over the residual."""

    def __init__(self, d_in, d, eps):
        super().__init__()
        self.dense = nn.Linear(d_in, d)
        self.LayerNorm = nn.LayerNorm(d, eps=eps)


class BertAttention(nn.Module):
    """BertAttention.forward: post-LN LayerNorm(x_q + dense(MHA(x_q, x_kv))); with pre-norm the LayerNorm is applied
    to the query stream first (and to the keys/values in self-attention) and the residual is left as is."""

    def __init__(self, d, heads, eps, hidden_dropout, attention_dropout, pre):
        super().__init__()
        self.self = BertSelfAttention(d)
        self.output = BertDenseNorm(d, d, eps)
        self.heads, self.hd, self.ad, self.pre = heads, hidden_dropout, attention_dropout, pre

    def forward(self, xq, xkv, key_mask, taps=None, probs_name=None):
        s, out = self.self, self.output
        hq = out.LayerNorm(xq) if self.pre else xq
        hkv = hq if (self.pre and xkv is xq) else xkv
        ctx, probs = attention(s.query(hq), s.key(hkv), s.value(hkv), self.heads, key_mask, self.ad, self.training)
        tap(taps, probs_name, probs)
        o = F.dropout(out.dense(ctx), self.hd, self.training)
        return xq + o if self.pre else out.LayerNorm(xq + o)


class BertIntermediate(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.dense = nn.Linear(d, mlp)


def feed_forward(layer, x, act, hidden_dropout, pre, training):
    """BertAttention.feedForward (HF BertIntermediate + BertOutput): LayerNorm(x + dense(act(intermediate(x))))."""
    h = layer.output.LayerNorm(x) if pre else x
    h = F.dropout(layer.output.dense(act(layer.intermediate.dense(h))), hidden_dropout, training)
    return x + h if pre else layer.output.LayerNorm(x + h)


class BertLayer(nn.Module):
    """One RoBERTa/BERT encoder layer of the text encoder."""

    def __init__(self, c: Blocks):
        super().__init__()
        self.c = c
        pre = c.norm == "pre"
        self.attention = BertAttention(c.width, c.heads, c.ln_eps, c.hidden_dropout, c.attention_dropout, pre)
        self.intermediate = BertIntermediate(c.width, c.mlp_dim)
        self.output = BertDenseNorm(c.mlp_dim, c.width, c.ln_eps)
        self.act = activation(c.activation)

    def forward(self, x, key_mask, taps=None, i=0):
        x = self.attention(x, x, key_mask, taps, "text.attn.%d" % i)
        return feed_forward(self, x, self.act, self.c.hidden_dropout, self.c.norm == "pre", self.training)


class TextEncoder(nn.Module):
    """M3AE's `language_encoder` (RoBERTa without its pooler, which M3AE never uses)."""

    def __init__(self, t: Text):
        super().__init__()
        self.embeddings = TextEmbeddings(t)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([BertLayer(t.encoder) for _ in range(t.encoder.layers)])

    def forward(self, ids, mask, taps=None):
        x = tap(taps, "text.hidden.0", self.embeddings(ids, mask))
        key_mask = additive_key_mask(mask)
        for i, layer in enumerate(self.encoder.layer):
            x = tap(taps, "text.hidden.%d" % (i + 1), layer(x, key_mask, taps, i))
        return tap(taps, "text.out", x)


class BertCrossLayer(nn.Module):
    """CoAttentionLayer (METER's BertCrossLayer), post-LN: self-attention on the stream, cross-attention with queries
    from that result and keys/values from the other stream's layer input, then the feed-forward block."""

    def __init__(self, f: Fusion):
        super().__init__()
        self.f = f
        self.attention = BertAttention(f.width, f.heads, f.ln_eps, f.hidden_dropout, f.attention_dropout, False)
        self.crossattention = BertAttention(f.width, f.heads, f.ln_eps, f.hidden_dropout, f.attention_dropout, False)
        self.intermediate = BertIntermediate(f.width, f.mlp_dim)
        self.output = BertDenseNorm(f.mlp_dim, f.width, f.ln_eps)
        self.act = activation(f.activation)

    def forward(self, x, self_mask, other, other_mask, taps=None, stream="text", j=0):
        h = self.attention(x, x, self_mask, taps, "fusion.%s.self_attn.%d" % (stream, j))
        h = self.crossattention(h, other, other_mask, taps, "fusion.%s.cross_attn.%d" % (stream, j))
        return feed_forward(self, h, self.act, self.f.hidden_dropout, False, self.training)


class Pooler(nn.Module):
    """prediction_heads.Pooler: tanh(dense(x[:, 0]))."""

    def __init__(self, d):
        super().__init__()
        self.dense = nn.Linear(d, d)

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class MLMHead(nn.Module):
    """Heads.mlm: dense, activation, LayerNorm, then an untied decoder (no bias) plus a separate bias."""

    def __init__(self, c: Config):
        super().__init__()
        d, v = c.fusion.width, c.text.vocab_size
        self.transform = nn.Module()
        self.transform.dense = nn.Linear(d, d)
        self.transform.LayerNorm = nn.LayerNorm(d, eps=c.mlm_ln_eps)
        self.decoder = nn.Linear(d, v, bias=False)
        self.bias = nn.Parameter(torch.zeros(v))
        self.act = activation(c.mlm_activation)

    def forward(self, x):
        return self.decoder(self.transform.LayerNorm(self.act(self.transform.dense(x)))) + self.bias


class ITMHead(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.fc = nn.Linear(2 * c.fusion.width, c.itm_classes)

    def forward(self, joint):
        return self.fc(joint)


def sincos_2d(dim, grid):
    """MimHead.sincos2d (MAE's get_2d_sincos_pos_embed with a zero CLS row): for patch (row i, col j) the 1-D code of
    j, then of i, each [sin(p w), cos(p w)] with w_k = 1 / 10000^(k / (dim/4))."""
    if dim % 4 != 0:
        raise ConfigError("mim.decoder.width %d must be a multiple of 4" % dim)
    q = dim // 4
    omega = 1.0 / torch.pow(torch.tensor(10000.0, dtype=torch.float64), torch.arange(q, dtype=torch.float64) / q)
    rows, cols = torch.meshgrid(torch.arange(grid, dtype=torch.float64), torch.arange(grid, dtype=torch.float64),
                                indexing="ij")
    i, j = rows.reshape(-1, 1) * omega, cols.reshape(-1, 1) * omega
    table = torch.cat([j.sin(), j.cos(), i.sin(), i.cos()], dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table]).float()  # [N+1, dim]


class MIMHead(nn.Module):
    """MimHead (MAE-style decoder): decoder_embed, mask tokens at the removed patches, unshuffle, fixed sin-cos
    positions, CLIP blocks, decoder_norm, decoder_pred; the CLS row is dropped. The positions are a buffer, not a
    parameter, as the graph keeps them as a constant outside its trainable weights."""

    def __init__(self, c: Config):
        super().__init__()
        dc = c.mim.decoder
        self.n = c.vision.patches
        self.decoder_embed = nn.Linear(c.fusion.width, dc.width)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dc.width))
        self.register_buffer("decoder_pos_embed", sincos_2d(dc.width, c.vision.grid)[None], persistent=False)
        self.decoder = ResBlocks(dc)
        self.decoder_norm = nn.LayerNorm(dc.width, eps=dc.ln_eps)
        self.decoder_pred = nn.Linear(dc.width, c.vision.patch_dim)

    def forward(self, feats, keep_ids, taps=None):
        x = self.decoder_embed(feats)  # [B, 1+K, Dd]
        b, k, d = x.shape[0], x.shape[1] - 1, x.shape[2]
        full = self.mask_token.expand(b, self.n, d).clone()
        full.scatter_(1, keep_ids[:, :, None].expand(-1, -1, d), x[:, 1:])  # visible patches back in grid order
        x = torch.cat([x[:, :1], full], dim=1) + self.decoder_pos_embed
        for i, blk in enumerate(self.decoder.resblocks):
            x = blk(x, taps, "mim.decoder.attn.%d" % i)
        return self.decoder_pred(self.decoder_norm(x))[:, 1:]  # [B, N, P*P*C]


# ---------------------------------------------------------------------------------------------------------------------
# The model: M3AETransformerSS's modules under their state_dict names, and its `infer`.

class M3AE(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        f = c.fusion
        self.c = c
        self.vision_encoder = VisionEncoder(c.vision)
        self.language_encoder = TextEncoder(c.text)
        self.multi_modal_language_proj = nn.Linear(c.text.encoder.width, f.width)
        self.multi_modal_vision_proj = nn.Linear(c.vision.encoder.width, f.width)
        self.modality_type_embeddings = nn.Embedding(f.modality_types, f.width)
        self.multi_modal_language_layers = nn.ModuleList([BertCrossLayer(f) for _ in range(f.layers)])
        self.multi_modal_vision_layers = nn.ModuleList([BertCrossLayer(f) for _ in range(f.layers)])
        self.multi_modal_language_pooler = Pooler(f.width)
        self.multi_modal_vision_pooler = Pooler(f.width)
        self.mlm_head = MLMHead(c)
        self.mim_head = MIMHead(c)
        self.itm_head = ITMHead(c)

    def infer(self, image, ids, mask, keep_ids=None, need="joint", taps=None):
        """One forward pass (M3AE's infer). `need` prunes what the caller's output does not depend on, as SameDiff
        does for a requested output: "joint" runs everything; "text" (the MLM pass) skips the image stream's last
        fusion layer, which only the image pooler reads; "mim" stops the fusion after mim.layer.
        Returns the text stream, the image stream at the MIM layer (or None) and the joint feature (or None)."""
        c = self.c
        vis = self.vision_encoder.visual(image, keep_ids, taps)
        txt = self.language_encoder(ids, mask, taps)
        x = self.multi_modal_language_proj(txt) + self.modality_type_embeddings.weight[0]
        y = self.multi_modal_vision_proj(vis) + self.modality_type_embeddings.weight[1]
        text_keys = additive_key_mask(mask)  # image tokens are never padded: no image mask
        tap(taps, "fusion.text.hidden.0", x)
        tap(taps, "fusion.image.hidden.0", y)
        layers = c.fusion.layers
        stop = c.mim_fusion_layer() if need == "mim" else layers
        mim_feats = y if stop == 0 else None
        for j in range(stop):
            # Both streams read the other's state from before this layer (co-attention on the previous layer).
            x1 = self.multi_modal_language_layers[j](x, text_keys, y, None, taps, "text", j)
            last_image = need == "text" and j == layers - 1
            y1 = None if last_image else self.multi_modal_vision_layers[j](y, None, x, text_keys, taps, "image", j)
            x, y = tap(taps, "fusion.text.hidden.%d" % (j + 1), x1), y1
            if y is not None:
                tap(taps, "fusion.image.hidden.%d" % (j + 1), y)
            if j + 1 == c.mim_fusion_layer():
                mim_feats = y
        if need != "joint":
            return x, mim_feats, None
        pt = tap(taps, "pooled.text", self.multi_modal_language_pooler(x))
        pi = tap(taps, "pooled.image", self.multi_modal_vision_pooler(y))
        return x, mim_feats, tap(taps, "joint", torch.cat([pt, pi], dim=1))


def count(params):
    return sum(p.numel() for p in params)


def backbone_parameters(model):
    """Parameters of the inference graph (everything but the pre-training heads): the bench's `params` column."""
    return count(p for n, p in model.named_parameters() if not n.startswith(("mlm_head.", "mim_head.", "itm_head.")))


# ---------------------------------------------------------------------------------------------------------------------
# Weights: graph layout <-> PyTorch layout, random initialisation, the portable fixture weights.

def _linear_weights(model):
    return {n + ".weight" for n, m in model.named_modules() if isinstance(m, nn.Linear)}


CONV1 = "vision_encoder.visual.conv1.weight"


def graph_layout(model):
    """The model's parameters in the Java graph's layout: Linear weights [in, out], conv1 as [C*P*P, D]."""
    lin = _linear_weights(model)
    out = {}
    for n, p in model.state_dict().items():
        p = p.detach()
        if n in lin:
            p = p.t()
        elif n == CONV1:
            p = p.reshape(p.shape[0], -1).t()
        out[n] = p.contiguous()
    return out


HEADS = ("mlm_head.", "mim_head.", "itm_head.")


def load_graph_weights(model, tensors, origin):
    """Loads graph-layout tensors; every backbone parameter must be present with its graph shape. The pre-training
    heads may be absent (the bench's inference graph has none): they keep their values. Extra keys are errors (the
    file would belong to another model), except the MIM decoder's fixed positions, a graph constant.
    Returns the names that were not in the file."""
    lin = _linear_weights(model)
    want = model.state_dict()
    absent = [n for n in want if n not in tensors]
    missing = [n for n in absent if not n.startswith(HEADS)]
    extra = [n for n in tensors if n not in want and n != "mim_head.decoder_pos_embed"]
    if missing or extra:
        raise ValueError("%s: does not fit %s: missing %s; unexpected %s" % (
            origin, model.c.name, missing[:8] + (["..."] if len(missing) > 8 else []),
            extra[:8] + (["..."] if len(extra) > 8 else [])))
    state = {}
    for n, p in want.items():
        if n not in tensors:
            state[n] = p
            continue
        t = tensors[n].to(torch.float32)
        if n in lin:
            t = t.t()
        elif n == CONV1:
            t = t.t().reshape(p.shape)
        if tuple(t.shape) != tuple(p.shape):
            raise ValueError("%s: key '%s': shape %s does not fit %s (graph layout)" % (
                origin, n, list(tensors[n].shape), list(graph_layout_shape(model, n))))
        state[n] = t
    model.load_state_dict(state, strict=True)
    return absent


def graph_layout_shape(model, name):
    return graph_layout(model)[name].shape


def is_norm_gain(name):
    return name.endswith(".weight") and ("LayerNorm." in name or ".ln_" in name or "decoder_norm." in name)


def random_init(model, seed, std, only=None):
    """N(0, std) for every matrix and embedding, LayerNorm 1/0, biases 0: the graph's random initialisation (the
    values differ from the Java graph's, which draws from ND4J's generator; the bench hands its weights over).
    `only`: a tuple of name prefixes to initialise, the rest untouched."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if only is not None and not n.startswith(only):
                continue
            if is_norm_gain(n):
                p.fill_(1.0)
            elif n.endswith(".bias") or n == "mlm_head.bias":
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)


_M64 = (1 << 64) - 1


def fixture_weights(names_shapes, seed):
    """The portable test weights (also in src/test/java/org/m3ae/bench/PeerFixtureWeights.java), in graph layout:
    element i of variable `name` is a uniform u in [0, 1) from splitmix64 at counter i + 1 of the stream seeded by
    FNV-1a64(name) XOR seed, as (z >>> 11) * 2^-53 in double; LayerNorm gains are 1 + 0.2 (u - 0.5), biases and
    LayerNorm shifts 0.1 (u - 0.5), everything else 0.08 (u - 0.5) (std ~0.023). Non-zero biases and non-unit gains,
    so a bias or gain that is not applied shows up. Deterministic, and cheap to write in any language."""
    out = {}
    for name, shape in names_shapes:
        h = 0xCBF29CE484222325
        for byte in name.encode("utf-8"):
            h = ((h ^ byte) * 0x100000001B3) & _M64
        base = np.uint64((h ^ seed) & _M64)
        n = math.prod(shape)
        with np.errstate(over="ignore"):
            z = base + (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
        u = (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
        if is_norm_gain(name):
            v = 1.0 + 0.2 * (u - 0.5)
        elif name.endswith(".bias"):
            v = 0.1 * (u - 0.5)
        else:
            v = 0.08 * (u - 0.5)
        out[name] = torch.from_numpy(v.astype(np.float32)).reshape(shape)
    return out


# ---------------------------------------------------------------------------------------------------------------------
# Inputs, outputs and the pre-training objective.

def random_inputs(c: Config, batch, seed, keep=False):
    """Seeded pairs like RandomInputs.forPass: images ~ N(0, 1), a random real length >= 2 per caption with padding
    after it, random non-pad ids; with keep, random (unsorted) visible patches per image."""
    g = torch.Generator().manual_seed(seed)
    lt, v = c.text.max_text_len, c.text.vocab_size
    image = torch.randn(batch, c.vision.channels, c.vision.image_size, c.vision.image_size, generator=g)
    real = 2 + torch.randint(0, max(1, lt - 1), (batch,), generator=g)
    mask = (torch.arange(lt)[None, :] < real[:, None]).float()
    ids = torch.randint(0, v - 1, (batch, lt), generator=g)
    ids = ids + (ids >= c.text.pad_token_id).long()  # never the pad id among real tokens
    ids = torch.where(mask > 0, ids, torch.full_like(ids, c.text.pad_token_id))
    out = {"image": image, "text_ids": ids.int(), "text_mask": mask}
    if keep:
        n, k = c.vision.patches, c.mim_keep()
        out["image_keep_ids"] = torch.stack([torch.randperm(n, generator=g)[:k] for _ in range(batch)]).int()
    return out


def mim_target(c: Config, image):
    """Losses.mimTarget: patches in (row, col, channel) order, each standardised by its mean and unbiased variance."""
    v = c.vision
    b, p, g = image.shape[0], v.patch_size, v.grid
    t = image.reshape(b, v.channels, g, p, g, p).permute(0, 2, 4, 3, 5, 1).reshape(b, g * g, v.patch_dim)
    if not c.mim.norm_pix_loss:
        return t
    return (t - t.mean(-1, keepdim=True)) / (t.var(-1, keepdim=True, unbiased=True) + 1e-6).sqrt()


def weighted_mean(x, w):
    """Losses.weightedMean: sum(w x) / max(sum w, 1)."""
    return (x * w).sum() / w.sum().clamp(min=1.0)


@dataclasses.dataclass
class TrainBatch:
    """The arrays TrainerStepFactory.synthetic makes for one pre-training step."""
    image: torch.Tensor
    itm_image: torch.Tensor
    ids: torch.Tensor
    mask: torch.Tensor
    mlm_ids: torch.Tensor
    mlm_labels: torch.Tensor
    mlm_selected: torch.Tensor
    keep_ids: torch.Tensor
    mim_masked: torch.Tensor
    itm_labels: torch.Tensor


def synthetic_batch(c: Config, b, seed):
    g = torch.Generator().manual_seed(seed)
    base = random_inputs(c, b, seed)
    ids, mask = base["text_ids"].long(), base["text_mask"]
    selected = (torch.rand(ids.shape, generator=g) < 0.15) & (mask > 0)
    n, k = c.vision.patches, c.mim_keep()
    keep = torch.stack([torch.randperm(n, generator=g)[:k].sort().values for _ in range(b)])
    masked = torch.ones(b, n).scatter_(1, keep, 0.0)
    s = c.vision.image_size
    return TrainBatch(base["image"], torch.randn(b, c.vision.channels, s, s, generator=g), ids, mask,
                      torch.where(selected, torch.full_like(ids, 4 % c.text.vocab_size), ids), ids,
                      selected, keep, masked, torch.arange(b) % 2)


def pretrain_losses(model, c: Config, tb: TrainBatch, keep_ids, mim_masked, backward, kd=None):
    """M3AE's three passes (SPEC 2.1), each with its own head and loss, differentiated one after the other as the
    Java trainer does (one gradient call per pass): MLM on masked text + full image (the head on the selected
    positions only, as the graph's sparse-text MLM pass), MIM on full text + visible patches (MSE on the masked
    patches of the norm-pix target), ITM on full text + the half-swapped images (+ the KD terms, on its matched
    rows). Returns the loss values."""
    losses = {}
    text, _, _ = model.infer(tb.image, tb.mlm_ids, tb.mask, need="text")
    logits = model.mlm_head(text[tb.mlm_selected])  # [M, V]
    l_mlm = F.cross_entropy(logits, tb.mlm_labels[tb.mlm_selected]) if logits.shape[0] else text.sum() * 0
    backward(l_mlm)
    losses["mlm"] = l_mlm.item()

    _, feats, _ = model.infer(tb.image, tb.ids, tb.mask, keep_ids=keep_ids, need="mim")
    pred = model.mim_head(feats, keep_ids)
    l_mim = weighted_mean(((pred - mim_target(c, tb.image)) ** 2).mean(-1), mim_masked)
    backward(l_mim)
    losses["mim"] = l_mim.item()

    taps = Taps() if kd is not None else None
    _, _, joint = model.infer(tb.itm_image, tb.ids, tb.mask, need="joint", taps=taps)
    l_itm = F.cross_entropy(model.itm_head(joint), tb.itm_labels)
    total = l_itm
    if kd is not None:
        l_hid, l_attn = kd.losses(taps.tensors, tb.itm_labels.float())
        losses["hid"], losses["attn"] = l_hid.item(), l_attn.item()
        total = total + l_hid + l_attn
    backward(total)
    losses["itm"] = l_itm.item()
    return losses


def decays(name, shape):
    """AdamW.decays: no weight decay on biases, LayerNorm / norm parameters and vectors."""
    n = name.lower()
    if "bias" in n or "layernorm" in n or "norm" in n or "ln_" in n:
        return False
    return len(shape) > 1


def make_optimizer(named):
    """AdamW as the bench's Java trainer runs it: lr 1e-4, betas (0.9, 0.98), eps 1e-6, weight decay 0.01 on the
    decaying parameters only."""
    dec = [p for n, p in named if decays(n, p.shape)]
    rest = [p for n, p in named if not decays(n, p.shape)]
    return torch.optim.AdamW([{"params": dec, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-4, betas=(0.9, 0.98), eps=1e-6)


# ---------------------------------------------------------------------------------------------------------------------
# Distillation (the bench's step for every model after the first): teacher forward, attention-guided mask, KD.

STACKS = ("vision", "text", "fusion.text", "fusion.image")


def stack_layers(c: Config, s):
    return {"vision": c.vision.encoder.layers, "text": c.text.encoder.layers}.get(s, c.fusion.layers)


def stack_width(c: Config, s):
    return {"vision": c.vision.encoder.width, "text": c.text.encoder.width}.get(s, c.fusion.width)


def stack_heads(c: Config, s):
    return {"vision": c.vision.encoder.heads, "text": c.text.encoder.heads}.get(s, c.fusion.heads)


class Distiller:
    """KdMapping + PretrainGraph's KD terms: student attention layer j <- teacher layer ceil((j+1) T/S) - 1, hidden
    index 0 <- 0 and i+1 <- that layer + 1; L_hid = sum of row-weighted MSEs (through a learned projection where
    widths differ), L_attn the same over every self- and cross-attention map (head-averaged where head counts
    differ). The teacher also supplies its attention for the attention-guided mask (source: both)."""

    def __init__(self, student: M3AE, teacher: M3AE, seed):
        self.s, self.t = student, teacher
        cs, ct = student.c, teacher.c
        self.att = {}
        self.hid = {}
        for st in STACKS:
            t_n, s_n = stack_layers(ct, st), stack_layers(cs, st)
            a = [math.ceil((j + 1) * t_n / s_n) - 1 for j in range(s_n)]
            self.att[st], self.hid[st] = a, [0] + [x + 1 for x in a]
        g = torch.Generator().manual_seed(seed * 31)
        self.proj = {st: nn.Parameter(torch.randn(stack_width(cs, st), stack_width(ct, st), generator=g)
                                      * cs.init_std)
                     for st in STACKS if stack_width(cs, st) != stack_width(ct, st)}

    def named_parameters(self):
        return [("distill.%s.proj.weight" % st, p) for st, p in self.proj.items()]

    @staticmethod
    def hidden_name(st, i):
        return {"vision": "vision.hidden.%d", "text": "text.hidden.%d"}.get(st, st + ".hidden.%d") % i

    @staticmethod
    def attention_names(st, j):
        if st == "vision":
            return ["vision.attn.%d" % j]
        if st == "text":
            return ["text.attn.%d" % j]
        return ["%s.self_attn.%d" % (st, j), "%s.cross_attn.%d" % (st, j)]

    def teacher_targets(self, tb: TrainBatch):
        taps = Taps()
        with torch.no_grad():
            self.t.infer(tb.image, tb.ids, tb.mask, taps=taps)
        self.targets = taps.tensors
        return taps.tensors

    def losses(self, student, rows):
        def row_mse(a, b):
            return weighted_mean(((a - b) ** 2).flatten(1).mean(1), rows)

        l_hid = 0
        for st in STACKS:
            for i, ti in enumerate(self.hid[st]):
                h = student[self.hidden_name(st, i)]
                if st in self.proj:
                    h = h @ self.proj[st]
                l_hid = l_hid + row_mse(h, self.targets[self.hidden_name(st, ti)])
        l_attn = 0
        cs, ct = self.s.c, self.t.c
        for st in STACKS:
            for j, tj in enumerate(self.att[st]):
                for sn, tn in zip(self.attention_names(st, j), self.attention_names(st, tj)):
                    a, b = student[sn], self.targets[tn]
                    if stack_heads(cs, st) != stack_heads(ct, st):
                        a, b = a.mean(1, keepdim=True), b.mean(1, keepdim=True)
                    l_attn = l_attn + row_mse(a, b)
        return l_hid, l_attn

    def mask(self, tb: TrainBatch, step, seed):
        """DistillTask.feed's remasking: patch importance from the student's and the teacher's last ViT attention
        (CLS row) and last text->image cross-attention (over real tokens), min-max normalised; the top (1 - r) share
        is masked, the rest of the 75 % budget drawn at random from the other patches; r goes 0.95 -> 0.30 over 1000
        steps."""
        c = self.s.c
        taps = Taps()
        with torch.no_grad():
            self.s.infer(tb.image, tb.ids, tb.mask, taps=taps)

        def importance(out, cfg):
            va = out["vision.attn.%d" % (cfg.vision.encoder.layers - 1)]
            ca = out["fusion.text.cross_attn.%d" % (cfg.fusion.layers - 1)]
            m = tb.mask[:, :, None]
            multi = (ca.mean(1) * m).sum(1) / (m.sum(1) + 1e-12)
            return va[:, :, 0, 1:].mean(1) + multi[:, 1:]

        score = importance(taps.tensors, c) + importance(self.targets, self.t.c)
        lo, hi = score.min(1, keepdim=True).values, score.max(1, keepdim=True).values
        score = torch.where(hi > lo, (score - lo) / (hi - lo).clamp(min=1e-30), torch.zeros_like(score))
        n, k = c.vision.patches, c.mim_keep()
        r = 0.95 - (0.95 - 0.30) * min(1.0, step / 1000)
        high = min(int(math.floor((1 - r) * n + 1e-9)), n - k)
        g = torch.Generator().manual_seed(seed * 1000003 + step)
        masked = torch.zeros(score.shape[0], n)
        for b in range(score.shape[0]):
            order = torch.argsort(-score[b], stable=True)
            masked[b, order[:high]] = 1
            low = order[high:].sort().values
            masked[b, low[torch.randperm(low.numel(), generator=g)[: n - k - high]]] = 1
        keep = torch.stack([torch.nonzero(m == 0).flatten() for m in masked])
        return keep, masked


# ---------------------------------------------------------------------------------------------------------------------
# Timing and memory.

def reset_peak_rss():
    """Resets the kernel's resident-set high-water mark (VmHWM) so the next reading is this phase's peak."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed(fn, warmup, repeats, what, batch):
    """Warm-up, then timed repeats: median / min / max in ms, and the peak resident set of the phase."""
    reset_ok = reset_peak_rss()
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1000.0)
    s = sorted(ms)
    k = len(s)
    med = s[k // 2] if k % 2 else (s[k // 2 - 1] + s[k // 2]) / 2
    r = {"batch": batch, "median_ms": med, "min_ms": s[0], "max_ms": s[-1], "n": k, "ms": ms,
         "peak_rss_bytes": peak_rss_bytes(), "peak_rss_is_phase": reset_ok}
    log("  torch %-22s median %.1f ms (min %.1f, max %.1f), peak RSS %.2f GB"
        % (what, med, s[0], s[-1], r["peak_rss_bytes"] / 1e9))
    return r


# ---------------------------------------------------------------------------------------------------------------------

def build(cfg_path, args, weights=None, fixture_seed=None, seed=0):
    c = load_config(cfg_path, args.image_size, args.text_len)
    model = M3AE(c)
    if weights:
        random_init(model, c.init_seed + seed, c.init_std, only=HEADS)  # for when the file has no heads
        tensors, _ = read_safetensors(weights)
        absent = load_graph_weights(model, tensors, weights)
        del tensors
        log("  %s: weights from %s%s" % (c.name, weights, " (random heads: not in the file)" if absent else ""))
    elif fixture_seed is not None:
        g = graph_layout(model)
        load_graph_weights(model, fixture_weights([(n, list(t.shape)) for n, t in g.items()], fixture_seed),
                           "fixture weights (seed %d)" % fixture_seed)
    else:
        random_init(model, c.init_seed + seed, c.init_std)
    return c, model


def write_outputs(model, c, inputs, path, output_set, meta):
    model.eval()
    image = inputs["image"].float()
    ids, mask = inputs["text_ids"].long(), inputs["text_mask"].float()
    tensors = {}
    with torch.no_grad():
        taps = Taps()
        text, _, joint = model.infer(image, ids, mask, taps=taps)
        if output_set == "all":
            taps.put("mlm.logits", model.mlm_head(text))
            taps.put("itm.logits", model.itm_head(joint))
        tensors.update(taps.tensors)
        if "image_keep_ids" in inputs and output_set == "all":
            keep = inputs["image_keep_ids"].long()
            mt = Taps("mim")
            _, feats, _ = model.infer(image, ids, mask, keep_ids=keep, taps=mt)
            mt.put("mim.pred", model.mim_head(feats, keep, mt))
            tensors.update(mt.tensors)

    def wanted(name):
        plain = name.split("/")[-1]
        if name.startswith("mim/text."):
            return False  # the MIM pass reads the same text: the same tensors as the first pass
        if output_set == "all":
            return True
        if output_set == "joint":
            return plain in ("joint", "pooled.text", "pooled.image")
        return ".attn." not in plain and "_attn." not in plain

    tensors = {n: t.float() for n, t in sorted(tensors.items()) if wanted(n)}
    write_safetensors(path, tensors, meta)
    return len(tensors)


def main(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.perf_counter()
    c, model = build(a.model, a, a.weights, a.fixture_weights, a.seed)
    log("torch %s, %d thread(s): %s built in %.1f s, %d parameters (%d in the inference graph)" % (
        torch.__version__, torch.get_num_threads(), c.name, time.perf_counter() - t0, count(model.parameters()),
        backbone_parameters(model)))
    result = {"peer": "scripts/peer/m3ae_peer.py", "torch": torch.__version__, "python": platform.python_version(),
              "threads": torch.get_num_threads(), "model": c.name, "image_size": c.vision.image_size,
              "text_len": c.text.max_text_len, "parameters": count(model.parameters()),
              "backbone_parameters": backbone_parameters(model)}

    if a.inputs:
        if a.make_inputs is not None:
            write_safetensors(a.inputs, random_inputs(c, a.batch, a.make_inputs, keep=True),
                              {"generator": "m3ae_peer.py random_inputs seed %d" % a.make_inputs})
        inputs, _ = read_safetensors(a.inputs)
        for k in ("image", "text_ids", "text_mask"):
            if k not in inputs:
                raise ValueError("%s: no tensor '%s'" % (a.inputs, k))
        if a.outputs:
            meta = {"config": a.model, "image_size": c.vision.image_size, "text_len": c.text.max_text_len,
                    "torch": torch.__version__, "weights": a.weights or (
                        "fixture_weights seed %d" % a.fixture_weights if a.fixture_weights is not None
                        else "random_init seed %d" % (c.init_seed + a.seed)),
                    "fixture_seed": "" if a.fixture_weights is None else a.fixture_weights,
                    "parameters": json.dumps({n: list(t.shape) for n, t in graph_layout(model).items()})}
            n = write_outputs(model, c, inputs, a.outputs, a.output_set, meta)
            result["outputs"] = {"file": a.outputs, "tensors": n}
            log("  wrote %d tensors to %s" % (n, a.outputs))

    model.eval()
    timing_inputs = random_inputs(c, a.batch, c.init_seed + 1)
    if not a.no_inference:
        i = timing_inputs
        args = (i["image"], i["text_ids"].long(), i["text_mask"])
        with torch.inference_mode():
            result["inference"] = timed(lambda: model.infer(*args), a.warmup, a.repeats,
                                        "inference (batch %d)" % a.batch, a.batch)
    if not a.no_latency:
        one = random_inputs(c, 1, c.init_seed + 1)
        args1 = (one["image"], one["text_ids"].long(), one["text_mask"])
        with torch.inference_mode():
            result["latency"] = timed(lambda: model.infer(*args1), a.warmup, a.repeats, "latency (batch 1)", 1)

    if not a.no_train:
        result["train"] = time_training(model, c, a)
    result["peak_rss_bytes"] = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024]
                                   + [result[k]["peak_rss_bytes"] for k in ("inference", "latency", "train")
                                      if k in result])
    return result


def time_training(model, c, a):
    model.train()  # dropout at the config's rates, as the Java trainer's step
    tb = synthetic_batch(c, a.train_batch, c.init_seed)
    distiller = None
    named = list(model.named_parameters())
    if a.teacher_model:
        _, teacher = build(a.teacher_model, a, seed=a.seed + 1)
        teacher.eval()
        distiller = Distiller(model, teacher, c.init_seed)
        named += distiller.named_parameters()
        what = "distillation step: teacher forward, attention-guided mask (both), MLM+MIM+ITM+hidden+attention KD, " \
               "clipping, AdamW"
    else:
        what = "pre-training step: MLM+MIM+ITM, dropout, clipping, AdamW"
    opt = make_optimizer(named)
    params = [p for _, p in named]
    step = [0]

    def one_step():
        opt.zero_grad(set_to_none=True)
        keep, masked = tb.keep_ids, tb.mim_masked
        if distiller is not None:
            distiller.teacher_targets(tb)
            keep, masked = distiller.mask(tb, step[0], c.init_seed)
        pretrain_losses(model, c, tb, keep, masked, lambda l: l.backward(), distiller)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step[0] += 1

    r = timed(one_step, a.train_warmup, a.repeats, "train (batch %d)" % a.train_batch, a.train_batch)
    r["description"] = what
    return r


if __name__ == "__main__":
    try:
        res = main(ARGS)
    except (ConfigError, ValueError, OSError) as e:
        sys.stderr.write("m3ae_peer: %s\n" % e)
        sys.exit(2)
    if ARGS.json:
        print(json.dumps(res, indent=2))
    else:
        for k in ("inference", "latency", "train"):
            if k in res:
                print("%-10s batch %d: median %.1f ms" % (k, res[k]["batch"], res[k]["median_ms"]))
