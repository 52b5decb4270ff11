import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { type Selection, type SelectionContext, type Selector, isPruneError } from '@mi-prun/core'

/** Options of {@link describeSelector}. */
export interface SelectorConformanceOptions {
  /** Suite title. */
  readonly name: string
  /** Builds the selector under test with the given seed (selectors without randomness ignore it). */
  readonly create: (seed: number) => Selector
  /**
   * A fresh selection context for T blocks (a new memoising scorer and/or objective each call), without
   * protected blocks; the suite adds `protectedBlocks` itself.
   */
  readonly context: () => SelectionContext
  /** Largest N to try (default T − 2, at least 1). Lower it for selectors with their own protections. */
  readonly maxBudget?: number
  /** fast-check runs per property (default 12). */
  readonly runs?: number
}

async function run(sel: Selector, ctx: SelectionContext, n: number): Promise<Selection> {
  return await sel.select(ctx, n)
}

async function rejectsBudget(sel: Selector, ctx: SelectionContext, n: number): Promise<boolean> {
  try {
    await sel.select(ctx, n)
    return false
  } catch (e) {
    return isPruneError(e, 'INFEASIBLE_BUDGET')
  }
}

/**
 * The contract every Selector must meet (style.md rule 21): exactly N distinct, in-range blocks, sorted; protected
 * blocks never chosen; the same selection for the same seed; N out of range → PruneError 'INFEASIBLE_BUDGET'.
 */
export function describeSelector(opts: SelectorConformanceOptions): void {
  const T = opts.context().numBlocks
  const maxN = Math.max(1, opts.maxBudget ?? T - 2)
  const runs = opts.runs ?? 12
  describe(`Selector conformance: ${opts.name}`, () => {
    it('has a name and tagged, JSON-serialisable settings', () => {
      const s = opts.create(1)
      expect(typeof s.name).toBe('string')
      expect(typeof s.settings.kind).toBe('string')
      expect(JSON.parse(JSON.stringify(s.settings))).toEqual(s.settings)
    })

    it('returns exactly N distinct in-range blocks, sorted, with a cost', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: maxN }),
          fc.integer({ min: 0, max: 1000 }),
          async (n, seed) => {
            const sel = await run(opts.create(seed), opts.context(), n)
            expect(sel.selected.length).toBe(n)
            expect(new Set(sel.selected).size).toBe(n)
            for (const b of sel.selected) {
              expect(Number.isInteger(b)).toBe(true)
              expect(b).toBeGreaterThanOrEqual(0)
              expect(b).toBeLessThan(T)
            }
            expect([...sel.selected]).toEqual([...sel.selected].sort((a, b) => a - b))
            expect(sel.cost.forwardPasses).toBeGreaterThanOrEqual(0)
            expect(sel.cost.miEvaluations).toBeGreaterThanOrEqual(0)
            if (sel.order) expect([...sel.order].sort((a, b) => a - b)).toEqual([...sel.selected])
          },
        ),
        { numRuns: runs, seed: 7 },
      )
    })

    it('never chooses a protected block', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.integer({ min: 0, max: T - 1 }), {
            minLength: 1,
            maxLength: Math.max(1, Math.floor(T / 3)),
          }),
          fc.integer({ min: 1, max: maxN }),
          async (prot, n) => {
            const budget = Math.min(n, Math.max(1, maxN - prot.length))
            const ctx = { ...opts.context(), protectedBlocks: prot }
            let sel: Selection
            try {
              sel = await run(opts.create(3), ctx, budget)
            } catch (e) {
              // a contiguous-window selector may find no window free of protected blocks
              expect(isPruneError(e, 'INFEASIBLE_BUDGET')).toBe(true)
              return
            }
            for (const b of sel.selected) expect(prot).not.toContain(b)
            expect(sel.selected.length).toBe(budget)
          },
        ),
        { numRuns: runs, seed: 11 },
      )
    })

    it('is deterministic for a seed', async () => {
      for (const seed of [0, 5, 123]) {
        const n = Math.min(maxN, Math.max(1, Math.floor(T / 3)))
        const a = await run(opts.create(seed), opts.context(), n)
        const b = await run(opts.create(seed), opts.context(), n)
        expect(b.selected).toEqual(a.selected)
        expect(b.order).toEqual(a.order)
        expect(b.cost.forwardPasses).toBe(a.cost.forwardPasses)
        expect(b.cost.miEvaluations).toBe(a.cost.miEvaluations)
        expect(JSON.stringify(b.settings)).toBe(JSON.stringify(a.settings))
      }
    })

    it("rejects N out of range with PruneError 'INFEASIBLE_BUDGET'", async () => {
      for (const n of [0, -1, T, T + 3, 1.5])
        expect(await rejectsBudget(opts.create(1), opts.context(), n)).toBe(true)
      // with every block but one protected, not even one block can go
      const prot = Array.from({ length: T - 1 }, (_, i) => i)
      expect(await rejectsBudget(opts.create(1), { ...opts.context(), protectedBlocks: prot }, 1)).toBe(true)
    })
  })
}
