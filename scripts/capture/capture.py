#!/usr/bin/env python3
"""Capture h_0 ... h_T of a Hugging Face causal LM into a sharded hidden-state dump for mi-prun.

h_0 is the embedding output, h_i the output of block i, and h_T the LAST BLOCK'S OUTPUT BEFORE THE FINAL NORM:
transformers' `output_hidden_states` ends with the final-norm output for Llama-family models, so h_T is taken
from a forward hook on the last decoder layer instead. States are written window by window into shards of at
most --shard-tokens rows (never all states in RAM) in the layout documented in packages/span-scoring/README.md
("Hidden-state dumps"), plus index.json.

Windows are cut as mi-prun's CLI cuts them (apps/cli/src/calibration.ts): a text file is tokenised whole
without special tokens, then split into non-overlapping windows of --seq-len tokens (the tail is dropped); a
.json file holds pre-tokenised ids (number[][] or {"ids": number[][]}), one window each. The first --samples
windows are captured in order (the CLI's seeded draw is not reproduced: pass the exact windows as .json to
capture the CLI's own calibration set).
"""
import argparse
import hashlib
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}
SAFE_DTYPE = {"bf16": "BF16", "fp16": "F16", "fp32": "F32"}


def read_windows(path, tok, seq_len):
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            v = json.load(f)
        seqs = v if isinstance(v, list) else v.get("ids")
        if not isinstance(seqs, list) or not all(isinstance(s, list) and s for s in seqs):
            sys.exit(f"{path}: pre-tokenised input must be number[][] or {{\"ids\": number[][]}}")
        return [list(map(int, s)) for s in seqs]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    ids = tok(text, add_special_tokens=False).input_ids
    return [ids[o : o + seq_len] for o in range(0, len(ids) - seq_len + 1, seq_len)]


def tokenizer_hash(model_dir_or_id, tok):
    path = os.path.join(model_dir_or_id, "tokenizer.json")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return "sha256:" + hashlib.sha256(f.read()).hexdigest()
    vocab = json.dumps(sorted(tok.get_vocab().items()), ensure_ascii=False).encode("utf-8")
    return "sha256-vocab:" + hashlib.sha256(vocab).hexdigest()


def decoder_layers(model):
    for path in ("model.layers", "transformer.h", "model.decoder.layers", "gpt_neox.layers"):
        obj = model
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            return obj
        except AttributeError:
            continue
    sys.exit("cannot find the decoder layers (tried model.layers, transformer.h, model.decoder.layers, gpt_neox.layers)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="Hugging Face model id or local folder")
    ap.add_argument("--calib", required=True, help="calibration text file, or .json of pre-tokenised windows")
    ap.add_argument("--out", required=True, help="output folder (created; must not exist)")
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--samples", type=int, default=32, help="windows to capture (the first N)")
    ap.add_argument("--shard-tokens", type=int, default=65536, help="most token rows per shard")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16", help="model and stored state dtype")
    ap.add_argument("--revision", default=None)
    args = ap.parse_args()
    if os.path.exists(args.out):
        sys.exit(f"{args.out} exists: pass a new folder")
    if args.shard_tokens < 1:
        sys.exit("--shard-tokens must be positive")

    dtype = DTYPES[args.dtype]
    tok = AutoTokenizer.from_pretrained(args.model, revision=args.revision)
    model = AutoModelForCausalLM.from_pretrained(
        args.model, revision=args.revision, dtype=dtype, device_map="auto"
    ).eval()
    windows = read_windows(args.calib, tok, args.seq_len)[: args.samples]
    if not windows:
        sys.exit(f"{args.calib} gives no window of {args.seq_len} tokens")
    if any(len(w) > args.shard_tokens for w in windows):
        sys.exit("--shard-tokens is smaller than a window: a window never spans two shards")

    layers = decoder_layers(model)
    last = {}

    def hook(_mod, _inp, out):
        last["h"] = out[0] if isinstance(out, tuple) else out

    handle = layers[-1].register_forward_hook(hook)
    tmp = args.out + ".partial"
    os.makedirs(tmp)
    shards, buf, rows_in_buf = [], None, 0
    seq_col, pos_col = [], []

    def flush():
        nonlocal buf, rows_in_buf, seq_col, pos_col
        if rows_in_buf == 0:
            return
        name = f"states-{len(shards):05d}.safetensors"
        tensors = {f"h.{i}": torch.cat(parts).contiguous() for i, parts in enumerate(buf)}
        tensors["sequence"] = torch.tensor(seq_col, dtype=torch.int32)
        tensors["position"] = torch.tensor(pos_col, dtype=torch.int32)
        save_file(tensors, os.path.join(tmp, name), metadata={"convention": "h_T before the final norm"})
        shards.append({"file": name, "rows": rows_in_buf})
        buf, rows_in_buf, seq_col, pos_col = None, 0, [], []

    n_states = None
    with torch.no_grad():
        for s, window in enumerate(windows):
            if rows_in_buf + len(window) > args.shard_tokens:
                flush()
            ids = torch.tensor([window], dtype=torch.long, device=model.device)
            out = model(ids, output_hidden_states=True, use_cache=False)
            hs = list(out.hidden_states[:-1]) + [last.pop("h")]  # h_0 .. h_T, h_T before the final norm
            if n_states is None:
                n_states = len(hs)
            rows = [h[0].to(dtype).cpu() for h in hs]
            buf = [[r] for r in rows] if buf is None else [b + [r] for b, r in zip(buf, rows)]
            rows_in_buf += len(window)
            seq_col += [s] * len(window)
            pos_col += list(range(len(window)))
            print(f"window {s + 1}/{len(windows)}", file=sys.stderr)
    flush()
    handle.remove()

    index = {
        "format": "mi-prun-hidden-states",
        "version": 1,
        "model": args.model,
        "revision": args.revision,
        "convention": "h_0 embedding output; h_i block i output; h_T last block output before the final norm",
        "dtype": SAFE_DTYPE[args.dtype],
        "numBlocks": n_states - 1,
        "hiddenSize": model.config.hidden_size,
        "tokenizerHash": tokenizer_hash(args.model, tok),
        "seqLen": args.seq_len,
        "shards": shards,
        "tokens": {
            "ids": [t for w in windows for t in w],
            "sequence": [s for s, w in enumerate(windows) for _ in w],
            "position": [p for w in windows for p in range(len(w))],
        },
    }
    with open(os.path.join(tmp, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f)
    os.rename(tmp, args.out)
    print(f"{sum(s['rows'] for s in shards)} tokens, {len(shards)} shards -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
