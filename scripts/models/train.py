#!/usr/bin/python3
"""Trains one reference model (Llama- or GPT-2-architecture) on the KJV train split and writes an HF folder.

The folder (config.json, generation_config.json, model.safetensors, tokenizer.json, tokenizer_config.json) is
rewritten atomically each time the validation loss improves, so it always holds the best checkpoint. At the end
the best weights are reloaded from model.safetensors, checked against the in-memory model, and evaluated on the
test split; metrics.json records test perplexity next to an add-one-smoothed unigram baseline.

Usage (see scripts/models/README.md):
  /usr/bin/python3 scripts/models/train.py --arch llama --steps 600 --batch 16 --out models/llama-kjv \
      --tokenizer models/tokenizer --threads 1 --seed 1
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys
import time


def _early_threads():
    """--threads must reach OpenBLAS/OpenMP before torch loads: torch.set_num_threads alone leaves OpenBLAS's
    own pthread pool running on every core."""
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
import modeling  # noqa: E402
import safetensors_io  # noqa: E402


def log(f, msg):
    line = f"{time.strftime('%H:%M:%S', time.gmtime())} {msg}"
    print(line, flush=True)
    if f:
        f.write(line + "\n")
        f.flush()


def encode_file(enc, path):
    return np.array(enc.encode(open(path, encoding="utf-8").read()), dtype=np.int64)


def windows(stream, seq_len):
    """Non-overlapping evaluation windows of seq_len + 1 tokens with stride seq_len: every token after the
    first is predicted exactly once, with 0..seq_len-1 tokens of context."""
    n = (len(stream) - 1) // seq_len
    return np.stack([stream[i * seq_len:i * seq_len + seq_len + 1] for i in range(n)])


@torch.no_grad()
def eval_nll(model, wins, batch, limit=None):
    """Returns (sum of NLL in nats, number of predicted tokens, per-token NLL array) over the windows."""
    model.eval()
    wins = wins if limit is None else wins[:limit]
    tot, n, per = 0.0, 0, []
    for i in range(0, len(wins), batch):
        x = torch.from_numpy(wins[i:i + batch])
        logits, _ = model(x[:, :-1])
        lp = torch.log_softmax(logits.double(), dim=-1)
        nll = -lp.gather(-1, x[:, 1:, None])[..., 0]
        per.append(nll.numpy().reshape(-1))
        tot += nll.sum().item()
        n += nll.numel()
    model.train()
    return tot, n, np.concatenate(per)


def unigram_nll(train_ids, targets, vocab_size):
    """Add-one smoothed unigram model fitted on the train stream; NLL (nats) of each target token."""
    counts = np.bincount(train_ids, minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return -logp[targets]


def write_folder(out, config, state, tok_dir):
    """Writes the HF folder atomically: build it in a sibling temp dir, then swap it in (onnx/ and metadata
    files already in `out` are carried over)."""
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.path.basename(out)}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": config["bos_token_id"], "eos_token_id": config["eos_token_id"],
                   "transformers_version": config["transformers_version"]}, f, indent=2)
        f.write("\n")
    safetensors_io.save(state, os.path.join(tmp, "model.safetensors"))
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


def lr_at(step, args, elapsed=0.0):
    """Linear warmup to --lr over --warmup steps, then cosine decay to --min-lr. Progress through the cosine is
    the step fraction (step - warmup) / (steps - warmup), or, with --time-budget-min, the larger of that and the
    fraction of the wall-time budget already used, so a run on a busy machine still ends fully decayed."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    p = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    if args.time_budget_min > 0:
        p = max(p, min(1.0, elapsed / (args.time_budget_min * 60)))
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1 + math.cos(math.pi * p))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", choices=["llama", "gpt2"], required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr", type=float, default=3e-4)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-windows", type=int, default=128, help="valid windows used for periodic evaluation")
    ap.add_argument("--time-budget-min", type=float, default=0,
                    help="wall-time budget in minutes: the cosine follows elapsed time and training stops when it "
                         "is spent (0: off, purely step-based)")
    ap.add_argument("--tokenizer", default="models/tokenizer")
    ap.add_argument("--data", default="data/kjv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", default=None)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    logf = open(args.log, "a") if args.log else None
    log(logf, f"args {vars(args)} torch {torch.__version__} threads {torch.get_num_threads()}")

    vocab, merges = bpe.load(os.path.join(args.tokenizer, "tokenizer.json"))
    enc = bpe.Encoder(vocab, merges)
    train_ids = encode_file(enc, os.path.join(args.data, "train.txt"))
    valid_ids = encode_file(enc, os.path.join(args.data, "valid.txt"))
    test_text = open(os.path.join(args.data, "test.txt"), encoding="utf-8").read()
    test_ids = np.array(enc.encode(test_text), dtype=np.int64)
    log(logf, f"tokens: train {len(train_ids)} valid {len(valid_ids)} test {len(test_ids)}")

    V = len(vocab)
    eot = vocab[bpe.EOT]
    config = modeling.llama_config(vocab_size=V, bos_token_id=eot, eos_token_id=eot) if args.arch == "llama" \
        else modeling.gpt2_config(vocab_size=V, bos_token_id=eot, eos_token_id=eot)
    model = modeling.build(config)
    modeling.init_weights(model, args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    log(logf, f"{args.arch}: {n_params} parameters")

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    valid_w = windows(valid_ids, args.seq_len)
    g = torch.Generator().manual_seed(args.seed)
    T = args.seq_len
    best = (float("inf"), -1)
    best_state = None
    t0 = time.time()
    step = 0
    model.train()
    for step in range(args.steps):
        lr = lr_at(step, args, time.time() - t0)
        for grp in opt.param_groups:
            grp["lr"] = lr
        starts = torch.randint(0, len(train_ids) - T - 1, (args.batch,), generator=g).numpy()
        x = torch.from_numpy(np.stack([train_ids[s:s + T + 1] for s in starts]))
        logits, _ = model(x[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        last = step == args.steps - 1
        over = args.time_budget_min > 0 and (time.time() - t0) > args.time_budget_min * 60
        if step % 10 == 0:
            log(logf, f"step {step} loss {loss.item():.4f} lr {lr:.2e} "
                      f"{(time.time() - t0) / (step + 1):.3f} s/step")
        if (step + 1) % args.eval_every == 0 or last or over:
            tot, n, _ = eval_nll(model, valid_w, 32, args.eval_windows)
            vl = tot / n
            log(logf, f"eval step {step + 1} valid loss {vl:.4f} ppl {math.exp(vl):.2f}")
            if vl < best[0]:
                best = (vl, step + 1)
                best_state = copy.deepcopy(model.state_dict())
                write_folder(args.out, config, model.saved_state_dict(), args.tokenizer)
                log(logf, f"saved best to {args.out}")
        if over:
            log(logf, f"stopping at step {step + 1}: --time-budget-min {args.time_budget_min} spent")
            break
    train_s = time.time() - t0
    steps_done = step + 1

    # Reload the saved folder from safetensors and check it reproduces the in-memory best model.
    model.load_state_dict(best_state)
    model.eval()
    re = modeling.build(json.load(open(os.path.join(args.out, "config.json"))))
    missing = re.load_state_dict(safetensors_io.load(os.path.join(args.out, "model.safetensors")), strict=False)
    assert set(missing.missing_keys) <= {"lm_head.weight"} and not missing.unexpected_keys, missing
    re.eval()
    probe = torch.from_numpy(windows(valid_ids, T)[:2, :-1])
    with torch.no_grad():
        diff = (re(probe)[0] - model(probe)[0]).abs().max().item()
    assert diff == 0.0, f"reloaded safetensors logits differ by {diff}"
    log(logf, "safetensors reload: logits identical")

    test_w = windows(test_ids, T)
    tot, n, per = eval_nll(re, test_w, 32)
    targets = test_w[:, 1:].reshape(-1)
    uni = unigram_nll(train_ids, targets, V)
    # bytes covered by the predicted tokens (all ASCII here, so bytes == characters)
    tok_bytes = np.array([len(bytes(bpe.U2B[c] for c in enc.inv[i])) if i != eot else 0 for i in range(V)])
    nbytes = int(tok_bytes[targets].sum())
    ppl = math.exp(tot / n)
    uppl = math.exp(uni.mean())
    metrics = {
        "model": os.path.basename(os.path.abspath(args.out)),
        "architecture": config["architectures"][0],
        "parameters": n_params,
        "parameters_stored": sum(v.numel() for v in re.saved_state_dict().values()),
        "tokenizer": {"type": "byte-level BPE (scripts/models/bpe.py)", "vocab_size": V},
        "test": {
            "split": "data/kjv/test.txt", "protocol": f"windows of {T + 1} tokens, stride {T}; every token "
            "after the first predicted once with 0..{T - 1} tokens of context".replace("{T - 1}", str(T - 1)),
            "predicted_tokens": n, "predicted_bytes": nbytes,
            "nll_per_token_nats": tot / n, "perplexity_per_token": ppl,
            "bits_per_byte": tot / math.log(2) / nbytes, "perplexity_per_byte": math.exp(tot / nbytes),
            "unigram_baseline": {"description": "add-one smoothed unigram over the same vocabulary, fitted on "
                                 "data/kjv/train.txt", "nll_per_token_nats": float(uni.mean()),
                                 "perplexity_per_token": uppl,
                                 "bits_per_byte": float(uni.sum() / math.log(2) / nbytes)},
            "ratio_to_unigram": ppl / uppl,
        },
        "valid": {"best_loss_nats": best[0], "best_step": best[1], "windows": min(args.eval_windows, len(valid_w))},
        "training": {"steps_planned": args.steps, "steps_done": steps_done, "batch": args.batch, "seq_len": T,
                     "tokens_seen": steps_done * args.batch * T, "lr": args.lr, "min_lr": args.min_lr,
                     "warmup": args.warmup, "time_budget_min": args.time_budget_min,
                     "schedule": "linear warmup then cosine" + (" over the wall-time budget" if args.time_budget_min
                                                                else " over the steps"), "optimizer":
                     "AdamW(betas=(0.9,0.95), weight_decay=%g on matrices, grad clip 1.0)" % args.weight_decay,
                     "seed": args.seed, "threads": args.threads, "wall_seconds": round(train_s, 1),
                     "seconds_per_step": round(train_s / steps_done, 3), "torch": torch.__version__},
        "licence": {"weights": "MIT", "text": "KJV (public domain); Debian bible-kjv-text 4.38"},
    }
    with open(os.path.join(args.out, ".metrics.tmp"), "w") as f:
        json.dump(metrics, f, indent=2)
        f.write("\n")
    os.replace(os.path.join(args.out, ".metrics.tmp"), os.path.join(args.out, "metrics.json"))
    log(logf, f"test ppl {ppl:.3f} (unigram {uppl:.3f}), bits/byte {metrics['test']['bits_per_byte']:.4f}")


if __name__ == "__main__":
    main()
