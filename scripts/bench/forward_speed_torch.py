#!/usr/bin/env python3
"""PyTorch side of bench/forward-speed.bench.ts.

Writes a random-init LlamaForCausalLM with SmolLM2-135M's shape (30 blocks, hidden 576, 9 heads,
3 key/value heads, FFN 1536, vocab 49152, tied embeddings) to --out-dir as float32 safetensors
(transformers' own save_pretrained), unless it is already there, then times PyTorch CPU on it at
--threads threads and prints one JSON object:
  prefill: batch 1 x --prompt tokens, logits for every position (tokens/s, ms per run)
  calibration: --calib-batch x --calib-seq tokens with output_hidden_states=True (tokens/s)
  decode: greedy steps with transformers' KV cache after the prompt (ms/token)
Each measurement: --warmup untimed runs, then --runs timed runs; medians and min/max are reported.
Usage: OMP_NUM_THREADS=2 python3 scripts/bench/forward_speed_torch.py --out-dir /tmp/mi-prun-smollm2-shape
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time


def stats(xs):
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "runs": len(xs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--calib-batch", type=int, default=4)
    ap.add_argument("--calib-seq", type=int, default=128)
    ap.add_argument("--decode", type=int, default=16)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only-write", action="store_true")
    a = ap.parse_args()

    import torch
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(a.threads)
    if not os.path.exists(os.path.join(a.out_dir, "config.json")):
        torch.manual_seed(a.seed)
        cfg = LlamaConfig(
            vocab_size=49152,
            hidden_size=576,
            intermediate_size=1536,
            num_hidden_layers=30,
            num_attention_heads=9,
            num_key_value_heads=3,
            hidden_act="silu",
            max_position_embeddings=8192,
            rms_norm_eps=1e-5,
            rope_theta=100000.0,
            tie_word_embeddings=True,
            bos_token_id=0,
            eos_token_id=0,
        )
        m = LlamaForCausalLM(cfg).to(torch.float32)
        tmp = a.out_dir + ".tmp"
        m.save_pretrained(tmp, safe_serialization=True)
        os.replace(tmp, a.out_dir)
    if a.only_write:
        print(json.dumps({"dir": a.out_dir}))
        return
    model = LlamaForCausalLM.from_pretrained(a.out_dir, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(a.seed)
    prompt = torch.randint(0, 49152, (1, a.prompt), generator=g)
    calib = torch.randint(0, 49152, (a.calib_batch, a.calib_seq), generator=g)

    def timed(fn):
        for _ in range(a.warmup):
            fn()
        out = []
        for _ in range(a.runs):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
        return out

    with torch.inference_mode():
        pre = timed(lambda: model(prompt, use_cache=False))
        cal = timed(lambda: model(calib, use_cache=False, output_hidden_states=True))
        steps = []
        tokens = []

        def decode():
            out = model(prompt, use_cache=True)
            past = out.past_key_values
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            seq = [int(nxt)]
            t0 = time.perf_counter()
            for _ in range(a.decode - 1):
                out = model(nxt, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = out.logits[:, -1].argmax(-1, keepdim=True)
                seq.append(int(nxt))
            steps.append((time.perf_counter() - t0) * 1000 / max(1, a.decode - 1))
            tokens[:] = seq

        for _ in range(a.warmup):
            decode()
        steps.clear()
        for _ in range(a.runs):
            decode()
    print(
        json.dumps(
            {
                "engine": "pytorch",
                "versions": {"python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__},
                "threads": torch.get_num_threads(),
                "prompt": prompt[0].tolist(),
                "prefillMs": stats(pre),
                "prefillTokensPerSecond": a.prompt * 1000 / statistics.median(pre),
                "calibrationMs": stats(cal),
                "calibrationTokensPerSecond": a.calib_batch * a.calib_seq * 1000 / statistics.median(cal),
                "decodeMsPerToken": stats(steps),
                "greedyTokens": tokens,
                "calibIds": calib.flatten().tolist(),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
