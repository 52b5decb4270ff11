import { describe, expect, it } from 'vitest'
import { createFastBlockSelectSelector, type FbsTrace } from '@mi-prun/selector-fast-block-select'
import { tableScorer } from './tables.js'

// The paper's worked example (Llama-2-7B, T = 32, N = 5, method.md §3): P0 = {23,24,26,27,28},
// A = {20,21,22,25,29}, converging in two iterations to {24..28}. The paper's MI values are not published,
// so this table is constructed to reproduce its structure. What is taken from the paper: P0, A, the pool
// {20..29}, two iterations, convergence to {24..28}, a second-iteration window containing block 23 (which left
// P: the reason for the fixed pool, method.md §4a), and "about 48" MI evaluations (here 32 + 11 + 6 = 49).
// K follows method.md §4b (K = min(⌊ln L⌋ + 5, |C|): 5, 6, 6); the paper's figure does not fit one formula.
// All values are multiples of 1/8, so every sum is exact and the J orders below have no floating-point ties.
const e = (n: number): number => n / 8
function exampleTable(): { singles: number[]; spans: Map<string, number> } {
  const singles = Array.from({ length: 32 }, (_, i) => e(i)) // unimportant blocks: MI ≤ 31/8
  const top: Record<number, number> = {
    23: 50,
    24: 49,
    26: 48,
    27: 47,
    28: 46,
    25: 45,
    29: 41,
    20: 40,
    21: 39,
    22: 38,
  }
  for (const [b, v] of Object.entries(top)) singles[Number(b)] = e(v)
  const spans = new Map<string, number>()
  const set = (L: number, vals: Record<number, number>): void => {
    for (const [j, v] of Object.entries(vals)) spans.set(`${j}:${L}`, e(v))
  }
  set(2, { 23: 8, 26: 7, 24: 9, 25: 6, 27: 5, 22: 1, 28: 1, 20: 1, 21: 1 })
  set(3, { 23: 6, 24: 5, 26: 10, 25: 4, 22: 3, 27: 7, 21: 1, 20: 1 })
  set(5, { 24: 20, 23: 15, 22: 12, 25: 14, 21: 8, 20: 6 })
  return { singles, spans }
}

describe('Fast-Block-Select replays the paper’s worked example (T=32, N=5)', () => {
  const { singles, spans } = exampleTable()
  const scorer = tableScorer(singles, spans)
  const sel = createFastBlockSelectSelector()
  const res = sel.select({ numBlocks: 32, scorer }, 5)
  const tr = res.trace as FbsTrace

  it('starts from P0 = {23,24,26,27,28} and A = {20,21,22,25,29}', () => {
    expect(tr.initialP).toEqual([23, 24, 26, 27, 28])
    expect(tr.initialA).toEqual([20, 21, 22, 25, 29])
    expect(tr.M).toBe(5)
    expect(tr.iterations[0]!.pool).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
  })

  it('iteration 1: groups {23,24} (L=2, K=5) and {26,27,28} (L=3, K=6) with the J orders of the table', () => {
    const it1 = tr.iterations[0]!
    expect(it1.P).toEqual([23, 24, 26, 27, 28])
    expect(it1.groups.map((g) => [g.start, g.length, g.candidates, g.K])).toEqual([
      [23, 2, 9, 5],
      [26, 3, 8, 6],
    ])
    // ascending J = descending Σ single MI (ties: lower start)
    expect(it1.groups[0]!.windows.map((w) => w.start)).toEqual([23, 26, 24, 25, 27, 22, 28, 20, 21])
    expect(it1.groups[1]!.windows.map((w) => w.start)).toEqual([23, 24, 26, 25, 22, 27, 21, 20])
    expect(it1.groups[0]!.windows[0]!.J).toBe(-e(50 + 49))
    expect(it1.groups[0]!.windows.filter((w) => w.evaluated).map((w) => w.start)).toEqual([
      23, 26, 24, 25, 27,
    ])
    expect(it1.groups[1]!.windows.filter((w) => w.evaluated).map((w) => w.start)).toEqual([
      23, 24, 26, 25, 22, 27,
    ])
    expect(it1.groups[0]!.windows.find((w) => w.start === 24)!.score).toBe(e(9))
    expect(it1.groups.map((g) => g.chosen)).toEqual([
      [24, 2],
      [26, 3],
    ])
    expect(it1.method).toBe('exact')
    expect(it1.combinations).toBe(30)
    expect(it1.objective).toBe(e(8 + 10))
    expect(it1.next).toEqual([24, 25, 26, 27, 28])
  })

  it('iteration 2: the groups merged into {24..28} (L=5, K=6), a window holds block 23 that left P, and P is unchanged', () => {
    const it2 = tr.iterations[1]!
    expect(it2.groups.map((g) => [g.start, g.length, g.candidates, g.K])).toEqual([[24, 5, 6, 6]])
    expect(it2.groups[0]!.windows.map((w) => w.start)).toEqual([23, 24, 22, 25, 21, 20])
    expect(it2.next).toEqual([24, 25, 26, 27, 28])
    expect(it2.objective).toBe(e(20))
  })

  it('converges to {24..28} in two iterations with 49 MI evaluations (32 blocks + 5 + 6 + 6 spans)', () => {
    expect(res.selected).toEqual([24, 25, 26, 27, 28])
    expect(tr.iterations.length).toBe(2)
    expect(tr.stop).toBe('converged')
    expect(res.cost.miEvaluations).toBe(49)
    expect(scorer.evaluations).toBe(49)
    expect(tr.iterations.map((i) => i.miEvaluations)).toEqual([32 + 11, 49])
    expect(JSON.parse(JSON.stringify(res.trace))).toEqual(res.trace)
  })

  it("the 'recompute' pool gives the same run here (P1 ∪ its 5 best outsiders is the same pool)", () => {
    const r2 = createFastBlockSelectSelector({ pool: 'recompute' }).select(
      { numBlocks: 32, scorer: tableScorer(singles, spans) },
      5,
    )
    expect(r2.selected).toEqual([24, 25, 26, 27, 28])
    expect((r2.trace as FbsTrace).iterations[1]!.pool).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29])
  })

  it('with k = 1, K shrinks to ⌊ln L⌋ + 1 (1, 2, 2) and the current window is still evaluated', () => {
    const r = createFastBlockSelectSelector({ k: 1 }).select(
      { numBlocks: 32, scorer: tableScorer(singles, spans) },
      5,
    )
    const t = r.trace as FbsTrace
    expect(t.iterations[0]!.groups.map((g) => g.K)).toEqual([1, 2])
    // L=2: only [23,25) is in the top 1 and it is also the current window; L=3: top 2 are 23, 24, plus current 26
    expect(
      t.iterations[0]!.groups[1]!.windows.filter((w) => w.evaluated).map((w) => [w.start, w.evaluated]),
    ).toEqual([
      [23, 'top-k'],
      [24, 'top-k'],
      [26, 'current'],
    ])
  })
})

describe("keep: 'best' vs 'last' when merging windows lowers the span objective", () => {
  it('returns the best visited set by default and the final P on request', () => {
    const { singles, spans } = exampleTable()
    // the merged run [24, 29) now scores far less than the two windows it came from (as DPI-consistent MI would)
    for (const j of [20, 21, 22, 23, 25]) spans.set(`${j}:5`, e(1))
    spans.set('24:5', e(2))
    const best = createFastBlockSelectSelector().select(
      { numBlocks: 32, scorer: tableScorer(singles, spans) },
      5,
    )
    const tb = best.trace as FbsTrace
    expect(tb.final).toEqual([24, 25, 26, 27, 28])
    expect(tb.finalObjective).toBe(e(2))
    expect(best.selected).toEqual([23, 24, 26, 27, 28]) // P0, objective 18/8
    expect(tb.objective).toBe(e(18))
    const last = createFastBlockSelectSelector({ keep: 'last' }).select(
      { numBlocks: 32, scorer: tableScorer(singles, spans) },
      5,
    )
    expect(last.selected).toEqual([24, 25, 26, 27, 28])
    expect((last.trace as FbsTrace).returned).toBe('last')
  })
})
