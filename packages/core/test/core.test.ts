import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  PruneError,
  blocksForRatio,
  checkBudget,
  createRng,
  digamma,
  digammaTable,
  lnGamma,
  matrix,
  selectRows,
  validatePair,
  validateTokenBatch,
  normaliseSkip,
} from '@mi-prun/core'

describe('matrix', () => {
  it('validates the shape', () => {
    expect(matrix(2, 3).data.length).toBe(6)
    expect(() => matrix(2, 3, new Float32Array(5))).toThrow(PruneError)
    expect(() => matrix(-1, 3)).toThrow(/non-negative/)
  })
  it('selects rows in order', () => {
    const m = matrix(3, 2, new Float32Array([1, 2, 3, 4, 5, 6]))
    expect(Array.from(selectRows(m, [2, 0]).data)).toEqual([5, 6, 1, 2])
  })
  it('validatePair names the bad value', () => {
    const x = matrix(3, 1, new Float32Array([1, Number.NaN, 3]))
    expect(() => validatePair('p', x, matrix(3, 1))).toThrow(
      /x has a non-finite value \(NaN\) at row 1, column 0/,
    )
  })
})

describe('rng', () => {
  it('is deterministic and seed-sensitive', () => {
    const a = createRng(42)
    const b = createRng(42)
    const c = createRng(43)
    const va = Array.from({ length: 5 }, () => a.next())
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(va)
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(va)
  })
  it('draws uniform and normal values with the right moments', () => {
    const r = createRng(1)
    let s = 0
    let s2 = 0
    const n = 200_000
    for (let i = 0; i < n; i++) {
      const z = r.normal()
      s += z
      s2 += z * z
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01)
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.01)
    let u = 0
    for (let i = 0; i < n; i++) u += r.next()
    expect(Math.abs(u / n - 0.5)).toBeLessThan(0.005)
  })
  it('sample returns k distinct sorted values in range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.nat(),
        (n, k0, seed) => {
          const k = k0 % (n + 1)
          const s = createRng(seed).sample(n, k)
          expect(s.length).toBe(k)
          for (let i = 0; i < k; i++) {
            expect(s[i]).toBeGreaterThanOrEqual(0)
            expect(s[i]).toBeLessThan(n)
            if (i > 0) expect(s[i]!).toBeGreaterThan(s[i - 1]!)
          }
        },
      ),
    )
  })
  it('fork is independent of the parent state', () => {
    const a = createRng(5)
    const f1 = a.fork('x').next()
    a.next()
    expect(a.fork('x').next()).toBe(f1)
  })
})

describe('special functions', () => {
  it('digamma and lnGamma match known values', () => {
    expect(digamma(1)).toBeCloseTo(-0.5772156649015329, 14)
    expect(digamma(1e4)).toBeCloseTo(9.2102903711, 9)
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13)
    const t = digammaTable(100)
    for (let i = 1; i < 100; i++) expect(t[i]).toBe(digamma(i))
  })
})

describe('budget', () => {
  it('rounds the ratio up with a tolerance', () => {
    expect(blocksForRatio(32, 0.1)).toBe(4)
    expect(blocksForRatio(32, 0.15)).toBe(5)
    expect(blocksForRatio(32, 0.2)).toBe(7)
    expect(blocksForRatio(32, 0.25)).toBe(8)
    expect(blocksForRatio(10, 0.3)).toBe(3)
  })
  it('refuses infeasible budgets', () => {
    expect(() => checkBudget(8, 8)).toThrow(/cannot remove 8 of 8/)
    expect(() => checkBudget(8, 0)).toThrow(PruneError)
    expect(() => checkBudget(8, 6, 2)).toThrow(/protected/)
    checkBudget(8, 7)
  })
})

describe('adapter boundary checks', () => {
  const ok = { ids: new Int32Array([1, 2, 3, 4]), batch: 2, seqLen: 2 }
  it('validateTokenBatch accepts a good batch and names the first bad value', () => {
    validateTokenBatch('p', ok, { vocabSize: 5, maxPositions: 2 })
    expect(() => validateTokenBatch('p', { ...ok, batch: 3 }, { vocabSize: 5 })).toThrow(
      /\[p\] token batch 3x2 needs 6 ids, got 4/,
    )
    expect(() => validateTokenBatch('p', ok, { vocabSize: 5, maxPositions: 1 })).toThrow(
      /exceeds the model's 1 positions/,
    )
    expect(() => validateTokenBatch('p', ok, { vocabSize: 4 })).toThrow(/token id 4 at flat index 3/)
    expect(() => validateTokenBatch('p', { ...ok, ids: [1, 2] } as never, { vocabSize: 5 })).toThrow(
      PruneError,
    )
  })
  it('normaliseSkip sorts, dedupes and range-checks', () => {
    expect(normaliseSkip('p', [3, 1, 3], 4)).toEqual([1, 3])
    expect(normaliseSkip('p', new Set([2]), 4)).toEqual([2])
    expect(normaliseSkip('p', undefined, 4)).toEqual([])
    expect(() => normaliseSkip('p', [4], 4)).toThrow(/skip block 4 is out of range 0..3/)
    expect(() => normaliseSkip('p', [1.5], 4)).toThrow(PruneError)
  })
})
