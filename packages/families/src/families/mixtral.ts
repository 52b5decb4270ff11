// Mixtral: the Mistral block with every MLP replaced by a sparse mixture of experts (softmax over
// all experts, top-k, weights renormalised over the k chosen), tensors `block_sparse_moe.gate` and
// `block_sparse_moe.experts.E.{w1 (gate), w3 (up), w2 (down)}`.
//
// [1] Jiang et al., "Mixtral of Experts", 2024.

import type { Arch, BlockSpec } from '../arch.js'
import type { ConfigReader } from '../config.js'
import { llamaArch, readActivation, readLlamaDims, readWindows, singleRotary } from './llama.js'
import { moeSpec, readNumExperts } from './qwen3.js'

export function parseMixtral(r: ConfigReader, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-5 })
  const slides = r.has('sliding_window')
  const act = readActivation(r, 'hidden_act', 'silu')
  const arch = llamaArch(d, {
    family: 'mixtral',
    architecture,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    windows: readWindows(r, d.numBlocks, () => slides),
    rotary: singleRotary(r, d, 1000000),
    act,
  })
  const experts = readNumExperts(r)
  const topK = r.int('num_experts_per_tok')
  if (topK > experts) throw r.invalid('num_experts_per_tok', `at most num_local_experts (${experts})`)
  const blocks = arch.blocks.map((b, i): BlockSpec => ({
    ...b,
    mlp: moeSpec(
      `${arch.blockPrefix(i)}block_sparse_moe`,
      `${arch.blockPrefix(i)}block_sparse_moe.gate`,
      { gate: 'w1', up: 'w3', down: 'w2' },
      { experts, hidden: d.hidden, inter: d.intermediate, topK, normTopK: true },
      act,
    ),
  }))
  return { ...arch, blocks }
}
