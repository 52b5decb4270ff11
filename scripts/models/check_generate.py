#!/usr/bin/python3
"""Greedy decode with the torch model (KV cache), to compare with check_transformers.mjs.
Usage: /usr/bin/python3 scripts/models/check_generate.py <model dir> <prompt> <new tokens> [<ids json from node>]"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import export_onnx  # noqa: E402

folder, prompt, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
config, model = export_onnx.load_folder(folder)
enc = bpe.Encoder(*bpe.load(os.path.join(folder, "tokenizer.json")))
ids = enc.encode(prompt)
with torch.no_grad():
    logits, past = model(torch.tensor([ids]))
    for _ in range(n):
        nxt = int(logits[0, -1].argmax())
        ids.append(nxt)
        logits, past = model(torch.tensor([[nxt]]), past=past)
print(json.dumps({"ids": ids, "text": enc.decode(ids)}))
if len(sys.argv) > 4:
    other = json.loads(sys.argv[4])["ids"]
    assert other == ids, f"transformers.js ids {other} != torch ids {ids}"
    print("transformers.js greedy ids == torch greedy ids")
