// Llama-layout families that differ from Llama in one or two places:
// - Phi-3 / Phi-4: fused `qkv_proj` ([q; k; v] rows) and `gate_up_proj` ([gate; up] rows).
// - OLMo 2: no pre-norms; RMSNorm of each branch output (post_attention_layernorm,
//   post_feedforward_layernorm); RMSNorm of q and k over the whole projection before RoPE.
// - Granite: h₀ · embedding_multiplier, branch outputs · residual_multiplier, scores ·
//   attention_multiplier (instead of 1/√d), logits / logits_scaling.
// - SmolLM3: RoPE only in blocks with no_rope_layers[i] = 1.
//
// [1] Abdin et al., "Phi-3 Technical Report", 2024. [2] OLMo Team, "2 OLMo 2 Furious", 2024.
// [3] IBM, Granite 3.0 language models, 2024. [4] Hugging Face, "SmolLM3", 2025.

import type { Arch, BlockSpec, Linear } from '../arch.js'
import type { ConfigReader } from '../config.js'
import {
  llamaArch,
  qwenWindows,
  readActivation,
  readLlamaDims,
  readWindows,
  rms,
  singleRotary,
} from './llama.js'

const slice = (base: string, from: number, to: number, inp: number): Linear => ({
  weight: { name: `${base}.weight`, layout: 'out-in', out: { from, to } },
  shape: [to - from, inp],
})

export function parsePhi3(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-5 })
  const slides = r.has('sliding_window')
  // Phi3Config's default original_max_position_embeddings is 4096 (used by longrope)
  const rotary = singleRotary(r, d, 10000, true, 4096)
  const arch = llamaArch(d, {
    family: 'phi3',
    architecture,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    windows: readWindows(r, d.numBlocks, () => slides),
    rotary,
    act: readActivation(r, 'hidden_act', 'silu'),
  })
  const q = d.heads * d.headDim
  const kv = d.kvHeads * d.headDim
  const blocks = arch.blocks.map((b, i): BlockSpec => {
    const p = arch.blockPrefix(i)
    if (b.mlp.kind !== 'gated') throw new Error('unreachable')
    return {
      ...b,
      attention: {
        ...b.attention,
        q: slice(`${p}self_attn.qkv_proj`, 0, q, d.hidden),
        k: slice(`${p}self_attn.qkv_proj`, q, q + kv, d.hidden),
        v: slice(`${p}self_attn.qkv_proj`, q + kv, q + 2 * kv, d.hidden),
      },
      mlp: {
        ...b.mlp,
        gate: slice(`${p}mlp.gate_up_proj`, 0, d.intermediate, d.hidden),
        up: slice(`${p}mlp.gate_up_proj`, d.intermediate, 2 * d.intermediate, d.hidden),
      },
    }
  })
  return { ...arch, blocks }
}

export function parseOlmo2(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-5 })
  const bias = r.bool('attention_bias', false)
  const arch = llamaArch(d, {
    family: 'olmo2',
    architecture,
    qkvBias: bias,
    oBias: bias,
    mlpBias: false,
    windows: new Array<undefined>(d.numBlocks).fill(undefined),
    rotary: singleRotary(r, d, 10000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
  const blocks = arch.blocks.map((b, i): BlockSpec => {
    const p = arch.blockPrefix(i)
    const { attnNorm: _a, mlpNorm: _m, ...rest } = b
    return {
      ...rest,
      attnPostNorm: rms(`${p}post_attention_layernorm.weight`, d.hidden, d.eps),
      mlpPostNorm: rms(`${p}post_feedforward_layernorm.weight`, d.hidden, d.eps),
      attention: {
        ...b.attention,
        qkNorm: {
          over: 'all',
          q: rms(`${p}self_attn.q_norm.weight`, d.heads * d.headDim, d.eps),
          k: rms(`${p}self_attn.k_norm.weight`, d.kvHeads * d.headDim, d.eps),
        },
      },
    }
  })
  return { ...arch, blocks }
}

export function parseGranite(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: true, eps: 1e-6 })
  const bias = r.bool('attention_bias', false)
  const arch = llamaArch(d, {
    family: 'granite',
    architecture,
    qkvBias: bias,
    oBias: bias,
    mlpBias: r.bool('mlp_bias', false),
    windows: new Array<undefined>(d.numBlocks).fill(undefined),
    rotary: singleRotary(r, d, 10000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
  const emb = r.num('embedding_multiplier', 1)
  const res = r.num('residual_multiplier', 1)
  const att = r.num('attention_multiplier', 1)
  const logits = r.num('logits_scaling', 1)
  if (!(logits !== 0)) throw r.invalid('logits_scaling', 'a non-zero number')
  const blocks = arch.blocks.map((b): BlockSpec => ({
    ...b,
    residualScale: res,
    attention: { ...b.attention, scale: att },
  }))
  return {
    ...arch,
    embedding: { ...arch.embedding, scale: emb },
    blocks,
    head: { ...arch.head, scale: 1 / logits },
  }
}

/**
 * SmolLM3's per-block RoPE switch: `no_rope_layers[i]` = 1 uses RoPE, 0 does not (the name is
 * transformers'). When the list is absent it is built from `no_rope_layer_interval` n: block i has
 * no RoPE when (i + 1) % n = 0.
 */
export function readUseRope(r: ConfigReader, numBlocks: number): boolean[] {
  const interval = r.has('no_rope_layer_interval')
    ? r.int('no_rope_layer_interval')
    : (r.consume('no_rope_layer_interval'), 4)
  const list = r.raw('no_rope_layers')
  if (list === undefined || list === null)
    return Array.from({ length: numBlocks }, (_, i) => (i + 1) % interval !== 0)
  if (!Array.isArray(list) || list.length !== numBlocks || list.some((v) => v !== 0 && v !== 1))
    throw r.invalid('no_rope_layers', `an array of ${numBlocks} entries, each 0 or 1`)
  return list.map((v) => v === 1)
}

export function parseSmolLM3(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: true, eps: 1e-6 })
  const bias = r.bool('attention_bias', false)
  const arch = llamaArch(d, {
    family: 'smollm3',
    architecture,
    qkvBias: bias,
    oBias: bias,
    mlpBias: r.bool('mlp_bias', false),
    windows: qwenWindows(r, d.numBlocks),
    rotary: singleRotary(r, d, 2000000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
  const use = readUseRope(r, d.numBlocks)
  const blocks = arch.blocks.map((b, i): BlockSpec => {
    if (use[i]) return b
    const { rotary: _r, ...attention } = b.attention
    return { ...b, attention }
  })
  return { ...arch, blocks }
}
