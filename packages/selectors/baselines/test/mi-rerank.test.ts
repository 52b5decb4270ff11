import { describe, expect, it } from 'vitest'
import { type BlockIndex, PruneError } from '@mi-prun/core'
import { describeSelector } from '@mi-prun/testkit'
import { createSpanScorer } from '@mi-prun/span-scoring'
import { createExactMiSelector, createMiRerankSelector } from '@mi-prun/selector-baselines'

/** Additive MI table: span score = Σ per-block values (higher = removable), so set MI = Σ mi[b]. */
function additiveScorer(mi: readonly number[]) {
  return createSpanScorer({
    name: 'additive',
    numBlocks: mi.length,
    settings: { kind: 'additive' },
    higherMeansRemovable: true,
    evaluate: (j, L) => {
      let s = 0
      for (let b = j; b < j + L; b++) s += mi[b]!
      return s
    },
  })
}

/** Loss = 2 + Σ damage[b]; counts calls of each kind. */
function lossOf(damage: readonly number[]) {
  const calls = { full: 0, partial: 0, starts: [] as number[] }
  const loss = (removed: readonly BlockIndex[]) => 2 + removed.reduce((a, b) => a + damage[b]!, 0)
  return {
    calls,
    objective: async (removed: readonly BlockIndex[]) => (calls.full++, loss(removed)),
    objectiveFrom: async (removed: readonly BlockIndex[], start: BlockIndex) => {
      calls.partial++
      calls.starts.push(start)
      expect(start).toBe(Math.min(...removed))
      return loss(removed)
    },
  }
}

//            block: 0    1    2    3    4    5    6    7
const MI = /*   */ [9.0, 5.0, 4.0, 3.0, 1.0, 0.5, 0.2, 8.0]
const DAMAGE = /**/ [5.0, 1.0, 0.9, 0.1, 0.2, 0.3, 0.4, 5.0]

describeSelector({
  name: 'mi-rerank',
  create: () => createMiRerankSelector(),
  context: () => ({ numBlocks: 8, scorer: additiveScorer(MI), ...lossOf(DAMAGE) }),
  maxBudget: 4,
})

describe('mi-rerank', () => {
  it('re-ranks the MI shortlist by calibration loss: the known answer', async () => {
    // Ends protected: MI order of 2-sets over {1..6}: {1,2}=9, {1,3}=8, {2,3}=7, {1,4}=6, ...
    // losses: {1,2}=3.9, {1,3}=3.1, {2,3}=3.0, {1,4}=3.2, ... With budget N+2 = 4 and partial forwards,
    // the running cost 1 + Σ (8 − start − 2)/8 reaches exactly 4 after 5 sets, and the lowest loss among
    // them is {2,3} (rank 2).
    const l = lossOf(DAMAGE)
    const sel = await createMiRerankSelector().select(
      { numBlocks: 8, scorer: additiveScorer(MI), objectiveFrom: l.objectiveFrom } as never,
      2,
    )
    expect(sel.selected).toEqual([2, 3])
    const trace = sel.trace as {
      chosenRank: number
      evaluated: Array<{ removed: number[] }>
      endPolicy: string
    }
    expect(trace.endPolicy).toBe('protect')
    expect(trace.chosenRank).toBe(2)
    expect(trace.evaluated.map((e) => e.removed)).toEqual([
      [1, 2],
      [1, 3],
      [2, 3],
      [1, 4],
      [1, 5],
    ])
    // exact cost: 1 + Σ (T − start − N)/T over the evaluated sets
    const expected = 1 + [1, 1, 2, 1, 1].reduce((a, s) => a + (8 - s - 2) / 8, 0)
    expect(expected).toBe(4)
    expect(sel.cost.forwardPasses).toBeCloseTo(expected, 12)
    expect((sel.trace as { blockEvaluations: number }).blockEvaluations).toBe(8 + 24)
    expect((sel.trace as { skippedForBudget: number }).skippedForBudget).toBe(3)
    expect(l.calls.partial).toBe(5)
    expect(l.calls.full).toBe(0)
    // the exact MI optimum alone would pick {1,2} (loss 3.9) — and with the ends allowed, {0,7}
    const exact = createExactMiSelector({ protect: { first: 1, last: 1 } }).select(
      { numBlocks: 8, scorer: additiveScorer(MI) },
      2,
    )
    expect(exact.selected).toEqual([1, 2])
  })

  it("'allow' lets block 0 and T−1 in: the MI shortlist fills with them and the loss can only pick among them", async () => {
    const l = lossOf(DAMAGE)
    const sel = await createMiRerankSelector({ endPolicy: 'allow' }).select(
      { numBlocks: 8, scorer: additiveScorer(MI), objectiveFrom: l.objectiveFrom } as never,
      2,
    )
    const trace = sel.trace as { evaluated: Array<{ removed: number[] }> }
    expect(trace.evaluated[0]!.removed).toEqual([0, 7])
    // MI 17, 14, 13, 13 (tie: lexicographic); losses 12, 8, 7.9, 8; cost 1 + .75 + .75 + .75 + .625 = 3.875
    expect(trace.evaluated.map((e) => e.removed)).toEqual([
      [0, 7],
      [0, 1],
      [0, 2],
      [1, 7],
    ])
    expect(sel.selected).toEqual([0, 2])
    expect(sel.cost.forwardPasses).toBeCloseTo(3.875, 12)
  })

  it('without objectiveFrom every set costs a full pass and the budget caps the shortlist at N + 1', async () => {
    const l = lossOf(DAMAGE)
    const sel = await createMiRerankSelector().select(
      { numBlocks: 8, scorer: additiveScorer(MI), objective: l.objective },
      2,
    )
    expect(l.calls.full).toBe(3)
    expect(sel.cost.forwardPasses).toBe(4)
    // shortlist {1,2},{1,3},{2,3}: the loss picks {2,3}
    expect(sel.selected).toEqual([2, 3])
    expect((sel.trace as { skippedForBudget: number }).skippedForBudget).toBe(5)
  })

  it('shortlist 1 is the exact MI optimum', async () => {
    const l = lossOf(DAMAGE)
    const sel = await createMiRerankSelector({ shortlist: 1 }).select(
      { numBlocks: 8, scorer: additiveScorer(MI), objectiveFrom: l.objectiveFrom } as never,
      2,
    )
    expect(sel.selected).toEqual([1, 2])
  })

  it('refuses unknown options and bad values by name', () => {
    expect(() => createMiRerankSelector({ shortlst: 3 } as never)).toThrow(/shortlst/)
    expect(() => createMiRerankSelector({ shortlist: 0 })).toThrow(PruneError)
    expect(() => createMiRerankSelector({ endPolicy: 'x' as never })).toThrow(/endPolicy/)
    expect(() => createMiRerankSelector({ forwardBudget: 0.5 })).toThrow(/forwardBudget/)
  })

  it('refuses a context with no loss', async () => {
    await expect(
      createMiRerankSelector().select({ numBlocks: 8, scorer: additiveScorer(MI) }, 2),
    ).rejects.toThrow(/objectiveFrom/)
  })
})
