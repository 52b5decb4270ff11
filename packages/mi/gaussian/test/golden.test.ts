import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { matrix } from '@mi-prun/core'
import { type GaussianOptions, createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { TOL_GOLDEN_ABS } from '@mi-prun/testkit'

interface GoldenCase {
  name: string
  n: number
  dx: number
  dy: number
  options: GaussianOptions
  x: number[]
  y: number[]
  raw: number
  bias: number
  value: number
  dxEff: number
  dyEff: number
  shrinkage: number
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/gaussian.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>
  cases: GoldenCase[]
}

describe('numpy goldens (scripts/goldens/gaussian.py: np.cov + slogdet, scipy digamma)', () => {
  it('records the library versions', () => {
    expect(fixture.versions.numpy).toMatch(/^\d+\.\d+/)
    expect(fixture.cases.length).toBe(7)
  })
  for (const c of fixture.cases) {
    it(`${c.name}: raw, bias and value match to ${TOL_GOLDEN_ABS}`, () => {
      const est = createGaussianEstimator(c.options)
      const d = est.estimateDetailed(matrix(c.n, c.dx, c.x), matrix(c.n, c.dy, c.y))
      expect(Math.abs(d.raw - c.raw)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
      expect(Math.abs(d.bias - c.bias)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
      expect(Math.abs(d.value - c.value)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
      expect(Math.abs(d.shrinkage - c.shrinkage)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
      expect([d.dxEff, d.dyEff, d.n]).toEqual([c.dxEff, c.dyEff, c.n])
    })
  }
})
