import { describe, expect, it } from 'vitest'
import { type BlockIndex, PruneError, createRng } from '@mi-prun/core'
import { describeSelector } from '@mi-prun/testkit'
import { createSpanScorer } from '@mi-prun/span-scoring'
import {
  binomial,
  createBestWindowSelector,
  createExactMiSelector,
  createExactPerplexitySelector,
  createPerplexityRankSelector,
  createRandomSelector,
  createSlebSelector,
  createTopNSelector,
  forEachSubset,
} from '@mi-prun/selector-baselines'

/** Residual-like Gaussian-chain MI table (higher = removable), as in the FBS tests. */
function chainScorer(T: number, seed: number, higher = true) {
  const rng = createRng(seed)
  const v = Array.from({ length: T }, () => Math.exp(1.5 * rng.normal() - 1))
  const V = [1]
  for (let i = 0; i < T; i++) V.push(V[i]! + v[i]!)
  return createSpanScorer({
    name: 'chain',
    numBlocks: T,
    settings: { kind: 'chain', seed },
    higherMeansRemovable: higher,
    evaluate: (j, L) => {
      let s = 0
      for (let b = j; b < j + L; b++) s += v[b]!
      const mi = 0.5 * Math.log(1 + V[j]! / s)
      return higher ? mi : 1 / (1 + mi) // a distance-like score when lower = removable
    },
  })
}

/** A synthetic calibration loss: base + per-block damage + a penalty for removing neighbours together. */
function lossModel(T: number, seed: number) {
  const rng = createRng(seed)
  const c = Array.from({ length: T }, () => rng.nextDouble())
  let calls = 0
  const objective = async (removed: readonly BlockIndex[]): Promise<number> => {
    calls++
    const R = new Set(removed)
    let loss = 2
    for (const i of R) loss += c[i]! + (R.has(i - 1) ? 0.4 * c[i - 1]! * c[i]! + 0.05 : 0)
    return loss
  }
  return { objective, c, calls: () => calls }
}

describeSelector({
  name: 'top-n',
  create: () => createTopNSelector(),
  context: () => ({ numBlocks: 12, scorer: chainScorer(12, 1) }),
})
describeSelector({
  name: 'best-window',
  create: () => createBestWindowSelector(),
  context: () => ({ numBlocks: 12, scorer: chainScorer(12, 2, false) }),
})
describeSelector({
  name: 'random',
  create: (seed) => createRandomSelector({ seed }),
  context: () => ({ numBlocks: 12 }),
})
describeSelector({
  name: 'random contiguous',
  create: (seed) => createRandomSelector({ seed, contiguous: true }),
  context: () => ({ numBlocks: 12 }),
})
describeSelector({
  name: 'sleb',
  create: () => createSlebSelector(),
  context: () => ({ numBlocks: 9, objective: lossModel(9, 3).objective }),
  maxBudget: 6,
  runs: 6,
})
describeSelector({
  name: 'ppl-rank',
  create: () => createPerplexityRankSelector(),
  context: () => ({ numBlocks: 10, objective: lossModel(10, 4).objective }),
})
describeSelector({
  name: 'exact-mi',
  create: () => createExactMiSelector(),
  context: () => ({ numBlocks: 10, scorer: chainScorer(10, 5) }),
})
describeSelector({
  name: 'exact-mi (dynamic programming)',
  create: () => createExactMiSelector({ algorithm: 'dynamic-programming' }),
  context: () => ({ numBlocks: 12, scorer: chainScorer(12, 6) }),
})
describeSelector({
  name: 'exact-ppl',
  create: () => createExactPerplexitySelector(),
  context: () => ({ numBlocks: 8, objective: lossModel(8, 6).objective }),
  runs: 6,
})

/** Independent brute force: every k-subset of 0..T−1 not touching `prot`, recursively. */
function allSubsets(T: number, k: number, prot: ReadonlySet<number> = new Set()): number[][] {
  const out: number[][] = []
  const rec = (i: number, cur: number[]): void => {
    if (cur.length === k) return void out.push([...cur])
    if (i >= T) return
    if (!prot.has(i)) rec(i + 1, [...cur, i])
    rec(i + 1, cur)
  }
  rec(0, [])
  return out
}

describe('score-based baselines: known answers', () => {
  it('top-n removes the N most removable blocks, applying the scorer’s direction', () => {
    const s = createSpanScorer({
      name: 'bi',
      numBlocks: 6,
      settings: { kind: 'bi' },
      higherMeansRemovable: false,
      evaluate: (j) => [0.5, 0.1, 0.3, 0.05, 0.3, 0.9][j]!,
    })
    const r = createTopNSelector().select({ numBlocks: 6, scorer: s }, 3)
    expect(r.order).toEqual([3, 1, 2]) // lowest BI first; tie 0.3 (blocks 2, 4) → lower index
    expect(r.selected).toEqual([1, 2, 3])
    const hi = createSpanScorer({
      name: 'mi',
      numBlocks: 6,
      settings: { kind: 'mi' },
      higherMeansRemovable: true,
      evaluate: (j) => [0.5, 0.1, 0.3, 0.05, 0.3, 0.9][j]!,
    })
    expect(
      createTopNSelector({ protect: { last: 1 } }).select({ numBlocks: 6, scorer: hi }, 2).selected,
    ).toEqual([0, 2])
  })

  it('best-window takes argmin of angular distance / argmax of cosine over windows of length N', () => {
    const d = createSpanScorer({
      name: 'ang',
      numBlocks: 6,
      settings: { kind: 'a' },
      higherMeansRemovable: false,
      evaluate: (j, L) => (L === 3 ? [0.4, 0.2, 0.3, 0.2][j]! : 1),
    })
    const r = createBestWindowSelector().select({ numBlocks: 6, scorer: d }, 3)
    expect(r.selected).toEqual([1, 2, 3]) // tie 0.2 at starts 1 and 3 → lower start
    expect(r.cost.miEvaluations).toBe(4)
    expect(
      createBestWindowSelector({ protect: { blocks: [2] } }).select({ numBlocks: 6, scorer: d }, 3).selected,
    ).toEqual([3, 4, 5])
    const cos = createSpanScorer({
      name: 'cos',
      numBlocks: 6,
      settings: { kind: 'c' },
      higherMeansRemovable: true,
      evaluate: (j, L) => (L === 2 ? [0.1, 0.9, 0.2, 0.3, 0.95][j]! : 0),
    })
    expect(createBestWindowSelector().select({ numBlocks: 6, scorer: cos }, 2).selected).toEqual([4, 5])
    expect(() =>
      createBestWindowSelector({ protect: { blocks: [2, 4] } }).select({ numBlocks: 6, scorer: d }, 3),
    ).toThrow(expect.objectContaining({ code: 'INFEASIBLE_BUDGET' }))
  })

  it('random draws uniformly: each of 10 blocks chosen ≈ N/T of the time over seeds', () => {
    const counts = new Array(10).fill(0)
    for (let seed = 0; seed < 2000; seed++)
      for (const b of createRandomSelector({ seed }).select({ numBlocks: 10 }, 3).selected) counts[b]++
    // expected 600 each; binomial sd ≈ 20.5 → ±5 sd
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(103)
    const starts = new Array(8).fill(0)
    for (let seed = 0; seed < 1600; seed++)
      starts[createRandomSelector({ seed, contiguous: true }).select({ numBlocks: 10 }, 3).selected[0]!]++
    for (const c of starts) expect(Math.abs(c - 200)).toBeLessThan(71)
  })

  it('exact-mi enumerates C(T,N) subsets, says so, refuses above the cap, and agrees with brute force', () => {
    const T = 10
    const s = chainScorer(T, 8)
    const r = createExactMiSelector().select({ numBlocks: T, scorer: s }, 4)
    const obj = (set: number[]): number => {
      let v = 0
      let i = 0
      while (i < set.length) {
        let j = i
        while (j + 1 < set.length && set[j + 1] === set[j]! + 1) j++
        v += s.score(set[i]!, j - i + 1)
        i = j + 1
      }
      return v
    }
    const all = allSubsets(T, 4)
    const best = all.reduce((a, b) => (obj(b) > obj(a) ? b : a))
    expect(r.selected).toEqual(best)
    expect((r.trace as { combinations: number }).combinations).toBe(210)
    // every span of length ≤ 4 is touched once: Σ_{L=1..4} (T − L + 1) = 10 + 9 + 8 + 7
    expect(r.cost.miEvaluations).toBe(34)
    expect(() =>
      createExactMiSelector({ maxCombinations: 209 }).select({ numBlocks: T, scorer: chainScorer(T, 8) }, 4),
    ).toThrow(/C\(10, 4\) = 210/)
    // the dynamic program has no cap and finds the same set on a 32-block model
    const big = chainScorer(32, 9)
    const dp = createExactMiSelector({ algorithm: 'dynamic-programming', maxCombinations: 1 }).select(
      { numBlocks: 32, scorer: big },
      5,
    )
    expect(dp.cost.miEvaluations).toBeLessThanOrEqual(150)
    expect(dp.selected.length).toBe(5)
  })

  it('binomial and forEachSubset count and list subsets in lexicographic order', () => {
    expect(binomial(32, 5)).toBe(201376)
    expect(binomial(12, 4)).toBe(495)
    const seen: string[] = []
    forEachSubset([2, 5, 7, 9], 2, (s) => seen.push(s.join('-')))
    expect(seen).toEqual(['2-5', '2-7', '2-9', '5-7', '5-9', '7-9'])
  })
})

describe('loss-based baselines against brute force (synthetic loss)', () => {
  it('SLEB: every step removes the argmin of L(R ∪ {j}) over alive non-barrier blocks; passes = Σ (C − i)', async () => {
    const T = 9
    const m = lossModel(T, 11)
    const r = await createSlebSelector().select({ numBlocks: T, objective: m.objective }, 4)
    const R: number[] = []
    for (let step = 0; step < 4; step++) {
      let best = -1
      let bestL = Infinity
      for (let j = 1; j < T - 1; j++) {
        if (R.includes(j)) continue
        const l = await m.objective([...R, j].sort((a, b) => a - b))
        if (l < bestL) {
          bestL = l
          best = j
        }
      }
      R.push(best)
    }
    expect(r.order).toEqual(R)
    expect(r.selected).toEqual([...R].sort((a, b) => a - b))
    expect(r.cost.forwardPasses).toBe(7 + 6 + 5 + 4)
    expect(r.selected).not.toContain(0)
    expect(r.selected).not.toContain(T - 1)
    await expect(createSlebSelector().select({ numBlocks: T, objective: m.objective }, 7)).rejects.toThrow(
      expect.objectContaining({ code: 'INFEASIBLE_BUDGET' }),
    )
  })

  it('ppl-rank removes the N blocks with the lowest single-removal loss, one pass per candidate', async () => {
    const T = 10
    const m = lossModel(T, 12)
    const r = await createPerplexityRankSelector({ protect: { first: 2, last: 1 } }).select(
      { numBlocks: T, objective: m.objective },
      3,
    )
    const ranked = [2, 3, 4, 5, 6, 7, 8].sort((a, b) => m.c[a]! - m.c[b]! || a - b)
    expect(r.order).toEqual(ranked.slice(0, 3))
    expect(r.cost.forwardPasses).toBe(7)
    const tr = r.trace as { perplexities: Array<{ block: number; ppl: number; loss: number }> }
    expect(tr.perplexities[0]!.ppl).toBeCloseTo(Math.exp(2 + m.c[2]!), 12)
  })

  it('exact-ppl returns the brute-force minimum with C(candidates, N) passes and refuses above the cap', async () => {
    const T = 8
    const m = lossModel(T, 13)
    const prot = new Set([0])
    const plans: number[] = []
    const r = await createExactPerplexitySelector({ onPlan: (p) => plans.push(p.combinations) }).select(
      { numBlocks: T, objective: m.objective, protectedBlocks: [0] },
      3,
    )
    expect(plans).toEqual([35])
    let best: number[] = []
    let bestL = Infinity
    for (const s of allSubsets(T, 3, prot)) {
      const l = await m.objective(s)
      if (l < bestL) {
        bestL = l
        best = s
      }
    }
    expect(r.selected).toEqual(best)
    expect(r.cost.forwardPasses).toBe(35)
    await expect(
      createExactPerplexitySelector({ maxCombinations: 34 }).select(
        { numBlocks: T, objective: m.objective, protectedBlocks: [0] },
        3,
      ),
    ).rejects.toThrow(PruneError)
    // the greedy SLEB result is never better than the oracle
    const sleb = await createSlebSelector({ earlyBarrier: 1, latterBarrier: 0 }).select(
      { numBlocks: T, objective: m.objective },
      3,
    )
    expect(await m.objective(sleb.selected)).toBeGreaterThanOrEqual(bestL)
  })

  it('loss-based selectors need an objective', async () => {
    await expect(createSlebSelector().select({ numBlocks: 8 }, 2)).rejects.toThrow(/context.objective/)
  })
})
