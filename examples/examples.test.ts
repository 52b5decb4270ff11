// Runs every example as a user would and checks its numbers against answers computed independently.
import { describe, expect, it } from 'vitest'
import { averageRanks } from '@mi-prun/span-scoring'
import { customSelector } from './custom-selector.js'
import { analyticSpanMi, loadDump } from './load-dump.js'
import { mixEstimators } from './mix-estimators.js'
import { spearman } from './reference.js'

describe('examples/mix-estimators.ts', () => {
  it('scores the 8 blocks of gpt2-kjv with KSG, Gaussian+PCA and their mean-rank ensemble', async () => {
    const r = await mixEstimators()
    expect(r.numBlocks).toBe(8)
    expect(r.samples).toBe(200)
    for (const v of [...r.ksg, ...r.gaussian]) expect(Number.isFinite(v) && v > 0).toBe(true)
    // the ensemble is the mean of the members' ascending ranks (both: higher MI = more removable)
    const rk = averageRanks(r.ksg)
    const rg = averageRanks(r.gaussian)
    r.ensemble.forEach((e, i) => expect(e).toBeCloseTo((rk[i]! + rg[i]!) / 2, 12))
    expect(r.agreement.ksgVsGaussian).toBeCloseTo(spearman(r.ksg, r.gaussian), 12)
    // Gaussian MI with a bias-corrected log-det on PCA-16 exceeds KSG's k-NN estimate on every block
    r.ksg.forEach((k, i) => expect(r.gaussian[i]!).toBeGreaterThan(k))
  })
})

describe('examples/custom-selector.ts', () => {
  it('removes the two least-changing non-adjacent blocks and evaluates perplexity with them skipped', async () => {
    const r = await customSelector()
    expect(r.custom).toHaveLength(2)
    expect(r.custom[1]! - r.custom[0]!).toBeGreaterThan(1)
    // independent check: the greedy non-adjacent choice from the printed per-block changes
    const order = r.change.map((v, j) => ({ v, j })).sort((a, b) => a.v - b.v || a.j - b.j)
    const chosen: number[] = []
    for (const { j } of order)
      if (chosen.length < 2 && chosen.every((c) => Math.abs(c - j) > 1)) chosen.push(j)
    expect([...r.custom]).toEqual(chosen.sort((a, b) => a - b))
    expect(r.tokens).toBe(4 * 63)
    expect(r.ppl.dense).toBeGreaterThan(1)
    // skipping two of eight trained blocks cannot improve this model much and must not break it
    expect(r.ppl.custom).toBeGreaterThan(r.ppl.dense * 0.9)
    expect(r.ppl.custom).toBeLessThan(r.ppl.dense * 3)
  })
})

describe('examples/load-dump.ts', () => {
  it('round-trips a safetensors dump and recovers the analytic block MI of a Gaussian residual stream', async () => {
    const r = await loadDump()
    expect(r).toMatchObject({ numBlocks: 6, d: 4, samples: 1500 })
    expect(r.analytic[0]).toBeCloseTo(2 * Math.log(2), 12) // V_0 = 1, s_0 = 1
    r.estimated.forEach((v, j) => expect(Math.abs(v - r.analytic[j]!)).toBeLessThan(0.15))
    expect(analyticSpanMi(3, 2, 4)).toBeCloseTo(2 * Math.log(1 + 6.09 / 0.3125), 12)
    expect([...r.optimum]).toEqual([1, 4])
    expect(r.fbs).toHaveLength(2)
    expect(Number.isFinite(r.fbsObjective)).toBe(true)
    // the exhaustive optimum of the analytic objective is also at least as good under the estimated MI
    expect(r.optimumObjective).toBeGreaterThanOrEqual(r.fbsObjective)
    expect(Math.abs(r.optimumObjective - (analyticSpanMi(1, 1, 4) + analyticSpanMi(4, 1, 4)))).toBeLessThan(
      0.2,
    )
  })
})
