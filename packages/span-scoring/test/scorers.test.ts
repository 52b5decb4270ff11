import { describe, expect, it } from 'vitest'
import {
  type EstimateOptions,
  type Matrix,
  type MIEstimator,
  PruneError,
  createRng,
  matrix,
} from '@mi-prun/core'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import {
  averageRanks,
  createActivationStore,
  createEnsembleScorer,
  createMiSpanScorer,
  createSpanScorer,
  maximalRuns,
  removability,
  resolveBudget,
  resolveProtected,
  scoreTable,
  setObjective,
} from '@mi-prun/span-scoring'

/** Gaussian chain h_{i+1} = h_i + e_i, e_i ~ N(0, v_i I), h_0 ~ N(0, I): MI(h_j; h_{j+L}) = d/2 ln(1 + V_j / Σ v). */
function gaussianChain(n: number, d: number, v: number[], seed: number): Matrix[] {
  const rng = createRng(seed)
  let h = Float32Array.from({ length: n * d }, () => rng.normal())
  const out = [matrix(n, d, h)]
  for (const vi of v) {
    const s = Math.sqrt(vi)
    h = Float32Array.from(h, (x) => x + s * rng.normal())
    out.push(matrix(n, d, h))
  }
  return out
}

describe('MI span scorer', () => {
  const v = [0.05, 2, 0.1, 0.02, 1]
  const states = gaussianChain(4000, 2, v, 5)
  const store = createActivationStore({ states }, { maxTokens: 3000, seed: 2 })
  const est = createGaussianEstimator()
  const mi = createMiSpanScorer({ store, estimator: est })

  it('scores MI(h_j; h_{j+L}) in nats, close to the Gaussian chain’s closed form', () => {
    const V = [1]
    for (const x of v) V.push(V[V.length - 1]! + x)
    for (const [j, L] of [
      [0, 1],
      [1, 1],
      [2, 2],
      [0, 5],
    ] as const) {
      let s = 0
      for (let b = j; b < j + L; b++) s += v[b]!
      const truth = (2 / 2) * Math.log(1 + V[j]! / s)
      expect(Math.abs(mi.score(j, L) - truth)).toBeLessThan(0.08)
    }
    // equals the estimator on the paired sampled rows exactly
    expect(mi.score(1, 2)).toBe(est.estimate(store.states[1]!, store.states[3]!, { tags: store.tags }))
  })

  it('carries its settings and memoises every span', () => {
    expect(mi.settings).toMatchObject({
      kind: 'mi',
      estimator: est.settings,
      samples: 3000,
      dims: 2,
      unit: 'nats',
      reducer: null,
    })
    expect(JSON.parse(JSON.stringify(mi.settings))).toEqual(mi.settings)
    const before = mi.evaluations
    mi.score(0, 1)
    mi.score(0, 1)
    mi.score(3, 2)
    mi.score(3, 2)
    expect(mi.evaluations).toBe(before + 1) // (0,1) was scored above; (3,2) is new
    expect(mi.higherMeansRemovable).toBe(true)
  })

  it('passes the row tags (Theiler window) and applies the pair reducer', () => {
    let seen: EstimateOptions | undefined
    const spy: MIEstimator = {
      name: 'spy',
      settings: { kind: 'spy' },
      estimate: (x, _y, o) => ((seen = o), x.cols),
    }
    const s = createMiSpanScorer({
      store,
      estimator: spy,
      reducer: {
        name: 'first',
        settings: { kind: 'first', rank: 1 },
        reducePair: (x, y) => ({
          x: matrix(
            x.rows,
            1,
            x.data.filter((_, i) => i % 2 === 0),
          ),
          y,
        }),
      },
    })
    expect(s.score(0, 1)).toBe(1)
    expect(seen?.tags?.sequence).toBe(store.tags.sequence)
    expect(s.settings['reducer']).toEqual({ kind: 'first', rank: 1 })
    expect(createMiSpanScorer({ store, estimator: spy, passTags: false }).score(0, 1)).toBe(2)
    expect(seen?.tags).toBeUndefined()
  })

  it('rejects spans outside the model', () => {
    expect(() => mi.score(4, 2)).toThrow(PruneError)
    expect(() => mi.score(-1, 1)).toThrow(/not inside/)
    expect(() => mi.score(0, 0)).toThrow(PruneError)
  })
})

const table = (T: number, f: (j: number, L: number) => number, higher = true) =>
  createSpanScorer({
    name: 't',
    numBlocks: T,
    settings: { kind: 't' },
    higherMeansRemovable: higher,
    evaluate: f,
  })

describe('ensemble scorer', () => {
  it('averages direction-applied ranks among spans of the same length', () => {
    const a = table(4, (j) => [1, 5, 3, 2][j]!) // removability ranks (ascending): j0:1 j1:4 j2:3 j3:2
    const b = table(4, (j) => [0.1, 0.4, 0.2, 0.3][j]!, false) // lower = removable: removability −s → ranks j0:4 j1:1 j2:3 j3:2
    const e = createEnsembleScorer({ scorers: [a, b] })
    expect([0, 1, 2, 3].map((j) => e.score(j, 1))).toEqual([2.5, 2.5, 3, 2])
    expect(e.higherMeansRemovable).toBe(true)
    expect(createEnsembleScorer({ scorers: [a, b], weights: [3, 1] }).score(1, 1)).toBe((3 * 4 + 1) / 4)
  })
  it('averages z-scores', () => {
    const a = table(3, (j) => [1, 2, 3][j]!)
    const b = table(3, (j) => [10, 10, 40][j]!)
    const e = createEnsembleScorer({ scorers: [a, b], method: 'mean-z' })
    const za = [-Math.sqrt(1.5), 0, Math.sqrt(1.5)]
    const zb = [-Math.SQRT1_2, -Math.SQRT1_2, Math.SQRT2]
    for (let j = 0; j < 3; j++) expect(e.score(j, 1)).toBeCloseTo((za[j]! + zb[j]!) / 2, 12)
    expect(e.score(0, 3)).toBe(0) // one span of length T: sd = 0
  })
  it('gives average ranks to ties', () => {
    expect(averageRanks([3, 1, 3, 2])).toEqual([3.5, 1, 3.5, 2])
  })
  it('rejects members of different T', () => {
    expect(() => createEnsembleScorer({ scorers: [table(3, () => 0), table(4, () => 0)] })).toThrow(/same T/)
  })
})

describe('scoreTable, objective and budget helpers', () => {
  it('lists every span score as JSON with null for non-finite values', () => {
    const s = table(3, (j, L) => (j === 1 && L === 1 ? Number.NaN : 10 * L + j))
    const t = scoreTable(s)
    expect(t.blocks).toEqual([10, null, 12])
    expect(t.spans).toEqual([[10, null, 12], [20, 21], [30]])
    expect(t.evaluations).toBe(6)
    expect(JSON.parse(JSON.stringify(t))).toEqual(t)
    expect(scoreTable(s, 2).spans.length).toBe(2)
    expect(() => scoreTable(s, 4)).toThrow(PruneError)
  })
  it('sums the direction-applied span score over maximal runs', () => {
    expect(maximalRuns([1, 2, 3, 6, 8, 9])).toEqual([
      [1, 3],
      [6, 1],
      [8, 2],
    ])
    const s = table(10, (j, L) => j + 100 * L)
    expect(setObjective(s, [1, 2, 3, 6, 8, 9])).toBe(301 + 106 + 208)
    const low = table(10, (j, L) => j + 100 * L, false)
    expect(setObjective(low, [2, 3])).toBe(-202)
    expect(removability(low, 2, 2)).toBe(-202)
  })
  it('resolves ratios, protection and infeasible budgets', () => {
    expect(resolveBudget('p', 32, undefined, 0.15, 0)).toBe(5)
    expect(resolveBudget('p', 10, undefined, 0.3, 0)).toBe(3)
    expect(() => resolveBudget('p', 8, 7, undefined, 1)).toThrow(
      expect.objectContaining({ code: 'INFEASIBLE_BUDGET' }),
    )
    expect(() => resolveBudget('p', 8, undefined, undefined, 0)).toThrow(/no budget/)
    expect(resolveProtected('p', 8, [5], { first: 2, last: 1, blocks: [3] })).toEqual([0, 1, 3, 5, 7])
    expect(() => resolveProtected('p', 8, [8], undefined)).toThrow(/not in 0..7/)
  })
})

describe('memoisation per store', () => {
  it('MI scorers with the same settings on the same store share their spans; different settings do not', () => {
    const states = gaussianChain(500, 2, [0.5, 0.1, 1], 8)
    const store = createActivationStore({ states }, { maxTokens: 300 })
    let calls = 0
    const counting: MIEstimator = { name: 'c', settings: { kind: 'counting' }, estimate: () => ++calls }
    const a = createMiSpanScorer({ store, estimator: counting })
    const b = createMiSpanScorer({ store, estimator: counting })
    expect(a.score(0, 2)).toBe(1)
    expect(b.score(0, 2)).toBe(1) // served from the store's cache
    expect([a.evaluations, b.evaluations, calls]).toEqual([1, 0, 1])
    const c = createMiSpanScorer({ store, estimator: { ...counting, settings: { kind: 'counting', k: 2 } } })
    expect(c.score(0, 2)).toBe(2)
    const other = createMiSpanScorer({
      store: createActivationStore({ states }, { maxTokens: 300 }),
      estimator: counting,
    })
    expect(other.score(0, 2)).toBe(3)
    const own = createMiSpanScorer({ store, estimator: counting, shareCache: false })
    expect(own.score(0, 2)).toBe(4)
    expect(own.evaluations).toBe(1)
  })
})
