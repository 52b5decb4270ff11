// GPT-NeoX / Pythia: LayerNorm with bias; fused `query_key_value` laid out per head as
// [q_h; k_h; v_h] (rows h·3d … h·3d + 3d); rotary on the first head_dim × partial_rotary_factor
// features of each head; parallel residual h += attn(ln₁h) + mlp(ln₂h) when use_parallel_residual,
// else sequential; MLP dense_h_to_4h → act → dense_4h_to_h with biases; untied `embed_out`.
//
// [1] Black et al., "GPT-NeoX-20B: An Open-Source Autoregressive Language Model", 2022.
// [2] Biderman et al., "Pythia: A Suite for Analyzing Large Language Models", 2023.

import type { Arch, BlockSpec, Linear, NormSpec } from '../arch.js'
import type { ConfigReader } from '../config.js'
import { readRopeParameters, rotaryTable } from '../rope.js'
import { lin, mat, withOriginal, readActivation, splitPartial, vec } from './llama.js'

const ln = (base: string, size: number, eps: number): NormSpec => ({
  kind: 'layer',
  weight: vec(`${base}.weight`),
  bias: vec(`${base}.bias`),
  size,
  eps,
})

export function parseGptNeox(r: ConfigReader, architecture: string): Arch {
  const hidden = r.int('hidden_size')
  const heads = r.int('num_attention_heads')
  const hd = hidden / heads
  if (!Number.isInteger(hd)) throw r.invalid('hidden_size', `a multiple of num_attention_heads (${heads})`)
  // GPT-NeoX attention is multi-head: transformers' GPTNeoXAttention never reads num_key_value_heads
  r.consume('num_key_value_heads')
  const n = r.int('num_hidden_layers')
  const inter = r.int('intermediate_size')
  const vocab = r.int('vocab_size')
  const maxPositions = r.int('max_position_embeddings', 2048)
  const eps = r.num('layer_norm_eps', 1e-5)
  const bias = r.bool('attention_bias', true)
  const parallel = r.bool('use_parallel_residual', true)
  const tied = r.bool('tie_word_embeddings', false)
  const act = readActivation(r, 'hidden_act', 'gelu')
  // transformers 4 spelling of the partial rotary factor
  const pct = r.has('rotary_pct') ? r.num('rotary_pct') : (r.consume('rotary_pct'), undefined)
  const all = readRopeParameters(
    r,
    r.has('rotary_emb_base') ? r.num('rotary_emb_base') : (r.consume('rotary_emb_base'), 10000),
  )
  if (Object.keys(all).join() !== 'default')
    throw r.unsupported('rope_parameters', r.config['rope_parameters'], 'one set of RoPE parameters')
  let p = all['default']!
  if (pct !== undefined) {
    const inner = p.params['partial_rotary_factor']
    if (inner !== undefined && inner !== pct)
      throw r.unsupported('rotary_pct', pct, `the same as partial_rotary_factor (${String(inner)})`)
    p = { ...p, params: { ...p.params, partial_rotary_factor: pct } }
  }
  const { params, rotaryDim } = splitPartial(r, p, hd, true)
  const rotary = rotaryTable(params, withOriginal(r, { rotaryDim, maxPositions }), r)
  const perHead = (h0: number): Linear => {
    const indices: number[] = []
    for (let h = 0; h < heads; h++) for (let j = 0; j < hd; j++) indices.push(h * 3 * hd + h0 * hd + j)
    const base = (b: string) => ({ name: b, layout: 'out-in' as const, out: { indices } })
    return bias
      ? {
          weight: base('X.weight'),
          bias: { ...base('X.bias'), layout: 'vector' as const },
          shape: [hidden, hidden],
        }
      : { weight: base('X.weight'), shape: [hidden, hidden] }
  }
  const named = (l: Linear, b: string): Linear => ({
    ...l,
    weight: { ...l.weight, name: `${b}.weight` },
    ...(l.bias === undefined ? {} : { bias: { ...l.bias, name: `${b}.bias` } }),
  })
  const blocks: BlockSpec[] = Array.from({ length: n }, (_, i) => {
    const p0 = `gpt_neox.layers.${i}.`
    const qkv = `${p0}attention.query_key_value`
    return {
      residual: parallel ? 'parallel' : 'sequential',
      attnNorm: ln(`${p0}input_layernorm`, hidden, eps),
      mlpNorm: ln(`${p0}post_attention_layernorm`, hidden, eps),
      attention: {
        numHeads: heads,
        numKvHeads: heads,
        headDim: hd,
        q: named(perHead(0), qkv),
        k: named(perHead(1), qkv),
        v: named(perHead(2), qkv),
        o: lin(`${p0}attention.dense`, hidden, hidden, bias),
        rotary: { table: 'default' },
        scale: 1 / Math.sqrt(hd),
      },
      mlp: {
        kind: 'plain',
        fc: lin(`${p0}mlp.dense_h_to_4h`, inter, hidden, true),
        proj: lin(`${p0}mlp.dense_4h_to_h`, hidden, inter, true),
        act,
      },
    }
  })
  return {
    family: 'gpt_neox',
    modelType: 'gpt_neox',
    architecture,
    numBlocks: n,
    hiddenSize: hidden,
    vocabSize: vocab,
    maxPositions,
    embedding: { tokens: mat('gpt_neox.embed_in.weight') },
    blocks,
    head: {
      norm: ln('gpt_neox.final_layer_norm', hidden, eps),
      weight: mat(tied ? 'gpt_neox.embed_in.weight' : 'embed_out.weight'),
    },
    rotary: { default: rotary },
    blockPrefix: (i) => `gpt_neox.layers.${i}.`,
  }
}
