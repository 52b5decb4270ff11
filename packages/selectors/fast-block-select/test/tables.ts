// Synthetic span-score tables for selector tests (shared by this package's tests).
import { createRng } from '@mi-prun/core'
import { type MemoisedSpanScorer, createSpanScorer } from '@mi-prun/span-scoring'

/** A scorer over an explicit table: singles[i] for length 1, spans.get(`${j}:${L}`) for longer spans, else `fallback`. */
export function tableScorer(
  singles: readonly number[],
  spans: ReadonlyMap<string, number>,
  fallback = 0,
  calls?: Map<string, number>,
): MemoisedSpanScorer {
  return createSpanScorer({
    name: 'table',
    numBlocks: singles.length,
    settings: { kind: 'table' },
    higherMeansRemovable: true,
    evaluate: (j, L) => {
      const k = `${j}:${L}`
      calls?.set(k, (calls.get(k) ?? 0) + 1)
      return L === 1 ? singles[j]! : (spans.get(k) ?? fallback)
    },
  })
}

/** i.i.d. uniform [0, 1) score for every span, drawn lazily from a per-span seed (order-independent). */
export function randomScorer(T: number, seed: number, calls?: Map<string, number>): MemoisedSpanScorer {
  return createSpanScorer({
    name: 'random-table',
    numBlocks: T,
    settings: { kind: 'random-table', seed },
    higherMeansRemovable: true,
    evaluate: (j, L) => {
      const k = `${j}:${L}`
      calls?.set(k, (calls.get(k) ?? 0) + 1)
      return createRng(seed).fork(k).nextDouble()
    },
  })
}

/**
 * Residual-like Gaussian chain: h_{i+1} = h_i + e_i with independent e_i ~ N(0, v_i), h_0 ~ N(0, 1), so
 * MI(h_j; h_{j+L}) = ½ ln(1 + V_j / Σ_{k=j}^{j+L−1} v_k) nats with V_j = 1 + Σ_{k<j} v_k: exact, and it obeys
 * the data processing inequality. Block variances are log-normal (a few important blocks, many redundant ones).
 */
export function residualScorer(T: number, seed: number, calls?: Map<string, number>): MemoisedSpanScorer {
  const rng = createRng(seed)
  const v = Array.from({ length: T }, () => Math.exp(1.5 * rng.normal() - 1))
  const V = [1]
  for (let i = 0; i < T; i++) V.push(V[i]! + v[i]!)
  return createSpanScorer({
    name: 'residual-table',
    numBlocks: T,
    settings: { kind: 'residual-table', seed },
    higherMeansRemovable: true,
    evaluate: (j, L) => {
      const k = `${j}:${L}`
      calls?.set(k, (calls.get(k) ?? 0) + 1)
      let s = 0
      for (let b = j; b < j + L; b++) s += v[b]!
      return 0.5 * Math.log(1 + V[j]! / s)
    },
  })
}
