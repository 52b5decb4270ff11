import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PruneError } from '@mi-prun/core'
import { describeSelector } from '@mi-prun/testkit'
import { setObjective } from '@mi-prun/span-scoring'
import {
  type FbsTrace,
  conflictFreeSelect,
  createFastBlockSelectSelector,
} from '@mi-prun/selector-fast-block-select'
import { randomScorer, residualScorer } from './tables.js'

describeSelector({
  name: 'fast-block-select (residual-like table, T=12)',
  create: () => createFastBlockSelectSelector(),
  context: () => ({ numBlocks: 12, scorer: residualScorer(12, 4) }),
})
describeSelector({
  name: 'fast-block-select (random table, T=10, recompute pool)',
  create: () => createFastBlockSelectSelector({ pool: 'recompute' }),
  context: () => ({ numBlocks: 10, scorer: randomScorer(10, 9) }),
})

const arbCase = fc.record({
  T: fc.integer({ min: 4, max: 20 }),
  seed: fc.integer({ min: 0, max: 10_000 }),
  kind: fc.constantFrom('random', 'residual'),
  frac: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  pool: fc.constantFrom('fixed' as const, 'recompute' as const),
})
const make = (kind: string, T: number, seed: number, calls?: Map<string, number>) =>
  kind === 'random' ? randomScorer(T, seed, calls) : residualScorer(T, seed, calls)

describe('Fast-Block-Select properties', () => {
  it('returns N distinct valid indices and its objective is ≥ the greedy start (top-N by single score)', () => {
    fc.assert(
      fc.property(arbCase, ({ T, seed, kind, frac, pool }) => {
        const N = Math.max(1, Math.min(T - 1, Math.round(frac * T)))
        const scorer = make(kind, T, seed)
        const res = createFastBlockSelectSelector({ pool }).select({ numBlocks: T, scorer }, N)
        const tr = res.trace as FbsTrace
        expect(res.selected.length).toBe(N)
        expect(new Set(res.selected).size).toBe(N)
        expect(res.selected.every((b) => b >= 0 && b < T)).toBe(true)
        const start = setObjective(scorer, tr.initialP)
        const got = setObjective(scorer, res.selected)
        expect(got).toBeGreaterThanOrEqual(start)
        expect(got).toBe(tr.objective)
        // within one iteration the chosen windows never score less than the current ones (current always feasible)
        for (const it of tr.iterations) {
          const chosenSum = it.groups.reduce((a, g) => a + scorer.score(g.chosen[0], g.chosen[1]), 0)
          expect(chosenSum).toBeGreaterThanOrEqual(it.objective)
        }
        expect(['converged', 'cycle', 'max-iterations']).toContain(tr.stop)
      }),
      { numRuns: 150, seed: 1 },
    )
  })

  it('is deterministic: same table, same trace, byte for byte', () => {
    fc.assert(
      fc.property(arbCase, ({ T, seed, kind, frac, pool }) => {
        const N = Math.max(1, Math.min(T - 1, Math.round(frac * T)))
        const a = createFastBlockSelectSelector({ pool }).select(
          { numBlocks: T, scorer: make(kind, T, seed) },
          N,
        )
        const b = createFastBlockSelectSelector({ pool }).select(
          { numBlocks: T, scorer: make(kind, T, seed) },
          N,
        )
        expect(JSON.stringify(b.trace)).toBe(JSON.stringify(a.trace))
        expect(b.selected).toEqual(a.selected)
      }),
      { numRuns: 60, seed: 2 },
    )
  })

  it('never chooses a protected block, nor puts one in P, A or the pool', () => {
    fc.assert(
      fc.property(
        arbCase,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        ({ T, seed, kind, frac }, first, last) => {
          fc.pre(first + last <= T - 2)
          const maxN = T - 1 - first - last
          const N = Math.max(1, Math.min(maxN, Math.round(frac * T)))
          const res = createFastBlockSelectSelector({ protect: { first, last } }).select(
            { numBlocks: T, scorer: make(kind, T, seed) },
            N,
          )
          const tr = res.trace as FbsTrace
          const prot = (b: number): boolean => b < first || b >= T - last
          expect(res.selected.some(prot)).toBe(false)
          expect([...tr.initialP, ...tr.initialA].some(prot)).toBe(false)
          for (const it of tr.iterations) expect(it.pool.some(prot)).toBe(false)
        },
      ),
      { numRuns: 100, seed: 3 },
    )
  })

  it('memoisation never recomputes a span, across FBS and repeated objective queries', () => {
    fc.assert(
      fc.property(arbCase, ({ T, seed, kind, frac, pool }) => {
        const N = Math.max(1, Math.min(T - 1, Math.round(frac * T)))
        const calls = new Map<string, number>()
        const scorer = make(kind, T, seed, calls)
        const sel = createFastBlockSelectSelector({ pool })
        const r1 = sel.select({ numBlocks: T, scorer }, N)
        const r2 = sel.select({ numBlocks: T, scorer }, N)
        setObjective(scorer, r1.selected)
        for (const v of calls.values()) expect(v).toBe(1)
        expect(scorer.evaluations).toBe(calls.size)
        expect(r1.cost.miEvaluations).toBeGreaterThan(0)
        expect(r2.cost.miEvaluations).toBe(0) // everything it needs is cached
        expect(r2.selected).toEqual(r1.selected)
      }),
      { numRuns: 60, seed: 4 },
    )
  })

  it('accepts a ratio budget: N = ⌈T·ratio⌉', () => {
    const res = createFastBlockSelectSelector({ ratio: 0.15 }).select({
      numBlocks: 32,
      scorer: residualScorer(32, 1),
    })
    expect(res.selected.length).toBe(5)
    expect(() =>
      createFastBlockSelectSelector({ ratio: 0.15 }).select(
        { numBlocks: 32, scorer: residualScorer(32, 1) },
        4,
      ),
    ).toThrow(PruneError)
  })

  it('rejects a missing or mismatched scorer and bad options', () => {
    expect(() => createFastBlockSelectSelector().select({ numBlocks: 8 }, 2)).toThrow(/pass context.scorer/)
    expect(() =>
      createFastBlockSelectSelector().select({ numBlocks: 9, scorer: residualScorer(8, 1) }, 2),
    ).toThrow(/scores 8 blocks/)
    expect(() => createFastBlockSelectSelector({ k: 0 })).toThrow(RangeError)
    expect(() => createFastBlockSelectSelector({ maxIterations: 0 })).toThrow(RangeError)
  })
})

describe('conflictFreeSelect', () => {
  const w = (start: number, length: number, value: number) => ({ start, length, value })
  it('finds the best disjoint assignment (adjacency allowed) and keeps the current one on ties', () => {
    const g1 = [w(0, 2, 5), w(2, 2, 9), w(1, 2, 6)]
    const g2 = [w(3, 2, 4), w(4, 2, 3), w(1, 2, 10)]
    // best: g1 [2,4) 9 + g2 [4,6) 3 = 12 vs g1 [0,2) 5 + g2 [3,5) 4 = 9 vs g1 [0,2)+g2 [1,3) overlap ... g1 [2,4)+g2 [1,3) overlap
    // g1 [0,2) 5 + g2 [4,6) 3 = 8; g1 [1,3) 6 + g2 [3,5) 4 = 10; g1 [1,3) + g2 [4,6) = 9; g1 [2,4) + g2 [4,6) = 12 (adjacent: allowed)
    const r = conflictFreeSelect([g1, g2], [0, 0])
    expect(r.choice).toEqual([1, 1])
    expect(r.total).toBe(12)
    expect(r.method).toBe('exact')
    const tie = conflictFreeSelect([[w(0, 1, 1), w(1, 1, 1)]], [1])
    expect(tie.choice).toEqual([1])
  })
  it('switches to greedy with backtracking above exactLimit and never returns less than the initial choice', () => {
    const g1 = [w(0, 2, 5), w(2, 2, 9)]
    const g2 = [w(3, 2, 8), w(6, 2, 1)]
    const r = conflictFreeSelect([g1, g2], [0, 1], 1)
    expect(r.method).toBe('greedy')
    // greedy: g1 best [2,4) 9, then g2 [3,5) overlaps → backtrack to [6,8) 1: total 10 ≥ initial 5+1 = 6
    expect(r.total).toBe(10)
    expect(conflictFreeSelect([g1, g2], [0, 1]).total).toBe(13) // exact: [0,2) 5 + [3,5) 8
  })
})
