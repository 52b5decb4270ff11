import { describe, expect, it } from 'vitest'
import type { SpanScorer } from '@mi-prun/core'
import { choose, countingView, firstRows, fitLine, mdTable, meanSd } from '../stats.js'
import { recommend } from '../recommend.js'

describe('evidence helpers', () => {
  it('meanSd uses the n − 1 sample deviation', () => {
    const r = meanSd([2, 4, 4, 4, 5, 5, 7, 9])
    expect(r.mean).toBe(5)
    expect(r.sd).toBeCloseTo(Math.sqrt(32 / 7), 12)
    expect(meanSd([3]).sd).toBe(0)
  })
  it('fitLine recovers a power law exponent on log-log data', () => {
    const xs = [1, 2, 4, 8, 16].map(Math.log)
    const ys = [1, 2, 4, 8, 16].map((n) => Math.log(3 * n ** 1.5))
    const f = fitLine(xs, ys)
    expect(f.slope).toBeCloseTo(1.5, 12)
    expect(f.intercept).toBeCloseTo(Math.log(3), 12)
    expect(f.r2).toBeCloseTo(1, 12)
  })
  it('choose gives binomial coefficients', () => {
    expect([choose(12, 4), choose(8, 3), choose(12, 0), choose(5, 5)]).toEqual([495, 56, 1, 1])
  })
  it('countingView counts distinct spans asked and passes scores through', () => {
    let inner = 0
    const base: SpanScorer = {
      name: 'x',
      numBlocks: 4,
      settings: {} as never,
      higherMeansRemovable: true,
      evaluations: 0,
      score: (s, l) => (inner++, s * 10 + l),
    }
    const v = countingView(base)
    expect(v.score(1, 2)).toBe(12)
    v.score(1, 2)
    v.score(0, 1)
    expect(v.asked).toBe(2)
    expect(v.evaluations).toBe(2)
    expect(inner).toBe(3)
  })
  it('firstRows takes the first rows across batches in order', () => {
    const b1 = { batch: 2, seqLen: 2, ids: Int32Array.from([1, 2, 3, 4]) }
    const b2 = { batch: 2, seqLen: 2, ids: Int32Array.from([5, 6, 7, 8]) }
    const r = firstRows([b1, b2], 3)
    expect(r.batch).toBe(3)
    expect([...r.ids]).toEqual([1, 2, 3, 4, 5, 6])
  })
  it('mdTable renders a header, a rule and rows', () => {
    expect(mdTable(['a', 'b'], [[1, 'x']])).toBe('| a | b |\n| --- | --- |\n| 1 | x |')
  })
  it('recommend picks the lowest pruned/dense PPL among candidates within 1.25 passes', () => {
    const base = (method: string, ppl: number) => ({ method, N: 1, ppl })
    const r = recommend([
      {
        model: { path: 'm', numBlocks: 8 },
        dense: { perplexity: 10 },
        settings: { reducer: 'pca:32' },
        quality: [base('mi-prun fbs:a', 12), base('mi-prun fbs:b', 11), base('mi-prun fbs:c', 10.5)],
        stability: [
          { method: 'mi-prun fbs:a', meanJaccard: 1 },
          { method: 'mi-prun fbs:b', meanJaccard: 0.5 },
          { method: 'mi-prun fbs:c', meanJaccard: 1 },
        ],
        cost: [
          { method: 'mi-prun fbs:a', wholeOverPass: 1.1 },
          { method: 'mi-prun fbs:b', wholeOverPass: 1.2 },
          { method: 'mi-prun fbs:c', wholeOverPass: 3 },
        ],
        reducers: [
          { estimator: 'b', reducer: 'pca:16', ppl: [12], meanJaccard: 1, wholeOverPass: 1.1 },
          { estimator: 'b', reducer: 'rp:16', ppl: [11], meanJaccard: 1, wholeOverPass: 1.1 },
        ],
      },
    ])
    // c is best by PPL but costs 3 passes; b beats a
    expect(r.estimator).toBe('b')
    expect(r.reducer).toBe('rp:16')
  })
})
