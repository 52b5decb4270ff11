import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { selectorRegistry } from '../src/session.js'
import { runMiPrun } from './helpers.js'

// The progress bar of a loss-based selector shows `passes(T, N)` as its total (and its ETA from it); the
// finding was SLEB at 27/36 and 11/16. The totals must be the evaluations the selector really makes.
const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
const small = ['--seq-len', '32', '--samples', '4', '--tokens', '96', '--json']

describe('progress totals of loss-based selectors are exact', () => {
  it("SLEB's total at the finding's sizes: 27 for T=12, N=3 and 11 for T=8, N=2", () => {
    expect(selectorRegistry.sleb.passes(12, 3)).toBe(27)
    expect(selectorRegistry.sleb.passes(8, 2)).toBe(11)
    expect(selectorRegistry['exact-ppl'].passes(12, 3)).toBe(220)
  })
  it.each([
    ['sleb', 1],
    ['ppl-rank', 1],
    ['ppl-rank', 2],
    ['exact-ppl', 2],
  ] as const)('%s, N=%i: the total equals the passes the run reports', async (name, n) => {
    const r = await runMiPrun(['select', model, '--selector', name, '--remove', String(n), ...small])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as { numBlocks: number; cost: { forwardPasses: number } }
    expect(j.cost.forwardPasses).toBe(selectorRegistry[name].passes(j.numBlocks, n))
  })
})
