#!/usr/bin/env python3
"""Trains a deep reference model with Hugging Face transformers' own model classes, resumably.

Unlike train.py (our minimal re-implementation, used for llama-kjv and gpt2-kjv), this script builds the model
with `transformers` itself (LlamaForCausalLM, Qwen3ForCausalLM) and writes the folder with `save_pretrained`, so
the committed config is in the transformers-5 layout (`rope_parameters`, `dtype`) that users' checkpoints have.

Resumable: every --ckpt-every steps the full training state (weights, AdamW moments, step, RNG states, curve,
best validation loss) is written atomically to <work>/state.pt. Re-running the same command continues from it;
the schedule is a step-based cosine over --steps, so a resumed run follows the same learning-rate curve as an
uninterrupted one. Training stops at --steps or when the validation loss has not improved for --patience
evaluations (early stopping). The best checkpoint (lowest validation loss) is kept in <work>/best/ and exported
at the end to --out as an HF folder (weights in --save-dtype) with metrics.json (curve, steps, test perplexity).

Usage (see scripts/models/README.md; needs torch + transformers, e.g. a venv from the machine's pip):
  python scripts/models/train_hf.py --arch llama --layers 24 --work /tmp/train/llama-kjv-24 \
      --out models/llama-kjv-24 --threads 1
"""
import argparse
import json
import math
import os
import shutil
import sys
import time


def _early_threads():
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = _early_threads()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402


def log(f, msg):
    line = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} {msg}"
    print(line, flush=True)
    f.write(line + "\n")
    f.flush()


def windows(stream, seq_len):
    """Non-overlapping windows of seq_len + 1 tokens, stride seq_len (each token after the first predicted once)."""
    n = (len(stream) - 1) // seq_len
    return np.stack([stream[i * seq_len:i * seq_len + seq_len + 1] for i in range(n)])


def build_config(args, vocab_size, eot):
    common = dict(
        vocab_size=vocab_size, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        head_dim=args.hidden // args.heads, max_position_embeddings=256, rms_norm_eps=1e-5,
        tie_word_embeddings=True, bos_token_id=eot, eos_token_id=eot, attention_dropout=0.0,
    )
    if args.arch == "llama":
        return transformers.LlamaConfig(**common, rope_parameters={"rope_type": "default", "rope_theta": 10000.0})
    if args.arch == "qwen3":
        return transformers.Qwen3Config(**common, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                                        use_sliding_window=False)
    raise SystemExit(f"unknown --arch {args.arch}")


def lr_at(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))


@torch.no_grad()
def eval_nll(model, wins, batch=32):
    model.eval()
    tot, n = 0.0, 0
    for i in range(0, len(wins), batch):
        x = torch.from_numpy(wins[i:i + batch])
        logits = model(input_ids=x[:, :-1]).logits
        lp = torch.log_softmax(logits.double(), dim=-1)
        tot += -lp.gather(-1, x[:, 1:, None]).sum().item()
        n += x.shape[0] * (x.shape[1] - 1)
    model.train()
    return tot, n


def atomic_torch_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_folder(model, out, tok_dir, dtype):
    """save_pretrained into a sibling temp folder, then swap it in (nothing half-written)."""
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.path.basename(out)}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    m = model.to(dtype)
    m.save_pretrained(tmp, safe_serialization=True)
    model.to(torch.float32)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(tok_dir, name), os.path.join(tmp, name))
    if os.path.isdir(out):
        for keep in ("onnx", "metrics.json", "README.md"):
            if os.path.exists(os.path.join(out, keep)):
                os.rename(os.path.join(out, keep), os.path.join(tmp, keep))
        old = tmp + ".old"
        os.rename(out, old)
        os.rename(tmp, out)
        shutil.rmtree(old)
    else:
        os.rename(tmp, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["llama", "qwen3"], required=True)
    ap.add_argument("--layers", type=int, required=True)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--intermediate", type=int, default=384)
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-windows", type=int, default=192)
    ap.add_argument("--patience", type=int, default=8, help="evaluations without improvement before stopping")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--save-dtype", choices=["bfloat16", "float32"], default="bfloat16")
    ap.add_argument("--tokenizer", default="models/tokenizer")
    ap.add_argument("--data", default="data/kjv")
    ap.add_argument("--work", required=True, help="resumable state, log and best checkpoint live here")
    ap.add_argument("--out", required=True, help="final HF folder (written at the end)")
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(args.threads)
    logf = open(os.path.join(args.work, "train.log"), "a")
    log(logf, f"args {vars(args)} torch {torch.__version__} transformers {transformers.__version__}")

    vocab, merges = bpe.load(os.path.join(args.tokenizer, "tokenizer.json"))
    cache = os.path.join(args.work, "ids.npz")
    if os.path.exists(cache):
        z = np.load(cache)
        train_ids, valid_ids, test_ids = z["train"], z["valid"], z["test"]
    else:
        enc = bpe.Encoder(vocab, merges)
        ids = {s: np.array(enc.encode(open(os.path.join(args.data, f"{s}.txt"), encoding="utf-8").read()),
                           dtype=np.int64) for s in ("train", "valid", "test")}
        np.savez(cache + ".tmp.npz", **ids)
        os.replace(cache + ".tmp.npz", cache)
        train_ids, valid_ids, test_ids = ids["train"], ids["valid"], ids["test"]
    log(logf, f"tokens: train {len(train_ids)} valid {len(valid_ids)} test {len(test_ids)}")
    V = len(vocab)
    eot = vocab[bpe.EOT]

    torch.manual_seed(args.seed)
    config = build_config(args, V, eot)
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="sdpa",
                                                          dtype=torch.float32)
    n_params = sum(p.numel() for p in model.parameters())
    log(logf, f"{type(model).__name__}: {n_params} parameters, {args.layers} blocks")
    decay = [p for _, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for _, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(args.seed)
    state_path = os.path.join(args.work, "state.pt")
    st = {"step": 0, "best": [float("inf"), -1], "curve": [], "since_best": 0, "wall": 0.0, "done": False}
    if os.path.exists(state_path):
        ck = torch.load(state_path, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        g.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        st = ck["st"]
        log(logf, f"resumed at step {st['step']} (best valid {st['best'][0]:.4f} at {st['best'][1]})")

    def checkpoint():
        atomic_torch_save({"model": model.state_dict(), "opt": opt.state_dict(), "gen": g.get_state(),
                           "torch_rng": torch.get_rng_state(), "st": st}, state_path)

    valid_w = windows(valid_ids, args.seq_len)[:args.eval_windows]
    T = args.seq_len
    best_dir = os.path.join(args.work, "best")
    model.train()
    t_last = time.time()
    while not st["done"] and st["step"] < args.steps:
        step = st["step"]
        lr = lr_at(step, args)
        for grp in opt.param_groups:
            grp["lr"] = lr
        starts = torch.randint(0, len(train_ids) - T - 1, (args.batch,), generator=g).numpy()
        x = torch.from_numpy(np.stack([train_ids[s:s + T + 1] for s in starts]))
        logits = model(input_ids=x[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        st["step"] = step + 1
        now = time.time()
        st["wall"] += now - t_last
        t_last = now
        if step % 10 == 0:
            log(logf, f"step {step} loss {loss.item():.4f} lr {lr:.2e} {st['wall'] / (step + 1):.2f} s/step")
        if st["step"] % args.eval_every == 0 or st["step"] == args.steps:
            tot, n = eval_nll(model, valid_w)
            vl = tot / n
            st["curve"].append([st["step"], vl])
            log(logf, f"eval step {st['step']} valid loss {vl:.4f} ppl {math.exp(vl):.2f}")
            if vl < st["best"][0]:
                st["best"] = [vl, st["step"]]
                st["since_best"] = 0
                save_folder(model, best_dir, args.tokenizer, torch.float32)
            else:
                st["since_best"] += 1
                if st["since_best"] >= args.patience:
                    log(logf, f"early stop: no improvement for {args.patience} evaluations")
                    st["done"] = True
            checkpoint()
        elif st["step"] % args.ckpt_every == 0:
            checkpoint()
    st["done"] = True
    checkpoint()

    # Final: reload the best checkpoint, evaluate the test split, export in --save-dtype.
    best = transformers.AutoModelForCausalLM.from_pretrained(best_dir, dtype=torch.float32)
    dtype = getattr(torch, args.save_dtype)
    save_folder(best, args.out, args.tokenizer, dtype)
    final = transformers.AutoModelForCausalLM.from_pretrained(args.out, dtype=torch.float32)
    test_w = windows(test_ids, T)
    tot, n = eval_nll(final, test_w)
    vtot, vn = eval_nll(final, windows(valid_ids, T))
    counts = np.bincount(train_ids, minlength=V).astype(np.float64) + 1.0
    uni = -np.log(counts / counts.sum())[test_w[:, 1:].reshape(-1)]
    metrics = {
        "model": os.path.basename(os.path.abspath(args.out)),
        "architecture": type(final).__name__,
        "parameters": sum(p.numel() for p in final.parameters()),
        "blocks": args.layers,
        "stored_dtype": args.save_dtype,
        "tokenizer": {"type": "byte-level BPE (scripts/models/bpe.py)", "vocab_size": V},
        "test": {"split": "data/kjv/test.txt", "protocol": f"windows of {T + 1} tokens, stride {T}",
                 "predicted_tokens": n, "nll_per_token_nats": tot / n, "perplexity_per_token": math.exp(tot / n),
                 "unigram_perplexity_per_token": float(math.exp(uni.mean())),
                 "weights": f"as stored ({args.save_dtype}), computed in float32"},
        "valid": {"nll_per_token_nats_full_split": vtot / vn, "best_loss_nats_eval_subset": st["best"][0],
                  "best_step": st["best"][1], "eval_windows": len(valid_w)},
        "training": {"steps_planned": args.steps, "steps_done": st["step"], "batch": args.batch, "seq_len": T,
                     "tokens_seen": st["step"] * args.batch * T, "lr": args.lr, "min_lr": args.min_lr,
                     "warmup": args.warmup, "schedule": "linear warmup then cosine over the planned steps",
                     "early_stopping": f"patience {args.patience} evaluations every {args.eval_every} steps",
                     "optimizer": f"AdamW(betas=(0.9,0.95), weight_decay={args.weight_decay} on matrices, clip 1.0)",
                     "seed": args.seed, "threads": args.threads, "wall_seconds": round(st["wall"], 1),
                     "torch": torch.__version__, "transformers": transformers.__version__},
        "curve": [{"step": s, "valid_loss_nats": v} for s, v in st["curve"]],
        "licence": {"weights": "MIT", "text": "KJV (public domain); Debian bible-kjv-text 4.38"},
    }
    tmp = os.path.join(args.out, ".metrics.json.tmp")
    with open(tmp, "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(args.out, "metrics.json"))
    log(logf, f"done: test ppl {math.exp(tot / n):.3f} (unigram {metrics['test']['unigram_perplexity_per_token']:.1f})")


if __name__ == "__main__":
    main()
