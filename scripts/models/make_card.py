#!/usr/bin/python3
"""Writes <folder>/README.md (a short model card) from config.json, metrics.json and the files present.
Usage: /usr/bin/python3 scripts/models/make_card.py models/llama-kjv"""
import json
import os
import sys

folder = sys.argv[1]
c = json.load(open(os.path.join(folder, "config.json")))
m = json.load(open(os.path.join(folder, "metrics.json")))
t, tr = m["test"], m["training"]
name = os.path.basename(os.path.abspath(folder))
if c["model_type"] == "llama":
    arch = (f"LlamaForCausalLM: {c['num_hidden_layers']} blocks, hidden {c['hidden_size']}, {c['num_attention_heads']} "
            f"query heads / {c['num_key_value_heads']} key-value heads (GQA), head_dim {c['head_dim']}, SwiGLU MLP "
            f"{c['intermediate_size']}, RMSNorm (eps {c['rms_norm_eps']}), RoPE (theta {c['rope_theta']:g}, HF "
            f"rotate_half convention), untied lm_head, max {c['max_position_embeddings']} positions")
    names = "`/model/layers.N/...`"
    inputs = "`input_ids`, `attention_mask`, `position_ids`"
else:
    arch = (f"GPT2LMHeadModel: {c['n_layer']} blocks, n_embd {c['n_embd']}, {c['n_head']} heads, pre-LN, "
            f"`gelu_new` MLP {4 * c['n_embd']}, learned positions ({c['n_positions']}), Conv1D weights stored "
            f"[in, out], lm_head tied to `transformer.wte` (absent from the file)")
    names = "`/transformer/h.N/...`"
    inputs = "`input_ids`, `attention_mask`"


def size(p):
    p = os.path.join(folder, p)
    return f"{os.path.getsize(p) / 1e6:.2f} MB" if os.path.exists(p) else "missing"


card = f"""# {name}

A small reference language model for mi-prun's tests and benchmarks. It was trained from scratch on the King
James Bible, not fine-tuned from anything, and it is not useful for anything beyond testing.

- **Architecture:** {arch}.
- **Parameters:** {m['parameters']:,} ({m['parameters_stored']:,} stored in `model.safetensors`, float32).
- **Tokenizer:** byte-level BPE with {m['tokenizer']['vocab_size']} ids, shared by both reference models and trained by
  `scripts/models/bpe.py` on `data/kjv/train.txt`. `<|endoftext|>` (id {c['eos_token_id']}) is bos/eos. No BOS token is
  added when encoding.
- **Training:** {tr['steps_done']} steps of AdamW, batch {tr['batch']} × {tr['seq_len']} tokens ({tr['tokens_seen']:,} tokens seen,
  about {tr['tokens_seen'] / 1039912:.1f} epochs of the train split). Peak lr {tr['lr']:g}, {tr['warmup']} warmup steps, then
  cosine decay to {tr['min_lr']:g} ({tr['schedule']}). Seed {tr['seed']}; {tr['threads']} CPU thread; {tr['wall_seconds'] / 60:.1f} min wall
  time ({tr['seconds_per_step']} s/step on a heavily shared 2-core machine); torch {tr['torch']}. The checkpoint kept is the one
  with the best validation loss (step {m['valid']['best_step']}, {m['valid']['best_loss_nats']:.4f} nats on {m['valid']['windows']} windows).

## Held-out perplexity (`data/kjv/test.txt`)

{t['protocol']}.

| | nats/token | perplexity/token | bits/byte |
|---|---|---|---|
| this model | {t['nll_per_token_nats']:.4f} | **{t['perplexity_per_token']:.2f}** | {t['bits_per_byte']:.4f} |
| unigram baseline (add-one, fitted on train) | {t['unigram_baseline']['nll_per_token_nats']:.4f} | {t['unigram_baseline']['perplexity_per_token']:.2f} | {t['unigram_baseline']['bits_per_byte']:.4f} |

The model's perplexity is {t['ratio_to_unigram']:.3f} × the unigram baseline's, over {t['predicted_tokens']:,} predicted tokens
({t['predicted_bytes']:,} bytes; the text is ASCII, so bytes are characters). Per byte, the perplexity is {t['perplexity_per_byte']:.3f}.

## Files

| file | size | what |
|---|---|---|
| `config.json`, `generation_config.json` | | Hugging Face configuration (`model_type: {c['model_type']}`) |
| `model.safetensors` | {size('model.safetensors')} | weights under HF key names, written by `scripts/models/safetensors_io.py` |
| `tokenizer.json`, `tokenizer_config.json` | | HF ByteLevel BPE; loads in `@huggingface/tokenizers` and transformers.js |
| `onnx/model.onnx` | {size('onnx/model.onnx')} | opset 14, with KV cache: {inputs}, `past_key_values.N.key/value` → `logits`, `present.N.key/value` |
| `onnx/model_no_past.onnx` | {size('onnx/model_no_past.onnx')} | opset 14, no cache: {inputs} → `logits` |
| `metrics.json` | | every number on this page |

ONNX node names follow the HF module tree ({names}); the graphs are not optimised after export.
`scripts/models/check_onnx.mjs` compared both graphs in onnxruntime-node with torch's logits, and
`scripts/models/check_transformers.mjs` checked that transformers.js generates offline from this folder with the same greedy
ids as torch.

## Licence

- Weights: MIT (mi-prun project).
- Training text: King James Version, public domain in most jurisdictions. It comes from Debian `bible-kjv-text` 4.38; see
  `data/kjv/PROVENANCE.md`.

Reproduce: see `scripts/models/README.md`.
"""
tmp = os.path.join(folder, ".README.md.tmp")
open(tmp, "w").write(card)
os.replace(tmp, os.path.join(folder, "README.md"))
print(f"wrote {folder}/README.md")
