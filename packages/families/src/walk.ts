// Enumerates the weights an Arch refers to, with the shape each view must have. Engines load
// through this list (so they load exactly what the program uses) and check every tensor against
// it before running anything (so a wrong or missing tensor is refused up front, by name).

import type { Arch, BlockSpec, Linear, MlpSpec, NormSpec, WeightRef } from './arch.js'

/** One weight view and the shape it must have: [out, in] for matrices, [n] for vectors. */
export interface WeightUse {
  readonly ref: WeightRef
  readonly shape: readonly number[]
}

function linear(l: Linear, out: WeightUse[]): void {
  out.push({ ref: l.weight, shape: l.shape })
  if (l.bias !== undefined) out.push({ ref: l.bias, shape: [l.shape[0]] })
}

function norm(n: NormSpec | undefined, out: WeightUse[]): void {
  if (n === undefined) return
  out.push({ ref: n.weight, shape: [n.size] })
  if (n.bias !== undefined) out.push({ ref: n.bias, shape: [n.size] })
}

function mlp(m: MlpSpec, out: WeightUse[]): void {
  switch (m.kind) {
    case 'gated':
      linear(m.gate, out)
      linear(m.up, out)
      linear(m.down, out)
      return
    case 'plain':
      linear(m.fc, out)
      linear(m.proj, out)
      return
    case 'moe':
      linear(m.router, out)
      for (const e of m.experts) {
        linear(e.gate, out)
        linear(e.up, out)
        linear(e.down, out)
      }
  }
}

/** Every weight view block `b` uses, in program order. */
export function blockWeights(b: BlockSpec): WeightUse[] {
  const out: WeightUse[] = []
  norm(b.attnNorm, out)
  const a = b.attention
  linear(a.q, out)
  linear(a.k, out)
  linear(a.v, out)
  if (a.qkNorm !== undefined) {
    norm(a.qkNorm.q, out)
    norm(a.qkNorm.k, out)
  }
  linear(a.o, out)
  norm(b.attnPostNorm, out)
  norm(b.mlpNorm, out)
  mlp(b.mlp, out)
  norm(b.mlpPostNorm, out)
  return out
}

/** The weights outside the blocks: embeddings, final norm, head. */
export function globalWeights(arch: Arch): { embedding: WeightUse[]; head: WeightUse[] } {
  const embedding: WeightUse[] = [{ ref: arch.embedding.tokens, shape: [arch.vocabSize, arch.hiddenSize] }]
  if (arch.embedding.positions !== undefined)
    embedding.push({ ref: arch.embedding.positions, shape: [arch.maxPositions, arch.hiddenSize] })
  const head: WeightUse[] = []
  norm(arch.head.norm, head)
  head.push({ ref: arch.head.weight, shape: [arch.vocabSize, arch.hiddenSize] })
  if (arch.head.bias !== undefined) head.push({ ref: arch.head.bias, shape: [arch.vocabSize] })
  return { embedding, head }
}
