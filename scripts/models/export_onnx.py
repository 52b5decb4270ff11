#!/usr/bin/python3
"""Exports a reference model folder (written by train.py) to ONNX in the layout transformers.js expects.

Writes <folder>/onnx/model.onnx (with KV cache) and <folder>/onnx/model_no_past.onnx (without), opset 14, via
torch.onnx.export with the HF module tree, so node names read /model/layers.N/... (Llama) or /transformer/h.N/...
(GPT-2). The graphs are not optimised afterwards, so those names survive.

model.onnx
  inputs  input_ids [batch_size, sequence_length] int64, attention_mask [batch_size, total_sequence_length] int64,
          position_ids [batch_size, sequence_length] int64 (Llama only),
          past_key_values.N.key / .value [batch_size, kv_heads, past_sequence_length, head_dim] float32
  outputs logits [batch_size, sequence_length, vocab], present.N.key / .value
          [batch_size, kv_heads, total_sequence_length, head_dim]
  kv_heads and head_dim are static numbers in the graph metadata; transformers.js (v4) reads them there to build
  the empty (past_sequence_length = 0) cache of the first generation step.
model_no_past.onnx
  inputs  input_ids, attention_mask (+ position_ids for Llama); output logits.

It also writes <out-fixture> (JSON): a few inputs with torch's logits, for check_onnx.mjs to compare in ORT
(onnx 1.12 has no reference evaluator).

Usage: /usr/bin/python3 scripts/models/export_onnx.py models/llama-kjv [--fixture /tmp/llama-onnx-check.json]
"""
import argparse
import json
import os
import shutil
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import modeling  # noqa: E402
import safetensors_io  # noqa: E402

OPSET = 14


def load_folder(folder):
    config = json.load(open(os.path.join(folder, "config.json")))
    model = modeling.build(config)
    res = model.load_state_dict(safetensors_io.load(os.path.join(folder, "model.safetensors")), strict=False)
    assert set(res.missing_keys) <= {"lm_head.weight"} and not res.unexpected_keys, res
    model.eval()
    return config, model


def dims(config):
    if config["model_type"] == "llama":
        return config["num_hidden_layers"], config["num_key_value_heads"], config["head_dim"]
    return config["n_layer"], config["n_head"], config["n_embd"] // config["n_head"]


def export(config, model, path, with_past):
    L, KV, D = dims(config)
    llama = config["model_type"] == "llama"
    b, t, p = 2, 5, 3
    ids = torch.randint(0, config["vocab_size"], (b, t))
    past = tuple((torch.randn(b, KV, p, D), torch.randn(b, KV, p, D)) for _ in range(L)) if with_past else None
    total = t + (p if with_past else 0)
    mask = torch.ones(b, total, dtype=torch.long)
    pos = (torch.arange(t) + (p if with_past else 0))[None].expand(b, t).contiguous()

    in_names = ["input_ids", "attention_mask"] + (["position_ids"] if llama else [])
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    if llama:
        axes["position_ids"] = {0: "batch_size", 1: "sequence_length"}
    out_names = ["logits"]
    if with_past:
        for i in range(L):
            for kv in ("key", "value"):
                in_names.append(f"past_key_values.{i}.{kv}")
                out_names.append(f"present.{i}.{kv}")
                axes[f"past_key_values.{i}.{kv}"] = {0: "batch_size", 2: "past_sequence_length"}
                axes[f"present.{i}.{kv}"] = {0: "batch_size", 2: "total_sequence_length"}

    model.onnx_mode = "with_past" if with_past else "logits"
    args = (ids, mask, pos if llama else None, past) if llama or with_past else (ids, mask)
    if not llama and with_past:
        args = (ids, mask, None, past)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, args, tmp, input_names=in_names, output_names=out_names, dynamic_axes=axes,
                          opset_version=OPSET, do_constant_folding=True)
    model.onnx_mode = None
    m = onnx.load(tmp)
    onnx.checker.check_model(m)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    names = [n.name for n in m.graph.node]
    prefix = "/model/layers." if llama else "/transformer/h."
    blocks = sorted({int(n[len(prefix):].split("/")[0]) for n in names if n.startswith(prefix)})
    assert blocks == list(range(L)), f"node names do not cover {prefix}0..{L - 1}: {blocks}"
    return {"file": os.path.basename(path), "nodes": len(names), "inputs": [i.name for i in m.graph.input],
            "outputs": [o.name for o in m.graph.output], "bytes": os.path.getsize(path),
            "sample_node_names": [n for n in names if n.startswith(prefix + "0/")][:5]}


def fixture(config, model):
    """Inputs and torch logits for ORT comparison: a padded batch for the no-past graph, and a prefill + one-step
    decode for the KV graph (expected to equal the full-sequence logits)."""
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(0, config["vocab_size"], (2, 12), generator=g)
    mask = torch.ones(2, 12, dtype=torch.long)
    mask[1, 9:] = 0  # right padding on the second row
    pos = torch.arange(12)[None].expand(2, 12).contiguous()
    with torch.no_grad():
        logits, _ = model(ids, mask, pos)
    return {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "position_ids": pos.tolist(),
            "logits": logits.numpy().astype(np.float64).tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--fixture", default=None)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    config, model = load_folder(args.folder)
    out = os.path.join(args.folder, "onnx")
    tmpdir = out + ".tmp"
    shutil.rmtree(tmpdir, ignore_errors=True)
    os.makedirs(tmpdir)
    info = [export(config, model, os.path.join(tmpdir, "model.onnx"), True),
            export(config, model, os.path.join(tmpdir, "model_no_past.onnx"), False)]
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.rename(tmpdir, out)
    print(json.dumps(info, indent=1))
    if args.fixture:
        with open(args.fixture, "w") as f:
            json.dump(fixture(config, model), f)


if __name__ == "__main__":
    main()
