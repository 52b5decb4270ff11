// GPT-2: learned absolute positions, LayerNorm with bias, Conv1D weights stored [in, out], one fused
// c_attn projection (q | k | v along the output axis), GELU (tanh approximation by default).
//
// [1] Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.

import type { Arch, BlockSpec, Linear, NormSpec, WeightRef } from '../arch.js'
import type { ConfigReader } from '../config.js'
import { readActivation } from './llama.js'

const conv = (name: string, out: WeightRef['out'] = undefined): WeightRef =>
  out === undefined ? { name, layout: 'in-out' } : { name, layout: 'in-out', out }
const vec = (name: string, out: WeightRef['out'] = undefined): WeightRef =>
  out === undefined ? { name, layout: 'vector' } : { name, layout: 'vector', out }

function ln(base: string, size: number, eps: number): NormSpec {
  return { kind: 'layer', weight: vec(`${base}.weight`), bias: vec(`${base}.bias`), size, eps }
}

function conv1d(base: string, out: number, inp: number, sel?: { from: number; to: number }): Linear {
  return { weight: conv(`${base}.weight`, sel), bias: vec(`${base}.bias`, sel), shape: [out, inp] }
}

/**
 * `tensorNames` decides the prefix: checkpoints saved from GPT2LMHeadModel use `transformer.`,
 * those from GPT2Model none.
 */
export function parseGpt2(r: ConfigReader, architecture: string, tensorNames: ReadonlySet<string>): Arch {
  const d = r.int('n_embd')
  const heads = r.int('n_head')
  if (d % heads !== 0) throw r.invalid('n_embd', `a multiple of n_head (${heads})`)
  const numBlocks = r.int('n_layer')
  const inner = r.has('n_inner') ? r.int('n_inner') : (r.consume('n_inner'), 4 * d)
  const eps = r.num('layer_norm_epsilon', 1e-5)
  const maxPositions = r.int('n_positions', 1024)
  const vocab = r.int('vocab_size')
  const act = readActivation(r, 'activation_function', 'gelu_new')
  if (!r.bool('scale_attn_weights', true)) throw r.unsupported('scale_attn_weights', false, 'true')
  if (r.bool('scale_attn_by_inverse_layer_idx', false))
    throw r.unsupported(
      'scale_attn_by_inverse_layer_idx',
      true,
      'false (the scale would depend on the block index)',
    )
  // reorder_and_upcast_attn only changes the order of float32 operations inside attention
  r.bool('reorder_and_upcast_attn', false)
  const tied = r.bool('tie_word_embeddings', true)
  r.consume('n_ctx')
  const prefix = tensorNames.has('transformer.wte.weight') ? 'transformer.' : ''
  const hd = d / heads
  const blocks: BlockSpec[] = []
  for (let i = 0; i < numBlocks; i++) {
    const p = `${prefix}h.${i}.`
    blocks.push({
      residual: 'sequential',
      attnNorm: ln(`${p}ln_1`, d, eps),
      mlpNorm: ln(`${p}ln_2`, d, eps),
      attention: {
        numHeads: heads,
        numKvHeads: heads,
        headDim: hd,
        q: conv1d(`${p}attn.c_attn`, d, d, { from: 0, to: d }),
        k: conv1d(`${p}attn.c_attn`, d, d, { from: d, to: 2 * d }),
        v: conv1d(`${p}attn.c_attn`, d, d, { from: 2 * d, to: 3 * d }),
        o: conv1d(`${p}attn.c_proj`, d, d),
        scale: 1 / Math.sqrt(hd),
      },
      mlp: {
        kind: 'plain',
        fc: conv1d(`${p}mlp.c_fc`, inner, d),
        proj: conv1d(`${p}mlp.c_proj`, d, inner),
        act,
      },
    })
  }
  return {
    family: 'gpt2',
    modelType: 'gpt2',
    architecture,
    numBlocks,
    hiddenSize: d,
    vocabSize: vocab,
    maxPositions,
    embedding: {
      tokens: { name: `${prefix}wte.weight`, layout: 'out-in' },
      positions: { name: `${prefix}wpe.weight`, layout: 'out-in' },
    },
    blocks,
    head: {
      norm: ln(`${prefix}ln_f`, d, eps),
      weight: { name: tied ? `${prefix}wte.weight` : 'lm_head.weight', layout: 'out-in' },
    },
    rotary: {},
    blockPrefix: (i) => `${prefix}h.${i}.`,
  }
}
