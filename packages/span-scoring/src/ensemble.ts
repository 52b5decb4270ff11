import { PruneError, type SpanScorer, assertKnownOptions } from '@mi-prun/core'
import { type MemoisedSpanScorer, createSpanScorer } from './memo.js'
import { removability } from './selection.js'

const PKG = '@mi-prun/span-scoring'
const P = `[${PKG}]`

/** How an ensemble combines its members: mean rank or mean z-score, both among spans of the same length. */
export type EnsembleMethod = 'mean-rank' | 'mean-z'

/** Options of {@link createEnsembleScorer}. */
export interface EnsembleOptions {
  /** Two or more scorers over the same T; each member's direction is applied before combining. */
  readonly scorers: readonly SpanScorer[]
  /** Default 'mean-rank'. */
  readonly method?: EnsembleMethod
  /** Non-negative member weights (default equal). */
  readonly weights?: readonly number[]
}

/** Average 1-based ranks of `v` in ascending order (ties share their mean rank). */
export function averageRanks(v: readonly number[]): number[] {
  const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]! || a - b)
  const out = new Array<number>(v.length)
  for (let i = 0; i < idx.length;) {
    let j = i
    while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++
    const r = (i + j) / 2 + 1
    for (let k = i; k <= j; k++) out[idx[k]!] = r
    i = j + 1
  }
  return out
}

/**
 * Combines several scorers into one (higher means more removable). For a span [j, j+L), each member scores
 * every span of length L, its direction is applied (so higher = more removable for all), and the values
 * are turned into average ranks (1 = least removable, T−L+1 = most) for 'mean-rank', or into z-scores
 * `(r − mean)/sd` over those spans (0 when sd = 0) for 'mean-z'; the ensemble score is the weighted mean.
 * Scoring one span of length L thus costs each member up to T−L+1 (memoised) evaluations; `evaluations`
 * counts the ensemble's own spans.
 */
export function createEnsembleScorer(options: EnsembleOptions): MemoisedSpanScorer {
  assertKnownOptions(PKG, options, ['scorers', 'method', 'weights'] satisfies (keyof EnsembleOptions)[])
  const { scorers, method = 'mean-rank' } = options
  if (scorers.length < 1) throw new PruneError('INVALID_INPUT', `${P} an ensemble needs at least one scorer`)
  const T = scorers[0]!.numBlocks
  for (const s of scorers) {
    if (s.numBlocks !== T)
      throw new PruneError(
        'INVALID_INPUT',
        `${P} ensemble members must score the same T: '${s.name}' has ${s.numBlocks}, '${scorers[0]!.name}' has ${T}`,
      )
  }
  const weights = options.weights ?? scorers.map(() => 1)
  if (weights.length !== scorers.length || weights.some((w) => !(w >= 0)) || !weights.some((w) => w > 0)) {
    throw new PruneError(
      'INVALID_INPUT',
      `${P} ensemble weights must be ${scorers.length} non-negative numbers, not all 0`,
    )
  }
  const wsum = weights.reduce((a, b) => a + b, 0)
  const maxLength = Math.min(...scorers.map((s) => (s as Partial<MemoisedSpanScorer>).maxLength ?? T))
  const byLength = new Map<number, Float64Array>()
  const combined = (length: number): Float64Array => {
    const hit = byLength.get(length)
    if (hit) return hit
    const n = T - length + 1
    const out = new Float64Array(n)
    scorers.forEach((s, m) => {
      const r = Array.from({ length: n }, (_, j) => removability(s, j, length))
      let t: number[]
      if (method === 'mean-rank') t = averageRanks(r)
      else {
        const mean = r.reduce((a, b) => a + b, 0) / n
        const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / n)
        t = r.map((v) => (sd > 0 ? (v - mean) / sd : 0))
      }
      for (let j = 0; j < n; j++) out[j] = out[j]! + (weights[m]! * t[j]!) / wsum
    })
    byLength.set(length, out)
    return out
  }
  return createSpanScorer({
    name: `ensemble-${method}`,
    numBlocks: T,
    higherMeansRemovable: true,
    maxLength,
    settings: {
      kind: 'ensemble',
      method,
      weights: [...weights],
      members: scorers.map((s) => ({ name: s.name, settings: s.settings })),
    },
    evaluate: (start, length) => combined(length)[start]!,
  })
}
