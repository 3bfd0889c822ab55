#!/usr/bin/env python3
"""Convert an official M3AE Lightning checkpoint (m3ae.ckpt) to .safetensors for the Java importer.

The Java side reads `ckpt["state_dict"]` under its original key names (SPEC §4) and does every
transform itself (Linear transposes, q/k/v split, conv1 flattening, positional-embedding resize),
so this script only unpacks the pickle: tensors are stored unchanged, in float32.

    pip install torch safetensors transformers
    python scripts/convert_m3ae_ckpt.py downloaded/pretrained/m3ae.ckpt m3ae.safetensors \
        --tokenizer-dir m3ae-tokenizer

then: java -jar target/m3ae-distill.jar import --config configs/models/teacher-m3ae.yaml \
        --weights m3ae.safetensors --out teacher.sdz
"""
import argparse
import json

import torch
from safetensors.torch import save_file


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("ckpt", help="Lightning .ckpt (e.g. downloaded/pretrained/m3ae.ckpt)")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--tokenizer-dir", help="also save the RoBERTa tokenizer files (tokenizer.json) here")
    ap.add_argument("--tokenizer", default="roberta-base", help="tokenizer name M3AE was trained with")
    args = ap.parse_args()

    # weights_only=False: Lightning pickles hyper_parameters (the sacred config) next to the weights.
    ckpt = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    state = ckpt["state_dict"] if "state_dict" in ckpt else ckpt
    tensors = {}
    for k, v in state.items():
        if not torch.is_tensor(v):
            continue
        # safetensors refuses shared or non-contiguous storage; floats go to fp32 (AMP-trained, fp32 master weights)
        v = v.detach().clone().contiguous()
        tensors[k] = v.float() if v.is_floating_point() else v
    config = ckpt.get("hyper_parameters", {}).get("config", {})
    meta = {"source": args.ckpt, "format": "pt"}
    for key in ("image_size", "max_text_len", "tokenizer", "patch_size", "mim_layer"):
        if key in config:
            meta[key] = json.dumps(config[key])
    save_file(tensors, args.out, metadata=meta)
    n = sum(t.numel() for t in tensors.values())
    print(f"wrote {len(tensors)} tensors ({n / 1e6:.1f} M values) to {args.out}")

    if args.tokenizer_dir:
        from transformers import AutoTokenizer
        AutoTokenizer.from_pretrained(config.get("tokenizer", args.tokenizer)).save_pretrained(args.tokenizer_dir)
        print(f"tokenizer files in {args.tokenizer_dir}")


if __name__ == "__main__":
    main()
