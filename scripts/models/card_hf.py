#!/usr/bin/env python3
"""Model card for a folder written by train_hf.py: architecture, training curve, test perplexity, and the
drop-one table (validation loss with each block skipped in turn, computed here with transformers itself), which
answers whether the model shows LLMs' deep-half redundancy. Writes <folder>/drop-one.json and <folder>/README.md.

Usage (needs torch + transformers, e.g. a venv from the machine's pip):
  python scripts/models/card_hf.py models/llama-kjv-24 [--data data/kjv] [--windows 64]
"""
import argparse
import json
import math
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

import bpe  # noqa: E402  (scripts/models/bpe.py, on sys.path when run from scripts/models or via PYTHONPATH)


@torch.no_grad()
def mean_nll(model, wins, skip=None):
    handles = []
    if skip is not None:
        layer = model.model.layers[skip]

        def passthrough(module, args, kwargs, output):
            h = kwargs.get("hidden_states", args[0] if args else None)
            return (h,) + tuple(output[1:]) if isinstance(output, tuple) else h

        handles.append(layer.register_forward_hook(passthrough, with_kwargs=True))
    tot, n = 0.0, 0
    try:
        for i in range(0, len(wins), 16):
            x = torch.from_numpy(wins[i:i + 16])
            lp = torch.log_softmax(model(input_ids=x[:, :-1]).logits.double(), dim=-1)
            tot += -lp.gather(-1, x[:, 1:, None]).sum().item()
            n += x.shape[0] * (x.shape[1] - 1)
    finally:
        for h in handles:
            h.remove()
    return tot / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--data", default="data/kjv")
    ap.add_argument("--windows", type=int, default=64, help="validation windows for the drop-one table")
    args = ap.parse_args()
    folder = args.folder
    c = json.load(open(os.path.join(folder, "config.json")))
    m = json.load(open(os.path.join(folder, "metrics.json")))
    torch.set_num_threads(1)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    vocab, merges = bpe.load(os.path.join(folder, "tokenizer.json"))
    T = m["training"]["seq_len"]
    text = open(os.path.join(args.data, "valid.txt"), encoding="utf-8").read()
    ids = np.array(bpe.Encoder(vocab, merges).encode(text), dtype=np.int64)
    nwin = min(args.windows, (len(ids) - 1) // T)
    wins = np.stack([ids[i * T:i * T + T + 1] for i in range(nwin)])
    dense = mean_nll(model, wins)
    rows = []
    for b in range(c["num_hidden_layers"]):
        nll = mean_nll(model, wins, skip=b)
        rows.append({"block": b, "mean_nll": nll, "increase": nll - dense})
    drop = {"split": os.path.join(args.data, "valid.txt"), "windows": int(nwin), "tokens_per_window": T,
            "dense_mean_nll": dense, "unit": "nats per token", "skip": "block output replaced by its input",
            "blocks": rows, "transformers": transformers.__version__, "torch": torch.__version__}
    L = c["num_hidden_layers"]
    half = L // 2
    first = float(np.mean([r["increase"] for r in rows[1:half]]))
    second = float(np.mean([r["increase"] for r in rows[half:L - 1]]))
    drop["mean_increase_first_half_excl_block0"] = first
    drop["mean_increase_second_half_excl_last"] = second
    with open(os.path.join(folder, ".drop-one.json.tmp"), "w") as f:
        json.dump(drop, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(folder, ".drop-one.json.tmp"), os.path.join(folder, "drop-one.json"))

    t, tr = m["test"], m["training"]
    name = os.path.basename(os.path.abspath(folder))
    qk = " + per-head q/k RMSNorm (Qwen3)" if c["model_type"] == "qwen3" else ""
    lines = [
        f"# {name}",
        "",
        f"A reference model for mi-prun, trained here by `scripts/models/train_hf.py` with transformers' own "
        f"`{m['architecture']}` and saved with `save_pretrained` (transformers-5 config layout).",
        "",
        f"- {L} blocks, hidden {c['hidden_size']}, {c['num_attention_heads']} query / {c['num_key_value_heads']} "
        f"key-value heads, head_dim {c['head_dim']}, SwiGLU MLP {c['intermediate_size']}, RMSNorm{qk}, RoPE "
        f"(`rope_parameters`), tied embeddings; {m['parameters']:,} parameters stored as {m['stored_dtype']}.",
        f"- Tokenizer: {m['tokenizer']['type']}, {m['tokenizer']['vocab_size']} ids (same as `models/tokenizer`).",
        f"- Data: King James Bible, split by chapter (`data/kjv`, see its PROVENANCE.md).",
        f"- Training: {tr['steps_done']} of {tr['steps_planned']} planned steps, batch {tr['batch']} × {tr['seq_len']} "
        f"tokens ({tr['tokens_seen']:,} tokens seen), {tr['schedule']}, lr {tr['lr']}, {tr['optimizer']}, "
        f"{tr['threads']} thread, {tr['wall_seconds'] / 60:.0f} min wall on a shared 2-core machine. The budget, not "
        f"early stopping, ended the run: the validation loss was still falling.",
        f"- **Test perplexity {t['perplexity_per_token']:.2f}** per token ({t['protocol']}, {t['predicted_tokens']:,} "
        f"predicted tokens; add-one unigram on the same split: {t['unigram_perplexity_per_token']:.1f}).",
        "",
        "## Validation curve",
        "",
        "| step | validation loss (nats/token) | perplexity |",
        "| ---: | ---: | ---: |",
    ]
    for p in m["curve"]:
        lines.append(f"| {p['step']} | {p['valid_loss_nats']:.4f} | {math.exp(p['valid_loss_nats']):.2f} |")
    lines += [
        "",
        "## Drop-one: validation loss with each block skipped",
        "",
        f"{nwin} validation windows of {T} tokens, dense mean NLL {dense:.4f} nats/token (`drop-one.json`).",
        "",
        "| block | mean NLL | increase |",
        "| ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(f"| {r['block']} | {r['mean_nll']:.4f} | {r['increase']:+.4f} |")
    verdict = ("shows" if second < first else "does not show")
    lines += [
        "",
        f"Mean increase over blocks 1…{half - 1}: {first:.4f}; over blocks {half}…{L - 2}: {second:.4f}. "
        f"The model {verdict} the deep-half redundancy of LLMs (deep blocks cheaper to drop than early ones).",
        "",
        "Licence: weights MIT; text public domain.",
        "",
    ]
    with open(os.path.join(folder, ".README.md.tmp"), "w") as f:
        f.write("\n".join(lines))
    os.replace(os.path.join(folder, ".README.md.tmp"), os.path.join(folder, "README.md"))
    print(f"{name}: dense {dense:.4f}, first half {first:.4f}, second half {second:.4f} -> {verdict}")


if __name__ == "__main__":
    main()
