// Gemma 2 and Gemma 3 (text): h₀ = embedding · √hidden; RMSNorms compute x̂·(1 + w); four norms per
// block (input, post-attention, pre- and post-feedforward, the post ones on the branch output);
// scores scaled by query_pre_attn_scalar^−½; sliding or full attention per block from
// `layer_types`. Gemma 2 soft-caps attention scores and final logits (tanh(x/c)·c); Gemma 3 adds
// per-head q/k RMSNorm and a separate RoPE table (local base) for its sliding layers.
//
// [1] Gemma Team, "Gemma 2: Improving Open Language Models at a Practical Size", 2024.
// [2] Gemma Team, "Gemma 3 Technical Report", 2025.

import type { Arch, BlockSpec, NormSpec, RotaryTable } from '../arch.js'
import type { ConfigReader } from '../config.js'
import { type RopeParameters, readRopeParameters, rotaryTable } from '../rope.js'
import { lin, mat, withOriginal, readActivation, readLlamaDims, readWindows, splitPartial } from './llama.js'
import { withHeadQkNorm } from './qwen3.js'

const gnorm = (name: string, size: number, eps: number): NormSpec => ({
  kind: 'rms',
  weight: { name, layout: 'vector', offset: 1 },
  size,
  eps,
})

/** Activation: transformers 5 reads `hidden_activation`; `hidden_act` must agree when both are given. */
function gemmaAct(r: ConfigReader) {
  const a = r.has('hidden_activation')
    ? readActivation(r, 'hidden_activation', 'gelu_pytorch_tanh')
    : undefined
  const b = r.has('hidden_act') ? readActivation(r, 'hidden_act', 'gelu_pytorch_tanh') : undefined
  r.consume('hidden_activation', 'hidden_act')
  if (a !== undefined && b !== undefined && a !== b)
    throw r.unsupported(
      'hidden_act',
      r.config['hidden_act'],
      `the same as hidden_activation (${String(r.config['hidden_activation'])})`,
    )
  return a ?? b ?? 'gelu_tanh'
}

function optCap(r: ConfigReader, key: string): number | undefined {
  const c = r.optNum(key)
  if (c !== undefined && !(c > 0)) throw r.invalid(key, 'a positive number or null')
  return c
}

function gemmaArch(
  r: ConfigReader,
  version: 2 | 3,
  architecture: string,
  tables: Readonly<Record<string, RotaryTable>>,
  tableOf: (sliding: boolean) => string,
  legacySliding: (i: number) => boolean,
): Arch {
  const d = readLlamaDims(r, { tied: true, eps: 1e-6 })
  const act = gemmaAct(r)
  const qpas = r.num('query_pre_attn_scalar', 256)
  const attnCap = optCap(r, 'attn_logit_softcapping')
  const finalCap = optCap(r, 'final_logit_softcapping')
  const bias = r.bool('attention_bias', false)
  if (r.bool('use_bidirectional_attention', false))
    throw r.unsupported('use_bidirectional_attention', true, 'false (causal attention)')
  const windows = readWindows(r, d.numBlocks, legacySliding)
  const q = d.heads * d.headDim
  const kv = d.kvHeads * d.headDim
  const blocks: BlockSpec[] = windows.map((window, i) => {
    const p = `model.layers.${i}.`
    return {
      residual: 'sequential',
      attnNorm: gnorm(`${p}input_layernorm.weight`, d.hidden, d.eps),
      attnPostNorm: gnorm(`${p}post_attention_layernorm.weight`, d.hidden, d.eps),
      mlpNorm: gnorm(`${p}pre_feedforward_layernorm.weight`, d.hidden, d.eps),
      mlpPostNorm: gnorm(`${p}post_feedforward_layernorm.weight`, d.hidden, d.eps),
      attention: {
        numHeads: d.heads,
        numKvHeads: d.kvHeads,
        headDim: d.headDim,
        q: lin(`${p}self_attn.q_proj`, q, d.hidden, bias),
        k: lin(`${p}self_attn.k_proj`, kv, d.hidden, bias),
        v: lin(`${p}self_attn.v_proj`, kv, d.hidden, bias),
        o: lin(`${p}self_attn.o_proj`, d.hidden, q, bias),
        rotary: { table: tableOf(window !== undefined) },
        scale: 1 / Math.sqrt(qpas),
        ...(attnCap === undefined ? {} : { softcap: attnCap }),
        ...(window === undefined ? {} : { window }),
      },
      mlp: {
        kind: 'gated',
        gate: lin(`${p}mlp.gate_proj`, d.intermediate, d.hidden, false),
        up: lin(`${p}mlp.up_proj`, d.intermediate, d.hidden, false),
        down: lin(`${p}mlp.down_proj`, d.hidden, d.intermediate, false),
        act,
      },
    }
  })
  const family = version === 2 ? 'gemma2' : 'gemma3_text'
  const arch: Arch = {
    family,
    modelType: family,
    architecture,
    numBlocks: d.numBlocks,
    hiddenSize: d.hidden,
    vocabSize: d.vocab,
    maxPositions: d.maxPositions,
    embedding: { tokens: mat('model.embed_tokens.weight'), scale: Math.sqrt(d.hidden) },
    blocks,
    head: {
      norm: gnorm('model.norm.weight', d.hidden, d.eps),
      weight: mat(d.tied ? 'model.embed_tokens.weight' : 'lm_head.weight'),
      ...(finalCap === undefined ? {} : { softcap: finalCap }),
    },
    rotary: tables,
    blockPrefix: (i) => `model.layers.${i}.`,
  }
  return version === 3 ? { ...arch, blocks: withHeadQkNorm(arch, d.eps, 1) } : arch
}

function table(r: ConfigReader, p: RopeParameters): RotaryTable {
  const headDim = r.has('head_dim')
    ? (r.config['head_dim'] as number)
    : (r.config['hidden_size'] as number) / (r.config['num_attention_heads'] as number)
  const maxPositions =
    typeof r.config['max_position_embeddings'] === 'number' ? r.config['max_position_embeddings'] : 8192
  const { params, rotaryDim } = splitPartial(r, p, headDim, false)
  return rotaryTable(params, withOriginal(r, { rotaryDim, maxPositions }), r)
}

export function parseGemma2(r: ConfigReader, architecture: string): Arch {
  const all = readRopeParameters(r, 10000)
  if (Object.keys(all).join() !== 'default')
    throw r.unsupported(
      'rope_parameters',
      r.config['rope_parameters'],
      'one set of RoPE parameters for Gemma 2',
    )
  const t = table(r, all['default']!)
  return gemmaArch(
    r,
    2,
    architecture,
    { default: t },
    () => 'default',
    (i) => (i + 1) % 2 !== 0,
  )
}

export function parseGemma3Text(r: ConfigReader, architecture: string): Arch {
  const all = readRopeParameters(r, 1000000)
  const local = r.has('rope_local_base_freq')
    ? r.num('rope_local_base_freq')
    : (r.consume('rope_local_base_freq'), undefined)
  let full: RopeParameters
  let sliding: RopeParameters
  if (all['default'] !== undefined) {
    // transformers 4 layout: rope_theta/rope_scaling for full layers, rope_local_base_freq (default type) for sliding
    full = all['default']
    sliding = { ropeType: 'default', theta: local ?? 10000, params: {}, where: 'rope_local_base_freq' }
  } else {
    const keys = Object.keys(all).sort().join()
    if (keys !== 'full_attention,sliding_attention')
      throw r.unsupported(
        'rope_parameters',
        r.config['rope_parameters'],
        'per layer type: { full_attention, sliding_attention }',
      )
    if (local !== undefined && local !== all['sliding_attention']!.theta)
      throw r.unsupported(
        'rope_local_base_freq',
        local,
        `the sliding_attention rope_theta (${all['sliding_attention']!.theta})`,
      )
    full = all['full_attention']!
    sliding = all['sliding_attention']!
  }
  const pattern = r.has('sliding_window_pattern')
    ? r.int('sliding_window_pattern')
    : (r.consume('sliding_window_pattern'), 6)
  return gemmaArch(
    r,
    3,
    architecture,
    { full_attention: table(r, full), sliding_attention: table(r, sliding) },
    (s) => (s ? 'sliding_attention' : 'full_attention'),
    (i) => (i + 1) % pattern !== 0,
  )
}
