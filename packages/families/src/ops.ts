// The engine interface and the one generic decoder program. An engine implements `Ops<T>` for its
// tensor type T (the float64 reference: arrays; ONNX Runtime: names of graph values, the program
// then *builds* a graph; TF.js: tensors). Every family runs through `embedding`, `block` and `head`
// below, so a family is written once, as an `Arch`, and every engine runs it.
//
// Shapes: activations are [batch, seq, features]. Linear layers act on the last axis.

import type {
  Activation,
  Arch,
  AttentionSpec,
  BlockSpec,
  Linear,
  MlpSpec,
  MoeSpec,
  NormSpec,
  RotarySpec,
  WeightRef,
} from './arch.js'

/**
 * What an engine provides. Each method is exact (no approximation beyond its floating-point type);
 * position-dependent ops (`positions`, `rotary`, `attention`) take positions from the engine's
 * current call (past length + 0..seq−1), so the program itself is position-free.
 */
export interface Ops<T> {
  /** Rows of the token embedding for the current batch's ids: [B, S, hidden]. */
  embedTokens(weight: WeightRef): T
  /** Rows of a learned position table for the current positions: broadcastable to [B, S, hidden]. */
  embedPositions(weight: WeightRef): T
  /** x·Wᵀ (+ b) on the last axis, W viewed as [out, in] (see `WeightRef`). */
  linear(x: T, layer: Linear): T
  /** RMSNorm or LayerNorm over the last axis, computed in (at least) float32. */
  norm(x: T, spec: NormSpec): T
  /** RMSNorm over each head's `headDim` features of x [B, S, heads·headDim] (Qwen3, Gemma 3 q/k norm). */
  headNorm(x: T, heads: number, headDim: number, spec: NormSpec): T
  /** Rotary embedding (rotate-half convention) of the first `rotaryDim` features of each head. */
  rotary(x: T, heads: number, headDim: number, spec: RotarySpec): T
  /**
   * Causal (optionally windowed, soft-capped) grouped-query attention of q [B, S, H·hd] over k, v
   * [B, S, KV·hd] → [B, S, H·hd]. `block` identifies the KV-cache slot: an engine with a cache
   * prepends block `block`'s past keys/values and records the present ones.
   */
  attention(q: T, k: T, v: T, spec: AttentionSpec, block: number): T
  act(x: T, a: Activation): T
  add(a: T, b: T): T
  mul(a: T, b: T): T
  scale(x: T, s: number): T
  /** tanh(x / c) · c */
  softcap(x: T, c: number): T
  /** Sparse mixture of experts on the last axis (see `MoeSpec` for the exact routing). */
  moe(x: T, spec: MoeSpec): T
}

/** h₀: token embeddings (+ learned positions) (· scale). */
export function embedding<T>(ops: Ops<T>, arch: Arch): T {
  const e = arch.embedding
  let h = ops.embedTokens(e.tokens)
  if (e.positions !== undefined) h = ops.add(h, ops.embedPositions(e.positions))
  if (e.scale !== undefined) h = ops.scale(h, e.scale)
  return h
}

function attentionBranch<T>(ops: Ops<T>, a: AttentionSpec, x: T, blockIndex: number): T {
  let q = ops.linear(x, a.q)
  let k = ops.linear(x, a.k)
  const v = ops.linear(x, a.v)
  if (a.qkNorm !== undefined) {
    if (a.qkNorm.over === 'head') {
      q = ops.headNorm(q, a.numHeads, a.headDim, a.qkNorm.q)
      k = ops.headNorm(k, a.numKvHeads, a.headDim, a.qkNorm.k)
    } else {
      q = ops.norm(q, a.qkNorm.q)
      k = ops.norm(k, a.qkNorm.k)
    }
  }
  if (a.rotary !== undefined) {
    q = ops.rotary(q, a.numHeads, a.headDim, a.rotary)
    k = ops.rotary(k, a.numKvHeads, a.headDim, a.rotary)
  }
  return ops.linear(ops.attention(q, k, v, a, blockIndex), a.o)
}

function mlpBranch<T>(ops: Ops<T>, m: MlpSpec, x: T): T {
  switch (m.kind) {
    case 'gated':
      return ops.linear(ops.mul(ops.act(ops.linear(x, m.gate), m.act), ops.linear(x, m.up)), m.down)
    case 'plain':
      return ops.linear(ops.act(ops.linear(x, m.fc), m.act), m.proj)
    case 'moe':
      return ops.moe(x, m)
  }
}

function post<T>(ops: Ops<T>, y: T, norm: NormSpec | undefined, s: number | undefined): T {
  const n = norm === undefined ? y : ops.norm(y, norm)
  return s === undefined ? n : ops.scale(n, s)
}

/** h_{i+1} = block_i(h_i). */
export function block<T>(ops: Ops<T>, arch: Arch, i: number, h: T): T {
  const b: BlockSpec = arch.blocks[i]!
  const pre = (x: T, n: NormSpec | undefined): T => (n === undefined ? x : ops.norm(x, n))
  if (b.residual === 'parallel') {
    const a = post(
      ops,
      attentionBranch(ops, b.attention, pre(h, b.attnNorm), i),
      b.attnPostNorm,
      b.residualScale,
    )
    const m = post(ops, mlpBranch(ops, b.mlp, pre(h, b.mlpNorm)), b.mlpPostNorm, b.residualScale)
    return ops.add(ops.add(h, a), m)
  }
  const a = post(
    ops,
    attentionBranch(ops, b.attention, pre(h, b.attnNorm), i),
    b.attnPostNorm,
    b.residualScale,
  )
  const h1 = ops.add(h, a)
  const m = post(ops, mlpBranch(ops, b.mlp, pre(h1, b.mlpNorm)), b.mlpPostNorm, b.residualScale)
  return ops.add(h1, m)
}

/** Logits of h_T: final norm → head (· scale) (soft-cap). */
export function head<T>(ops: Ops<T>, arch: Arch, h: T): T {
  const hd = arch.head
  const x = ops.norm(h, hd.norm)
  const shape = [arch.vocabSize, arch.hiddenSize] as const
  let y = ops.linear(
    x,
    hd.bias === undefined ? { weight: hd.weight, shape } : { weight: hd.weight, bias: hd.bias, shape },
  )
  if (hd.scale !== undefined) y = ops.scale(y, hd.scale)
  if (hd.softcap !== undefined) y = ops.softcap(y, hd.softcap)
  return y
}

/**
 * Sum of next-token NLL (nats, float64) over positions 1..S−1 of every sequence, from row-major
 * logits [B·S, V] (any float array). Shared by every engine so they agree on the loss exactly.
 */
export function sumNextTokenNll(
  logits: ArrayLike<number>,
  ids: ArrayLike<number>,
  batch: number,
  seqLen: number,
  vocab: number,
): { sumNll: number; tokens: number } {
  let sum = 0
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seqLen - 1; t++) {
      const row = (b * seqLen + t) * vocab
      let mx = -Infinity
      for (let v = 0; v < vocab; v++) mx = Math.max(mx, logits[row + v]!)
      let z = 0
      for (let v = 0; v < vocab; v++) z += Math.exp(logits[row + v]! - mx)
      const target = ids[b * seqLen + t + 1]!
      sum += mx + Math.log(z) - logits[row + target]!
    }
  }
  return { sumNll: sum, tokens: batch * Math.max(0, seqLen - 1) }
}
