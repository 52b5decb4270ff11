#!/usr/bin/env python3
"""Reference forward pass of Hugging Face causal LMs in numpy float64, for golden values.

Implements the transformers semantics of LlamaForCausalLM (grouped-query attention, RoPE with
rope_theta, tied or untied head, optional attention/mlp biases), MistralForCausalLM (sliding
window), Qwen2ForCausalLM (qkv bias) and GPT2LMHeadModel (Conv1D layout, learned positions,
gelu_new), reading config.json + safetensors (F32/F16/BF16, single file or sharded with an index)
directly, independently of the TypeScript adapter.

Writes PREFIX.json (metadata, token ids, versions, layout) and PREFIX.bin (little-endian float64:
logits [N, V], then h_0..h_T each [N, d], N = batch*seqLen). h_0 is the embedding output and h_T
the last block's output BEFORE the final norm (mi-prun's convention; Hugging Face's last
hidden_states entry is after the norm). Also records the next-token NLL summed over positions
1..S-1 of every sequence.

Usage (image python3, numpy 2.x):
  python3 scripts/goldens/hf_forward.py --model models/llama-kjv --tokens tokens.json
  python3 scripts/goldens/hf_forward.py --model DIR --batch 2 --seq-len 16 --seed 0   # generated ids
Token file: JSON {"batch": B, "seqLen": S, "ids": [...]} or whitespace-separated ids (then
--batch/--seq-len give the shape; default one sequence). Default output prefix: DIR/golden-forward.
"""
import argparse
import json
import os
import platform
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = data[b:end]
        dt = e["dtype"]
        if dt == "F32":
            a = np.frombuffer(raw, dtype="<f4").astype(np.float64)
        elif dt == "F16":
            a = np.frombuffer(raw, dtype="<f2").astype(np.float64)
        elif dt == "BF16":
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view("<f4").astype(np.float64)
        elif dt == "F64":
            a = np.frombuffer(raw, dtype="<f8").copy()
        else:
            continue
        out[name] = a.reshape(e["shape"])
    return out


def load_weights(model_dir):
    idx = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(idx):
        with open(idx) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
    else:
        shards = ["model.safetensors"]
    w = {}
    for s in shards:
        w.update(read_safetensors(os.path.join(model_dir, s)))
    return w


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def causal_mask(S, window):
    i = np.arange(S)[:, None]
    j = np.arange(S)[None, :]
    masked = j > i
    if window:
        masked = masked | (i - j >= window)
    return np.where(masked, -np.inf, 0.0)


def gelu(x, kind):
    if kind in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    if kind == "gelu":
        from math import erf

        return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))
    if kind == "relu":
        return np.maximum(x, 0)
    if kind in ("silu", "swish"):
        return x / (1.0 + np.exp(-x))
    raise SystemExit(f"unsupported activation {kind}")


def llama_forward(cfg, w, ids):
    B, S = ids.shape
    mt = cfg["model_type"]
    d = cfg["hidden_size"]
    H = cfg["num_attention_heads"]
    KV = cfg.get("num_key_value_heads") or H
    hd = cfg.get("head_dim") or d // H
    L = cfg["num_hidden_layers"]
    eps = cfg.get("rms_norm_eps", 1e-6)
    theta = cfg.get("rope_theta", 10000.0)
    act = cfg.get("hidden_act", "silu")
    sw = cfg.get("sliding_window") or 0
    if "layer_types" in cfg and cfg["layer_types"] is not None:
        windows = [sw if t == "sliding_attention" else 0 for t in cfg["layer_types"]]
    elif mt == "mistral":
        windows = [sw] * L
    elif mt == "qwen2" and cfg.get("use_sliding_window"):
        mwl = cfg.get("max_window_layers", L)
        windows = [sw if i >= mwl else 0 for i in range(L)]
    else:
        windows = [0] * L

    def rms(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g

    def lin(x, name):
        y = x @ w[name + ".weight"].T
        if name + ".bias" in w:
            y = y + w[name + ".bias"]
        return y

    inv_freq = 1.0 / theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd)
    freqs = np.arange(S, dtype=np.float64)[:, None] * inv_freq[None, :]
    emb = np.concatenate([freqs, freqs], -1)
    cos, sin = np.cos(emb), np.sin(emb)

    def rot(x):
        return np.concatenate([-x[..., hd // 2 :], x[..., : hd // 2]], -1)

    h = w["model.embed_tokens.weight"][ids]  # [B,S,d]
    states = [h.copy()]
    for i in range(L):
        p = f"model.layers.{i}."
        x = rms(h, w[p + "input_layernorm.weight"])
        q = lin(x, p + "self_attn.q_proj").reshape(B, S, H, hd).transpose(0, 2, 1, 3)
        k = lin(x, p + "self_attn.k_proj").reshape(B, S, KV, hd).transpose(0, 2, 1, 3)
        v = lin(x, p + "self_attn.v_proj").reshape(B, S, KV, hd).transpose(0, 2, 1, 3)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        k = np.repeat(k, H // KV, axis=1)
        v = np.repeat(v, H // KV, axis=1)
        a = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + causal_mask(S, windows[i])) @ v
        a = a.transpose(0, 2, 1, 3).reshape(B, S, H * hd)
        h = h + lin(a, p + "self_attn.o_proj")
        x = rms(h, w[p + "post_attention_layernorm.weight"])
        h = h + lin(gelu(lin(x, p + "mlp.gate_proj"), act) * lin(x, p + "mlp.up_proj"), p + "mlp.down_proj")
        states.append(h.copy())
    tied = cfg.get("tie_word_embeddings", False)
    head = w["model.embed_tokens.weight"] if tied or "lm_head.weight" not in w else w["lm_head.weight"]
    logits = rms(h, w["model.norm.weight"]) @ head.T
    return states, logits


def gpt2_forward(cfg, w, ids):
    B, S = ids.shape
    pre = "transformer." if "transformer.wte.weight" in w else ""
    d = cfg["n_embd"]
    H = cfg["n_head"]
    hd = d // H
    L = cfg["n_layer"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    act = cfg.get("activation_function", "gelu_new")

    def ln(x, name):
        m = x.mean(-1, keepdims=True)
        var = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    def conv(x, name):  # Conv1D: weight [in, out]
        return x @ w[name + ".weight"] + w[name + ".bias"]

    h = w[pre + "wte.weight"][ids] + w[pre + "wpe.weight"][np.arange(S)][None]
    states = [h.copy()]
    mask = causal_mask(S, 0)
    for i in range(L):
        p = f"{pre}h.{i}."
        qkv = conv(ln(h, p + "ln_1"), p + "attn.c_attn")
        q, k, v = (t.reshape(B, S, H, hd).transpose(0, 2, 1, 3) for t in np.split(qkv, 3, axis=-1))
        a = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + mask) @ v
        h = h + conv(a.transpose(0, 2, 1, 3).reshape(B, S, d), p + "attn.c_proj")
        h = h + conv(gelu(conv(ln(h, p + "ln_2"), p + "mlp.c_fc"), act), p + "mlp.c_proj")
        states.append(h.copy())
    head = w["lm_head.weight"] if cfg.get("tie_word_embeddings", True) is False and "lm_head.weight" in w else w[pre + "wte.weight"]
    logits = ln(h, pre + "ln_f") @ head.T
    return states, logits


def read_tokens(args, vocab):
    if args.tokens:
        with open(args.tokens) as f:
            text = f.read()
        try:
            t = json.loads(text)
        except json.JSONDecodeError:
            t = None
        if isinstance(t, dict):
            return np.asarray(t["ids"], dtype=np.int64).reshape(t["batch"], t["seqLen"])
        ids = np.asarray([int(x) for x in text.split()], dtype=np.int64)
        B = args.batch or 1
        S = args.seq_len or len(ids) // B
        return ids[: B * S].reshape(B, S)
    B, S = args.batch or 2, args.seq_len or 16
    rng = np.random.default_rng(args.seed)
    return rng.integers(0, vocab, size=(B, S), dtype=np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--tokens")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--seq-len", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out")
    args = ap.parse_args()
    with open(os.path.join(args.model, "config.json")) as f:
        cfg = json.load(f)
    w = load_weights(args.model)
    mt = cfg.get("model_type")
    ids = read_tokens(args, cfg.get("vocab_size"))
    if mt in ("llama", "mistral", "qwen2"):
        states, logits = llama_forward(cfg, w, ids)
    elif mt == "gpt2":
        states, logits = gpt2_forward(cfg, w, ids)
    else:
        raise SystemExit(f"unsupported model_type {mt}")
    B, S = ids.shape
    N = B * S
    logits = logits.reshape(N, -1)
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    flat = ids.reshape(-1)
    nll = -sum(logp[b * S + t, flat[b * S + t + 1]] for b in range(B) for t in range(S - 1))
    prefix = args.out or os.path.join(args.model, "golden-forward")
    d = states[0].shape[-1]
    with open(prefix + ".bin", "wb") as f:
        f.write(np.ascontiguousarray(logits, dtype="<f8").tobytes())
        for h in states:
            f.write(np.ascontiguousarray(h.reshape(N, d), dtype="<f8").tobytes())
    meta = {
        "generator": "scripts/goldens/hf_forward.py",
        "versions": {"python": platform.python_version(), "numpy": np.__version__},
        "model_type": mt,
        "batch": int(B),
        "seqLen": int(S),
        "ids": [int(x) for x in flat],
        "vocabSize": int(logits.shape[1]),
        "hiddenSize": int(d),
        "numHiddenStates": len(states),
        "sumNll": float(nll),
        "binary": os.path.basename(prefix) + ".bin",
        "layout": "float64 little-endian: logits [N, V], then hidden_states[0..T] each [N, d]; h_T is before the final norm",
    }
    with open(prefix + ".json", "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"wrote {prefix}.json/.bin: {mt}, {B}x{S} tokens, {len(states) - 1} blocks, nll {nll:.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
