import { describe, expect, it } from 'vitest'
import { createExactMiSelector, createTopNSelector, forEachSubset } from '@mi-prun/selector-baselines'
import { maximalRuns, setObjective } from '@mi-prun/span-scoring'
import { type FbsTrace, createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'
import { randomScorer, residualScorer } from './tables.js'

// method.md §6, claim 1: Fast-Block-Select vs exact search of the same span objective on synthetic tables,
// T = 8..16 (even), N = 2..⌊T/2⌋, 12 seeds per (T, N), two table families. A case is "optimal" when FBS's
// objective equals the exact optimum within 1e-12 (relative). The measured rates are asserted as floors.
interface Tally {
  cases: number
  optimal: number
  greedyOptimal: number
  improvedOverGreedy: number
  gapSum: number
  fbsEvals: number
  exactEvals: number
  iterations: number
  stops: Record<string, number>
  sameStructureOptimal: number
}

const signature = (blocks: readonly number[]): string =>
  maximalRuns(blocks)
    .map((r) => r[1])
    .sort((a, b) => a - b)
    .join(',')

function measure(kind: 'random' | 'residual'): Tally {
  const t: Tally = {
    cases: 0,
    optimal: 0,
    greedyOptimal: 0,
    improvedOverGreedy: 0,
    gapSum: 0,
    fbsEvals: 0,
    exactEvals: 0,
    iterations: 0,
    stops: {},
    sameStructureOptimal: 0,
  }
  for (let T = 8; T <= 16; T += 2) {
    for (let N = 2; N <= T / 2; N++) {
      for (let seed = 0; seed < 12; seed++) {
        const s = 1000 * T + 100 * N + seed
        const mk = () => (kind === 'random' ? randomScorer(T, s) : residualScorer(T, s))
        const fs = mk()
        const fbs = createFastBlockSelectSelector().select({ numBlocks: T, scorer: fs }, N)
        const es = mk()
        const ex = createExactMiSelector().select({ numBlocks: T, scorer: es }, N)
        const gs = mk()
        const greedy = createTopNSelector().select({ numBlocks: T, scorer: gs }, N)
        const vF = setObjective(es, fbs.selected)
        const vE = setObjective(es, ex.selected)
        const vG = setObjective(es, greedy.selected)
        const tol = 1e-12 * Math.max(1, Math.abs(vE))
        expect(vF).toBeLessThanOrEqual(vE + tol) // the oracle is an upper bound
        t.cases++
        if (vF >= vE - tol) t.optimal++
        if (vG >= vE - tol) t.greedyOptimal++
        if (vF > vG + tol) t.improvedOverGreedy++
        t.gapSum += (vE - vF) / Math.max(Math.abs(vE), 1e-12)
        t.fbsEvals += fbs.cost.miEvaluations
        t.exactEvals += ex.cost.miEvaluations
        const tr = fbs.trace as FbsTrace
        // the best set with the greedy start's run structure (FBS moves windows but never splits a run)
        const sig = signature(tr.initialP)
        let vS = Number.NEGATIVE_INFINITY
        forEachSubset([...Array(T).keys()], N, (sub) => {
          if (signature(sub) === sig) vS = Math.max(vS, setObjective(es, sub))
        })
        if (vF >= vS - tol) t.sameStructureOptimal++
        // the dynamic program finds the same optimum as enumeration
        const dp = createExactMiSelector({ algorithm: 'dynamic-programming' }).select(
          { numBlocks: T, scorer: es },
          N,
        )
        expect(dp.selected).toEqual(ex.selected)
        t.iterations += tr.iterations.length
        t.stops[tr.stop] = (t.stops[tr.stop] ?? 0) + 1
      }
    }
  }
  return t
}

function report(kind: string, t: Tally): void {
  console.log(
    `[fbs-vs-exact] ${kind}: cases=${t.cases} fbsOptimal=${((100 * t.optimal) / t.cases).toFixed(1)}% greedyOptimal=${((100 * t.greedyOptimal) / t.cases).toFixed(1)}% ` +
      `fbsBeatsGreedy=${((100 * t.improvedOverGreedy) / t.cases).toFixed(1)}% meanRelGap=${(t.gapSum / t.cases).toFixed(4)} ` +
      `fbs≥sameStructureOpt=${((100 * t.sameStructureOptimal) / t.cases).toFixed(1)}% meanEvals fbs=${(t.fbsEvals / t.cases).toFixed(1)} exact=${(t.exactEvals / t.cases).toFixed(1)} meanIter=${(t.iterations / t.cases).toFixed(2)} stops=${JSON.stringify(t.stops)}`,
  )
}

describe('Fast-Block-Select vs exact search of the MI objective (T = 8..16)', () => {
  it('residual-like tables (Gaussian chain MI, DPI-consistent)', () => {
    const t = measure('residual')
    report('residual', t)
    expect(t.cases).toBe(300)
    expect(t.optimal).toBeGreaterThanOrEqual(FLOOR.residual)
    expect(t.sameStructureOptimal).toBeGreaterThanOrEqual(FLOOR.residualSameStructure)
    expect(t.fbsEvals).toBeLessThan(t.exactEvals)
  })
  it('random tables (i.i.d. span scores)', () => {
    const t = measure('random')
    report('random', t)
    expect(t.cases).toBe(300)
    expect(t.optimal).toBeGreaterThanOrEqual(FLOOR.random)
    expect(t.sameStructureOptimal).toBeGreaterThanOrEqual(FLOOR.randomSameStructure)
    expect(t.fbsEvals).toBeLessThan(t.exactEvals)
  })
})

// Measured counts out of 300 cases each (the run is deterministic, so these are exact):
// residual: FBS optimal 84 (28.0 %, greedy top-N alone 28.0 %), ≥ same-structure optimum 243 (81.0 %);
// random:   FBS optimal 101 (33.7 %, greedy 33.3 %), ≥ same-structure optimum 141 (47.0 %).
// Mean MI evaluations per case: FBS 17.8, exact (enumeration or DP, memoised) 47.4.
// Why so low: the sum-over-runs objective rewards splitting a run (for DPI-consistent MI, a merged span scores
// at most its weakest part), while FBS keeps the run lengths of its greedy start and can only move windows.
const FLOOR = { residual: 84, random: 101, residualSameStructure: 243, randomSameStructure: 141 }
