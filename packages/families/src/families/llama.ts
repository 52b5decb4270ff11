// The Llama family and its close relatives that share its tensor names and block layout:
// Llama (1–3.x), Mistral (sliding window), Qwen2 (q/k/v bias, per-layer sliding window).
//
// Block (pre-norm, sequential): h += o(attn(rope(q(n₁h)), rope(k(n₁h)), v(n₁h)));
//                               h += down(act(gate(n₂h)) ⊙ up(n₂h))
// with n₁ = input_layernorm, n₂ = post_attention_layernorm (RMSNorm), GQA, RoPE on the whole head.
//
// [1] Touvron et al., "LLaMA: Open and Efficient Foundation Language Models", 2023.
// [2] Jiang et al., "Mistral 7B", 2023. [3] Qwen Team, "Qwen2 Technical Report", 2024.

import type {
  Activation,
  Arch,
  AttentionSpec,
  BlockSpec,
  Linear,
  NormSpec,
  RotaryTable,
  WeightRef,
} from '../arch.js'
import type { ConfigReader } from '../config.js'
import { type RopeContext, type RopeParameters, readRopeParameters, rotaryTable } from '../rope.js'

const ACTIVATIONS: Readonly<Record<string, Activation>> = Object.freeze({
  silu: 'silu',
  swish: 'silu',
  gelu: 'gelu',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  relu: 'relu',
})

/** Reads an activation name (consuming `key`), refusing ones we do not implement exactly. */
export function readActivation(r: ConfigReader, key: string, fallback: string): Activation {
  const name = r.str(key, fallback)
  const a = Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined
  if (a === undefined) throw r.unsupported(key, name, Object.keys(ACTIVATIONS).join(', '))
  return a
}

export const mat = (name: string): WeightRef => ({ name, layout: 'out-in' })
export const vec = (name: string): WeightRef => ({ name, layout: 'vector' })

/** A bias-free or biased nn.Linear named `${base}.weight` / `${base}.bias`. */
export function lin(base: string, out: number, inp: number, bias: boolean): Linear {
  return bias
    ? { weight: mat(`${base}.weight`), bias: vec(`${base}.bias`), shape: [out, inp] }
    : { weight: mat(`${base}.weight`), shape: [out, inp] }
}

export function rms(name: string, size: number, eps: number): NormSpec {
  return { kind: 'rms', weight: vec(name), size, eps }
}

/** The shape numbers every Llama-like config has (consumed from the reader). */
export interface LlamaDims {
  readonly numBlocks: number
  readonly hidden: number
  readonly heads: number
  readonly kvHeads: number
  readonly headDim: number
  readonly intermediate: number
  readonly vocab: number
  readonly maxPositions: number
  readonly eps: number
  readonly tied: boolean
}

export function readLlamaDims(r: ConfigReader, defaults: { tied: boolean; eps: number }): LlamaDims {
  const hidden = r.int('hidden_size')
  const heads = r.int('num_attention_heads')
  const kvHeads = r.has('num_key_value_heads')
    ? r.int('num_key_value_heads')
    : (r.consume('num_key_value_heads'), heads)
  if (heads % kvHeads !== 0)
    throw r.invalid('num_attention_heads', `a multiple of num_key_value_heads (${kvHeads})`)
  const headDim = r.has('head_dim') ? r.int('head_dim') : (r.consume('head_dim'), hidden / heads)
  if (!Number.isInteger(headDim))
    throw r.invalid('hidden_size', `a multiple of num_attention_heads (${heads})`)
  return {
    numBlocks: r.int('num_hidden_layers'),
    hidden,
    heads,
    kvHeads,
    headDim,
    intermediate: r.int('intermediate_size'),
    vocab: r.int('vocab_size'),
    maxPositions: r.int('max_position_embeddings', 2048),
    eps: r.num('rms_norm_eps', defaults.eps),
    tied: r.bool('tie_word_embeddings', defaults.tied),
  }
}

/**
 * Per-block attention kind from `layer_types` when present ('full_attention' | 'sliding_attention'),
 * else from the family's legacy rule. Returns the window (or undefined) of each block.
 */
export function readWindows(
  r: ConfigReader,
  numBlocks: number,
  legacy: (i: number) => boolean,
): (number | undefined)[] {
  const w = r.raw('sliding_window')
  const size = typeof w === 'number' ? w : undefined
  if (w !== undefined && w !== null && (typeof w !== 'number' || !Number.isInteger(w) || w < 1))
    throw r.invalid('sliding_window', 'a positive integer or null')
  const types = r.raw('layer_types')
  let sliding: boolean[]
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || types.length !== numBlocks)
      throw r.invalid('layer_types', `an array of ${numBlocks} layer types (one per block)`)
    sliding = types.map((t, i) => {
      if (t === 'sliding_attention') return true
      if (t === 'full_attention') return false
      throw r.unsupported(`layer_types[${i}]`, t, '"full_attention", "sliding_attention"')
    })
  } else sliding = Array.from({ length: numBlocks }, (_, i) => legacy(i))
  return sliding.map((s, i) => {
    if (!s) return undefined
    if (size === undefined) throw r.invalid('sliding_window', `set, since block ${i} uses sliding attention`)
    return size
  })
}

export interface LlamaLikeOptions {
  readonly family: string
  readonly architecture: string
  /** q/k/v biases (Qwen2 always; Llama `attention_bias`). */
  readonly qkvBias: boolean
  readonly oBias: boolean
  readonly mlpBias: boolean
  readonly windows: readonly (number | undefined)[]
  readonly rotary: RotaryTable
  readonly act: Activation
}

/** The Arch of a plain Llama-layout model from its dims and options. */
export function llamaArch(d: LlamaDims, o: LlamaLikeOptions): Arch {
  const blocks: BlockSpec[] = []
  const q = d.heads * d.headDim
  const kv = d.kvHeads * d.headDim
  for (let i = 0; i < d.numBlocks; i++) {
    const p = `model.layers.${i}.`
    const window = o.windows[i]
    const attention: AttentionSpec = {
      numHeads: d.heads,
      numKvHeads: d.kvHeads,
      headDim: d.headDim,
      q: lin(`${p}self_attn.q_proj`, q, d.hidden, o.qkvBias),
      k: lin(`${p}self_attn.k_proj`, kv, d.hidden, o.qkvBias),
      v: lin(`${p}self_attn.v_proj`, kv, d.hidden, o.qkvBias),
      o: lin(`${p}self_attn.o_proj`, d.hidden, q, o.oBias),
      rotary: { table: 'default' },
      scale: 1 / Math.sqrt(d.headDim),
      ...(window === undefined ? {} : { window }),
    }
    blocks.push({
      residual: 'sequential',
      attnNorm: rms(`${p}input_layernorm.weight`, d.hidden, d.eps),
      mlpNorm: rms(`${p}post_attention_layernorm.weight`, d.hidden, d.eps),
      attention,
      mlp: {
        kind: 'gated',
        gate: lin(`${p}mlp.gate_proj`, d.intermediate, d.hidden, o.mlpBias),
        up: lin(`${p}mlp.up_proj`, d.intermediate, d.hidden, o.mlpBias),
        down: lin(`${p}mlp.down_proj`, d.hidden, d.intermediate, o.mlpBias),
        act: o.act,
      },
    })
  }
  return {
    family: o.family,
    modelType: o.family,
    architecture: o.architecture,
    numBlocks: d.numBlocks,
    hiddenSize: d.hidden,
    vocabSize: d.vocab,
    maxPositions: d.maxPositions,
    embedding: { tokens: mat('model.embed_tokens.weight') },
    blocks,
    head: {
      norm: rms('model.norm.weight', d.hidden, d.eps),
      weight: mat(d.tied ? 'model.embed_tokens.weight' : 'lm_head.weight'),
    },
    rotary: { default: o.rotary },
    blockPrefix: (i) => `model.layers.${i}.`,
  }
}

/**
 * Takes `partial_rotary_factor` out of a RoPE parameter set (transformers 5 keeps it inside
 * rope_parameters; transformers 4 at the top level) and returns the rotary dimension.
 */
export function splitPartial(
  r: ConfigReader,
  p: RopeParameters,
  headDim: number,
  allowPartial: boolean,
): { params: RopeParameters; rotaryDim: number } {
  const inner = p.params['partial_rotary_factor']
  const top = r.has('partial_rotary_factor')
    ? r.num('partial_rotary_factor')
    : (r.consume('partial_rotary_factor'), undefined)
  if (inner !== undefined && (typeof inner !== 'number' || !Number.isFinite(inner)))
    throw r.invalid(`${p.where}.partial_rotary_factor`, 'a finite number')
  const partial = (inner as number | undefined) ?? top ?? 1
  if (inner !== undefined && top !== undefined && inner !== top)
    throw r.unsupported(
      'partial_rotary_factor',
      top,
      `one value (${p.where}.partial_rotary_factor is ${inner})`,
    )
  if (partial !== 1 && !allowPartial)
    throw r.unsupported('partial_rotary_factor', partial, '1 for this family')
  const rotaryDim = Math.floor(headDim * partial)
  if (!(partial > 0 && partial <= 1) || rotaryDim % 2 !== 0 || rotaryDim < 2)
    throw r.unsupported(
      'partial_rotary_factor',
      partial,
      `a factor in (0, 1] giving an even rotary dimension of head_dim ${headDim}`,
    )
  const params: Record<string, unknown> = { ...p.params }
  delete params['partial_rotary_factor']
  return { params: { ...p, params }, rotaryDim }
}

/** The single rotary table of a config without per-layer-type RoPE. */
export function singleRotary(
  r: ConfigReader,
  d: LlamaDims,
  defaultTheta: number,
  allowPartial = false,
  /** The family config class's default for a top-level original_max_position_embeddings (Phi-3: 4096). */
  originalMaxFallback?: number,
): RotaryTable {
  const all = readRopeParameters(r, defaultTheta)
  const keys = Object.keys(all)
  if (keys.length !== 1 || keys[0] !== 'default')
    throw r.unsupported(
      'rope_parameters',
      r.config['rope_parameters'],
      'one set of RoPE parameters for every layer',
    )
  const { params, rotaryDim } = splitPartial(r, all['default']!, d.headDim, allowPartial)
  const om = topOriginalMax(r) ?? originalMaxFallback
  return rotaryTable(
    params,
    { rotaryDim, maxPositions: d.maxPositions, ...(om === undefined ? {} : { originalMaxPositions: om }) },
    r,
  )
}

/** Top-level `original_max_position_embeddings` (consumed), used by llama3 / yarn / longrope. */
export function topOriginalMax(r: ConfigReader): number | undefined {
  return r.has('original_max_position_embeddings')
    ? r.int('original_max_position_embeddings')
    : (r.consume('original_max_position_embeddings'), undefined)
}

export function parseLlama(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-6 })
  const attnBias = r.bool('attention_bias', false)
  return llamaArch(d, {
    family: 'llama',
    architecture,
    qkvBias: attnBias,
    oBias: attnBias,
    mlpBias: r.bool('mlp_bias', false),
    windows: new Array<undefined>(d.numBlocks).fill(undefined),
    rotary: singleRotary(r, d, 10000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
}

export function parseMistral(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-6 })
  const slides = r.has('sliding_window')
  return llamaArch(d, {
    family: 'mistral',
    architecture,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    windows: readWindows(r, d.numBlocks, () => slides),
    rotary: singleRotary(r, d, 10000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
}

/** Qwen2/Qwen3 sliding windows: only when use_sliding_window; layer_types (transformers 5) is then authoritative. */
export function qwenWindows(r: ConfigReader, numBlocks: number): (number | undefined)[] {
  const use = r.bool('use_sliding_window', false)
  const from = r.has('max_window_layers')
    ? r.int('max_window_layers', undefined, 0)
    : (r.consume('max_window_layers'), numBlocks)
  return use
    ? readWindows(r, numBlocks, (i) => i >= from)
    : (r.consume('sliding_window', 'layer_types'), noWindows(r, numBlocks))
}

export function parseQwen2(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-6 })
  return llamaArch(d, {
    family: 'qwen2',
    architecture,
    qkvBias: true,
    oBias: false,
    mlpBias: false,
    windows: qwenWindows(r, d.numBlocks),
    rotary: singleRotary(r, d, 10000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
}

/** With use_sliding_window false, layer_types must not ask for sliding layers. */
function noWindows(r: ConfigReader, n: number): undefined[] {
  const types = r.config['layer_types']
  if (Array.isArray(types) && types.some((t) => t === 'sliding_attention'))
    throw r.unsupported('layer_types', types, 'only full_attention layers when use_sliding_window is false')
  return new Array<undefined>(n).fill(undefined)
}

/** A RoPE context with the top-level original_max_position_embeddings, when the config has one. */
export function withOriginal(r: ConfigReader, ctx: RopeContext): RopeContext {
  const om = topOriginalMax(r)
  return om === undefined ? ctx : { ...ctx, originalMaxPositions: om }
}
