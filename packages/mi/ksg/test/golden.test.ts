import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { matrix } from '@mi-prun/core'
import { TOL_GOLDEN_ABS } from '@mi-prun/testkit'
import { createKsgEstimator } from '@mi-prun/mi-ksg'

// Written by scripts/goldens/ksg.py (scipy cKDTree KSG-1/KSG-2 on seeded float32 data stored in the fixture).
interface GoldenCase {
  name: string
  n: number
  dx: number
  dy: number
  x: number[]
  y: number[]
  results: Array<{ standardize: boolean; variant: 1 | 2; k: number; value: number }>
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/ksg-goldens.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>
  unit: string
  cases: GoldenCase[]
}

describe(`scipy cKDTree goldens (scipy ${fixture.versions.scipy}, numpy ${fixture.versions.numpy})`, () => {
  it('fixture is in nats and non-trivial', () => {
    expect(fixture.unit).toBe('nats')
    expect(fixture.cases.length).toBeGreaterThanOrEqual(3)
  })
  for (const c of fixture.cases) {
    it(`${c.name}: ${c.results.length} settings match within TOL_GOLDEN_ABS`, () => {
      const x = matrix(c.n, c.dx, Float32Array.from(c.x))
      const y = matrix(c.n, c.dy, Float32Array.from(c.y))
      for (const std of [true, false]) {
        const rows = c.results.filter((r) => r.standardize === std)
        for (const variant of [1, 2] as const) {
          const sel = rows.filter((r) => r.variant === variant)
          const ks = sel.map((r) => r.k)
          const got = createKsgEstimator({ variant, jitter: 0, standardize: std }).estimateMany(x, y, ks)
          sel.forEach((r, i) => {
            expect(
              Math.abs(got[i]! - r.value),
              `std=${std} KSG-${variant} k=${r.k}: ${got[i]} vs ${r.value}`,
            ).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
          })
        }
      }
    })
  }
})
