import { describe, expect, it } from 'vitest'
import { type MIEstimator, PruneError, createRng, matrix } from '@mi-prun/core'
import { correlatedGaussian, independentGaussian, meanSd, permuteRows } from './data.js'

export interface EstimatorConformanceOptions {
  /** Suite title. */
  readonly name: string
  /** Builds the estimator under test with the given seed (default settings otherwise). */
  readonly create: (seed: number) => MIEstimator
  /** Dimension of x and y in the generated data (default 2). */
  readonly dims?: number
  /** Samples per data set (default 1000). */
  readonly n?: number
  /** |I(x;y) − I(y;x)| allowed (default 1e-9). */
  readonly symmetryTol?: number
  /** |I(Px;Py) − I(x;y)| allowed for a joint row permutation P (default 1e-9). */
  readonly permutationTol?: number
  /** Known bias under independence, added to the 3·sd/√R allowance (default 0). */
  readonly nullBias?: number
  /** Seeds for the independence test (default 10). */
  readonly nullSeeds?: number
}

/**
 * The contract every MIEstimator must meet (mi-estimators.md §1 and T4/T5): symmetry, joint row
 * permutation invariance, ≈0 under independence, monotone in correlation, validation errors,
 * determinism for a seed.
 */
export function describeEstimator(opts: EstimatorConformanceOptions): void {
  const d = opts.dims ?? 2
  const n = opts.n ?? 1000
  describe(`MIEstimator conformance: ${opts.name}`, () => {
    it('has a name and tagged, JSON-serialisable settings', () => {
      const est = opts.create(1)
      expect(typeof est.name).toBe('string')
      expect(typeof est.settings.kind).toBe('string')
      expect(JSON.parse(JSON.stringify(est.settings))).toEqual(est.settings)
    })

    it('is deterministic for a seed', () => {
      const { x, y } = correlatedGaussian(createRng(11), n, d, 0.6)
      const a = opts.create(5).estimate(x, y)
      const b = opts.create(5).estimate(x, y)
      expect(Object.is(a, b)).toBe(true)
    })

    it('is symmetric: I(x;y) = I(y;x)', () => {
      const { x, y } = correlatedGaussian(createRng(12), n, d, 0.6)
      const est = opts.create(3)
      expect(Math.abs(est.estimate(x, y) - est.estimate(y, x))).toBeLessThanOrEqual(opts.symmetryTol ?? 1e-9)
    })

    it('is invariant to a joint permutation of the rows', () => {
      const { x, y } = correlatedGaussian(createRng(13), n, d, 0.6)
      const perm = createRng(99).shuffle(Array.from({ length: n }, (_, i) => i))
      const est = opts.create(3)
      const a = est.estimate(x, y)
      const b = est.estimate(permuteRows(x, perm), permuteRows(y, perm))
      expect(Math.abs(a - b)).toBeLessThanOrEqual(opts.permutationTol ?? 1e-9)
    })

    it('gives ≈0 under independence (|mean| ≤ 3·sd/√R + known bias)', () => {
      const R = opts.nullSeeds ?? 10
      const vals: number[] = []
      for (let s = 0; s < R; s++) {
        const { x, y } = independentGaussian(createRng(1000 + s), n, d)
        vals.push(opts.create(s).estimate(x, y))
      }
      const { mean, sd } = meanSd(vals)
      expect(Math.abs(mean - (opts.nullBias ?? 0))).toBeLessThanOrEqual(
        (3 * Math.max(sd, 1e-6)) / Math.sqrt(R) + 1e-3,
      )
    })

    it('increases with the correlation', () => {
      const est = opts.create(4)
      const vals = [0.2, 0.5, 0.8].map((rho) => {
        const { x, y } = correlatedGaussian(createRng(21), n, d, rho)
        return est.estimate(x, y)
      })
      expect(vals[0]!).toBeLessThan(vals[1]!)
      expect(vals[1]!).toBeLessThan(vals[2]!)
    })

    it('rejects bad input with a PruneError that says what is wrong', () => {
      const est = opts.create(1)
      const { x, y } = correlatedGaussian(createRng(3), 50, d, 0.5)
      const bad = matrix(50, d, Float32Array.from(x.data))
      bad.data[7] = Number.NaN
      expect(() => est.estimate(bad, y)).toThrow(PruneError)
      expect(() => est.estimate(bad, y)).toThrow(/non-finite/)
      const inf = matrix(50, d, Float32Array.from(y.data))
      inf.data[3] = Number.POSITIVE_INFINITY
      expect(() => est.estimate(x, inf)).toThrow(PruneError)
      const short = matrix(49, d, x.data.subarray(0, 49 * d))
      expect(() => est.estimate(short, y)).toThrow(/same number of rows/)
      expect(() => est.estimate(matrix(0, d), matrix(0, d))).toThrow(PruneError)
    })
  })
}
