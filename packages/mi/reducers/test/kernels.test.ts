import { describe, expect, it } from 'vitest'
import { createRng } from '@mi-prun/core'
import { gemmABt, gemmABtScalar } from '@mi-prun/mi-reducers'

describe('gemmABt', () => {
  for (const [m, n, k] of [
    [5, 7, 3],
    [33, 70, 129],
    [80, 64, 1024],
    [3, 9, 2001],
  ] as const) {
    it(`SIMD and scalar paths agree with the naive A·Bᵀ (m = ${m}, n = ${n}, k = ${k})`, () => {
      const rng = createRng(m + n + k)
      const a = Float64Array.from({ length: m * k }, () => rng.normal())
      const b = Float64Array.from({ length: n * k }, () => rng.normal())
      const s = gemmABt(m, n, k, a, b, new Float64Array(m * n).fill(5))
      const t = gemmABtScalar(m, n, k, a, b, new Float64Array(m * n))
      let worst = 0
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let ref = 0
          for (let p = 0; p < k; p++) ref += a[i * k + p]! * b[j * k + p]!
          worst = Math.max(worst, Math.abs(s[i * n + j]! - ref), Math.abs(t[i * n + j]! - ref))
        }
      expect(worst).toBeLessThanOrEqual(1e-12 * Math.sqrt(k))
    })
  }
})
