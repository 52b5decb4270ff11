import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Matrix, createRng, matrix } from '@mi-prun/core'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { correlatedGaussian } from '@mi-prun/testkit'

/** Columns reordered, each scaled by a power of two and shifted by an integer: exact in float32. */
function exactAffine(m: Matrix, perm: number[], exps: number[], shifts: number[]): Matrix {
  const out = new Float32Array(m.data.length)
  for (let i = 0; i < m.rows; i++)
    for (let j = 0; j < m.cols; j++)
      out[i * m.cols + j] = m.data[i * m.cols + perm[j]!]! * 2 ** exps[j]! + shifts[j]!
  return matrix(m.rows, m.cols, out)
}

describe('properties (fast-check)', () => {
  const est = createGaussianEstimator()
  it('symmetric and invariant to exact per-column affine maps and column permutations', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.double({ min: -0.95, max: 0.95, noNaN: true }),
        fc.integer({ min: 1, max: 4 }),
        (seed, rho, d) => {
          const base = correlatedGaussian(createRng(seed), 200, d, rho)
          // integer-valued data, so the shifts below stay exact
          const q = (m: Matrix): Matrix =>
            matrix(
              m.rows,
              m.cols,
              m.data.map((v) => Math.round(64 * v)),
            )
          const x = q(base.x)
          const y = q(base.y)
          const rng = createRng(seed + 1)
          const perm = rng.shuffle(Array.from({ length: d }, (_, i) => i))
          const exps = Array.from({ length: d }, () => rng.nextInt(7) - 3)
          const shifts = Array.from({ length: d }, () => rng.nextInt(2000) - 1000)
          const a = est.estimate(x, y)
          expect(Math.abs(a - est.estimate(y, x))).toBeLessThanOrEqual(1e-9)
          expect(Math.abs(a - est.estimate(exactAffine(x, perm, exps, shifts), y))).toBeLessThanOrEqual(1e-9)
          // and the raw value never falls below 0 (in-sample log-det MI is a sum of −½ln(1−r_i²) ≥ 0)
          expect(est.estimateDetailed(x, y).raw).toBeGreaterThanOrEqual(-1e-12)
        },
      ),
      { numRuns: 40, seed: 20261128 },
    )
  })
})
