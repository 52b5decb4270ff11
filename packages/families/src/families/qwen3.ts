// Qwen3 (dense) and Qwen3-MoE: the Qwen2 block without q/k/v biases, plus an RMSNorm of every
// query and key head (over head_dim) before RoPE; Qwen3-MoE replaces the MLP of the blocks chosen by
// `decoder_sparse_step` / `mlp_only_layers` with a top-k routed mixture of experts.
//
// [1] Qwen Team, "Qwen3 Technical Report", 2025.

import type { Arch, BlockSpec, MoeSpec } from '../arch.js'
import type { ConfigReader } from '../config.js'
import { lin, llamaArch, qwenWindows, readActivation, readLlamaDims, rms, singleRotary } from './llama.js'

/** Adds per-head q/k RMSNorm (`self_attn.q_norm` / `k_norm`, size head_dim) to every block. */
export function withHeadQkNorm(arch: Arch, eps: number, offset?: number): BlockSpec[] {
  return arch.blocks.map((b, i) => {
    const p = `${arch.blockPrefix(i)}self_attn.`
    const hd = b.attention.headDim
    const norm = (n: string) => {
      const s = rms(`${p}${n}.weight`, hd, eps)
      return offset === undefined ? s : { ...s, weight: { ...s.weight, offset } }
    }
    return {
      ...b,
      attention: { ...b.attention, qkNorm: { over: 'head', q: norm('q_norm'), k: norm('k_norm') } },
    }
  })
}

function qwen3Base(r: ConfigReader, family: string, architecture: string): Arch {
  const d = readLlamaDims(r, { tied: false, eps: 1e-6 })
  const bias = r.bool('attention_bias', false)
  const arch = llamaArch(d, {
    family,
    architecture,
    qkvBias: bias,
    oBias: bias,
    mlpBias: false,
    windows: qwenWindows(r, d.numBlocks),
    rotary: singleRotary(r, d, 1000000),
    act: readActivation(r, 'hidden_act', 'silu'),
  })
  return { ...arch, blocks: withHeadQkNorm(arch, d.eps) }
}

export function parseQwen3(r: ConfigReader, architecture: string): Arch {
  return qwen3Base(r, 'qwen3', architecture)
}

/** Reads the expert count under either name (transformers 5 writes `num_local_experts`). */
export function readNumExperts(r: ConfigReader): number {
  const a = r.has('num_experts') ? r.int('num_experts', undefined, 0) : (r.consume('num_experts'), undefined)
  const b = r.has('num_local_experts')
    ? r.int('num_local_experts', undefined, 0)
    : (r.consume('num_local_experts'), undefined)
  if (a !== undefined && b !== undefined && a !== b)
    throw r.unsupported('num_local_experts', b, `the same value as num_experts (${a})`)
  const n = a ?? b
  if (n === undefined) throw r.invalid('num_experts', 'set (the number of experts)')
  return n
}

/** A MoE spec over per-expert tensors `${base}.experts.${e}.{gate,up,down}${suffix}`. */
export function moeSpec(
  base: string,
  router: string,
  names: { gate: string; up: string; down: string },
  n: { experts: number; hidden: number; inter: number; topK: number; normTopK: boolean },
  act: MoeSpec['act'],
): MoeSpec {
  return {
    kind: 'moe',
    router: lin(router, n.experts, n.hidden, false),
    topK: n.topK,
    normTopK: n.normTopK,
    experts: Array.from({ length: n.experts }, (_, e) => ({
      gate: lin(`${base}.experts.${e}.${names.gate}`, n.inter, n.hidden, false),
      up: lin(`${base}.experts.${e}.${names.up}`, n.inter, n.hidden, false),
      down: lin(`${base}.experts.${e}.${names.down}`, n.hidden, n.inter, false),
    })),
    act,
  }
}

export function parseQwen3Moe(r: ConfigReader, architecture: string): Arch {
  const arch = qwen3Base(r, 'qwen3_moe', architecture)
  const experts = readNumExperts(r)
  const topK = r.int('num_experts_per_tok')
  if (topK > experts) throw r.invalid('num_experts_per_tok', `at most num_experts (${experts})`)
  const normTopK = r.bool('norm_topk_prob', false)
  const step = r.int('decoder_sparse_step', 1)
  const inter = r.int('moe_intermediate_size')
  const only = r.raw('mlp_only_layers') ?? []
  if (!Array.isArray(only) || only.some((i) => !Number.isInteger(i) || i < 0 || i >= arch.numBlocks))
    throw r.invalid('mlp_only_layers', `an array of block indices in [0, ${arch.numBlocks})`)
  const act = readActivation(r, 'hidden_act', 'silu')
  const blocks = arch.blocks.map((b, i): BlockSpec => {
    if (only.includes(i) || experts === 0 || (i + 1) % step !== 0) return b
    return {
      ...b,
      mlp: moeSpec(
        `${arch.blockPrefix(i)}mlp`,
        `${arch.blockPrefix(i)}mlp.gate`,
        { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' },
        { experts, hidden: arch.hiddenSize, inter, topK, normTopK },
        act,
      ),
    }
  })
  return { ...arch, blocks }
}
