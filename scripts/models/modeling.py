"""Minimal PyTorch re-implementations of Hugging Face's LlamaForCausalLM and GPT2LMHeadModel [1, 2].

Module and parameter names match transformers exactly, so `state_dict()` keys ARE the HF checkpoint keys and an
ONNX export names its nodes `/model/layers.N/...` (Llama) or `/transformer/h.N/...` (GPT-2). Only inference-time
features needed here are implemented: causal self-attention with an optional KV cache and a padding mask.
Written from the papers and HF's published configuration semantics; no code was copied.

KV cache layout (as transformers.js feeds it): key/value tensors of shape [batch, kv_heads, past_len, head_dim],
before grouped-query head repetition.

[1] Touvron et al., "LLaMA: Open and Efficient Foundation Language Models", 2023; Ainslie et al., "GQA", 2023;
    Su et al., "RoFormer: rotary position embedding", 2021; Zhang & Sennrich, "RMSNorm", 2019.
[2] Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

TRANSFORMERS_VERSION = "4.46.3"  # the config layout we mirror


def _mask(attention_mask, t, past_len, dtype):
    """Additive-free boolean mask [batch, 1, t, past_len + t]: True where attention is allowed (causal and
    not padding). attention_mask is [batch, past_len + t] of 0/1."""
    total = attention_mask.shape[1]
    q_pos = torch.arange(t, device=attention_mask.device) + past_len
    k_pos = torch.arange(total, device=attention_mask.device)
    causal = k_pos[None, :] <= q_pos[:, None]
    return causal[None, None, :, :] & (attention_mask[:, None, None, :] > 0)


def _attend(q, k, v, allowed):
    scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
    scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def _outputs(model, logits, presents):
    """(logits, presents) normally; for ONNX export (export_onnx.py sets `onnx_mode`) either logits alone or a
    flat (logits, k0, v0, k1, v1, ...) tuple matching the output names logits, present.N.key, present.N.value."""
    mode = getattr(model, "onnx_mode", None)
    if mode == "logits":
        return logits
    if mode == "with_past":
        return (logits,) + tuple(x for kv in presents for x in kv)
    return logits, presents


# ----------------------------------------------------------------------------------------------------------- Llama
def llama_config(vocab_size=2048, hidden_size=128, intermediate_size=352, num_hidden_layers=12,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, rope_theta=10000.0,
                 rms_norm_eps=1e-5, bos_token_id=2047, eos_token_id=2047):
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos_token_id,
        "eos_token_id": eos_token_id,
        "head_dim": hidden_size // num_attention_heads,
        "hidden_act": "silu",
        "hidden_size": hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": intermediate_size,
        "max_position_embeddings": max_position_embeddings,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": num_attention_heads,
        "num_hidden_layers": num_hidden_layers,
        "num_key_value_heads": num_key_value_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": rms_norm_eps,
        "rope_scaling": None,
        "rope_theta": rope_theta,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": vocab_size,
    }


class LlamaRMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, head_dim, theta):
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, position_ids):
        freqs = position_ids.to(torch.float32)[:, :, None] * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)  # [b, t, head_dim]
        return emb.cos(), emb.sin()


def _repeat_kv(x, rep):
    b, kv, t, d = x.shape
    return x[:, :, None, :, :].expand(b, kv, rep, t, d).reshape(b, kv * rep, t, d)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h = c["num_attention_heads"]
        self.kv = c["num_key_value_heads"]
        self.d = c["head_dim"]
        hs = c["hidden_size"]
        self.q_proj = nn.Linear(hs, self.h * self.d, bias=False)
        self.k_proj = nn.Linear(hs, self.kv * self.d, bias=False)
        self.v_proj = nn.Linear(hs, self.kv * self.d, bias=False)
        self.o_proj = nn.Linear(self.h * self.d, hs, bias=False)

    def forward(self, x, cos, sin, allowed, past=None):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.h, self.d).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv, self.d).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv, self.d).transpose(1, 2)
        cos, sin = cos[:, None], sin[:, None]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        rep = self.h // self.kv
        if rep > 1:  # query head i reads kv head i // rep (expand + reshape: exports with dynamic shapes)
            k = _repeat_kv(k, rep)
            v = _repeat_kv(v, rep)
        y = _attend(q, k, v, allowed).transpose(1, 2).reshape(b, t, self.h * self.d)
        return self.o_proj(y), present


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        hs, inter = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(hs, inter, bias=False)
        self.up_proj = nn.Linear(hs, inter, bias=False)
        self.down_proj = nn.Linear(inter, hs, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, allowed, past=None):
        a, present = self.self_attn(self.input_layernorm(x), cos, sin, allowed, past)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = LlamaRMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.rotary_emb = LlamaRotaryEmbedding(c["head_dim"], c["rope_theta"])

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        b, t = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        x = self.embed_tokens(input_ids)
        cos, sin = self.rotary_emb(position_ids)
        allowed = _mask(attention_mask, t, past_len, x.dtype)
        presents = []
        for i, layer in enumerate(self.layers):
            x, p = layer(x, cos, sin, allowed, None if past is None else past[i])
            presents.append(p)
        return self.norm(x), presents


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        b, t = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(b, past_len + t, dtype=torch.long)
        if position_ids is None:
            position_ids = (torch.arange(t) + past_len)[None].expand(b, t)
        h, presents = self.model(input_ids, attention_mask, position_ids, past)
        return _outputs(self, self.lm_head(h), presents)

    def saved_state_dict(self):
        return dict(self.state_dict())


# ----------------------------------------------------------------------------------------------------------- GPT-2
def gpt2_config(vocab_size=2048, n_embd=128, n_layer=8, n_head=4, n_positions=256, bos_token_id=2047,
                eos_token_id=2047):
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0,
        "bos_token_id": bos_token_id,
        "embd_pdrop": 0.0,
        "eos_token_id": eos_token_id,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": n_positions,
        "n_embd": n_embd,
        "n_head": n_head,
        "n_inner": None,
        "n_layer": n_layer,
        "n_positions": n_positions,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.0,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": vocab_size,
    }


class Conv1D(nn.Module):
    """HF's GPT-2 'Conv1D': a linear layer whose weight is stored [in, out]."""

    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(nx, nf).normal_(std=0.02))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h = c["n_head"]
        self.e = c["n_embd"]
        self.c_attn = Conv1D(3 * self.e, self.e)
        self.c_proj = Conv1D(self.e, self.e)

    def forward(self, x, allowed, past=None):
        b, t, _ = x.shape
        d = self.e // self.h
        q, k, v = self.c_attn(x).split(self.e, dim=2)
        q = q.view(b, t, self.h, d).transpose(1, 2)
        k = k.view(b, t, self.h, d).transpose(1, 2)
        v = v.view(b, t, self.h, d).transpose(1, 2)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        y = _attend(q, k, v, allowed).transpose(1, 2).reshape(b, t, self.e)
        return self.c_proj(y), (k, v)


class GPT2MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        inner = c["n_inner"] or 4 * c["n_embd"]
        self.c_fc = Conv1D(inner, c["n_embd"])
        self.c_proj = Conv1D(c["n_embd"], inner)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.attn = GPT2Attention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.mlp = GPT2MLP(c)

    def forward(self, x, allowed, past=None):
        a, present = self.attn(self.ln_1(x), allowed, past)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, present


class GPT2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = nn.ModuleList([GPT2Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        b, t = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        x = self.wte(input_ids) + self.wpe(position_ids)
        allowed = _mask(attention_mask, t, past_len, x.dtype)
        presents = []
        for i, block in enumerate(self.h):
            x, p = block(x, allowed, None if past is None else past[i])
            presents.append(p)
        return self.ln_f(x), presents


class GPT2LMHeadModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.transformer = GPT2Model(c)
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, input_ids, attention_mask=None, position_ids=None, past=None):
        b, t = input_ids.shape
        past_len = 0 if past is None else past[0][0].shape[2]
        if attention_mask is None:
            attention_mask = torch.ones(b, past_len + t, dtype=torch.long)
        if position_ids is None:
            # HF GPT-2 without explicit position_ids: positions continue after the cache.
            position_ids = (torch.arange(t) + past_len)[None].expand(b, t)
        h, presents = self.transformer(input_ids, attention_mask, position_ids, past)
        return _outputs(self, self.lm_head(h), presents)

    def saved_state_dict(self):
        """State dict as HF saves it: lm_head.weight is tied to transformer.wte.weight and omitted."""
        sd = dict(self.state_dict())
        del sd["lm_head.weight"]
        return sd


def build(config):
    """Instantiates the model described by an HF config dict (model_type 'llama' or 'gpt2')."""
    mt = config["model_type"]
    if mt == "llama":
        return LlamaForCausalLM(config)
    if mt == "gpt2":
        return GPT2LMHeadModel(config)
    raise ValueError(f"unsupported model_type {mt!r}: expected 'llama' or 'gpt2'")


def init_weights(model, seed, std=0.02):
    """GPT-2/Llama style init: N(0, std) for matrices and embeddings, residual output projections scaled by
    1/sqrt(2 * n_layers) [2]; norms at 1, biases at 0."""
    g = torch.Generator().manual_seed(seed)
    c = model.config
    n_layers = c.get("num_hidden_layers", c.get("n_layer"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight") or ".ln_" in name or name.endswith("layernorm.weight"):
                if p.dim() == 1 and name.endswith("weight"):
                    p.fill_(1.0)
                else:
                    p.zero_()
            elif name.endswith("bias"):
                p.zero_()
            else:
                s = std / math.sqrt(2 * n_layers) if (name.endswith("o_proj.weight") or name.endswith(
                    "down_proj.weight") or name.endswith("c_proj.weight")) else std
                p.copy_(torch.randn(p.shape, generator=g) * s)
