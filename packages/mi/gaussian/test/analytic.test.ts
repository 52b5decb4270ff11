import { describe, expect, it } from 'vitest'
import { type Matrix, PruneError, createRng, isPruneError, matrix } from '@mi-prun/core'
import {
  createGaussianEstimator,
  gaussianBias,
  gaussianMiBias,
  gaussianMiFromCovariance,
} from '@mi-prun/mi-gaussian'
import {
  TOL_ANALYTIC_ABS,
  TOL_F64_ABS,
  correlatedGaussian,
  independentGaussian,
  mapMatrix,
  meanSd,
} from '@mi-prun/testkit'

/** Columns side by side: [a b]. */
function hcat(a: Matrix, b: Matrix): Matrix {
  const out = new Float32Array(a.rows * (a.cols + b.cols))
  for (let i = 0; i < a.rows; i++) {
    out.set(a.data.subarray(i * a.cols, (i + 1) * a.cols), i * (a.cols + b.cols))
    out.set(b.data.subarray(i * b.cols, (i + 1) * b.cols), i * (a.cols + b.cols) + a.cols)
  }
  return matrix(a.rows, a.cols + b.cols, out)
}
function cols(m: Matrix, idx: number[]): Matrix {
  const out = new Float32Array(m.rows * idx.length)
  for (let i = 0; i < m.rows; i++)
    for (let k = 0; k < idx.length; k++) out[i * idx.length + k] = m.data[i * m.cols + idx[k]!]!
  return matrix(m.rows, idx.length, out)
}
/** x·A + b with A given row-major (d_in × d_out), computed in float64. */
function affine(m: Matrix, a: number[], dOut: number, b: number[]): Matrix {
  const out = new Float32Array(m.rows * dOut)
  for (let i = 0; i < m.rows; i++)
    for (let o = 0; o < dOut; o++) {
      let s = b[o]!
      for (let k = 0; k < m.cols; k++) s += m.data[i * m.cols + k]! * a[k * dOut + o]!
      out[i * dOut + o] = s
    }
  return matrix(m.rows, dOut, out)
}

const rhoTruth: [number, number][] = [
  [0.1, 0.0050252],
  [0.5, 0.143841],
  [0.8, 0.5108256],
  [0.9, 0.8303656],
  [0.99, 1.9585178],
]

describe('T1: bivariate Gaussian, I = −½ ln(1−ρ²)', () => {
  const n = 5000
  for (const [rho, truth] of rhoTruth) {
    it(`ρ = ${rho}: within 4 sampling sd (sd ≈ ρ/√N) of ${truth}`, () => {
      const { x, y, truth: exact } = correlatedGaussian(createRng(100 + rho * 100), n, 1, rho)
      expect(exact).toBeCloseTo(truth, 7)
      const sd = rho / Math.sqrt(n)
      expect(Math.abs(createGaussianEstimator().estimate(x, y) - exact)).toBeLessThanOrEqual(4 * sd)
    })
  }
  it('the delta-method sd ρ/√N matches the spread over 20 seeds (ρ = 0.8, N = 1000)', () => {
    const est = createGaussianEstimator()
    const vals = Array.from({ length: 20 }, (_, s) => {
      const { x, y } = correlatedGaussian(createRng(500 + s), 1000, 1, 0.8)
      return est.estimate(x, y)
    })
    const { mean, sd } = meanSd(vals)
    const sdTheory = 0.8 / Math.sqrt(1000)
    expect(sd / sdTheory).toBeGreaterThan(0.5)
    expect(sd / sdTheory).toBeLessThan(1.6)
    expect(Math.abs(mean - 0.5108256)).toBeLessThanOrEqual((3 * sdTheory) / Math.sqrt(20))
  })
})

describe('T2/T3: exact values from covariances', () => {
  it('[[5,3],[3,4]] gives ½ ln(20/11) = 0.2989185', () => {
    const v = gaussianMiFromCovariance(
      [
        [5, 3],
        [3, 4],
      ],
      1,
    )
    expect(Math.abs(v - 0.5 * Math.log(20 / 11))).toBeLessThanOrEqual(TOL_ANALYTIC_ABS)
    expect(v).toBeCloseTo(0.2989185, 7)
  })
  it('[[5,3,1],[3,4,1.5],[1,1.5,2]], x = dims 0-1, gives ½ ln(22/15.75) = 0.1671010', () => {
    const v = gaussianMiFromCovariance(
      [
        [5, 3, 1],
        [3, 4, 1.5],
        [1, 1.5, 2],
      ],
      2,
    )
    expect(Math.abs(v - 0.5 * Math.log(22 / 15.75))).toBeLessThanOrEqual(TOL_ANALYTIC_ABS)
    expect(v).toBeCloseTo(0.167101, 7)
    // symmetric in the roles of x and y
    const swapped = gaussianMiFromCovariance(Float64Array.from([2, 1, 1.5, 1, 5, 3, 1.5, 3, 4]), 1)
    expect(Math.abs(swapped - v)).toBeLessThanOrEqual(TOL_ANALYTIC_ABS)
  })
  it('[[1,c],[c,1]] reproduces T1 to 1e-11', () => {
    for (const [rho, truth] of rhoTruth) {
      const v = gaussianMiFromCovariance(
        [
          [1, rho],
          [rho, 1],
        ],
        1,
      )
      expect(Math.abs(v + 0.5 * Math.log(1 - rho * rho))).toBeLessThanOrEqual(TOL_ANALYTIC_ABS)
      expect(v).toBeCloseTo(truth, 7)
    }
  })
  it('T3: NPEET Σ = [[4,3,1],[3,4,1],[1,1,2]] gives I(x;y) = 0.4133393 nats (0.5963225 bits)', () => {
    const v = gaussianMiFromCovariance(
      [
        [4, 3],
        [3, 4],
      ],
      1,
    )
    expect(v).toBeCloseTo(0.4133393, 7)
    expect(v / Math.LN2).toBeCloseTo(0.5963225, 7)
  })
  it('T3: d independent pairs give −½ Σ ln(1−ρ_i²)', () => {
    const rhos = [0.1, 0.5, 0.8, 0.9]
    const d = rhos.length
    const cov = Array.from({ length: 2 * d }, (_, a) =>
      Array.from({ length: 2 * d }, (_, b) => (a === b ? 1 : 0)),
    )
    rhos.forEach((r, i) => {
      cov[i]![d + i] = r
      cov[d + i]![i] = r
    })
    const expected = rhos.reduce((s, r) => s - 0.5 * Math.log(1 - r * r), 0)
    expect(Math.abs(gaussianMiFromCovariance(cov, d) - expected)).toBeLessThanOrEqual(TOL_ANALYTIC_ABS)
  })
  it('drops a redundant dimension and returns +Infinity for a dependence between x and y', () => {
    // x2 = x1 (redundant within x): same as the 1+1 problem
    expect(
      gaussianMiFromCovariance(
        [
          [1, 1, 0.5],
          [1, 1, 0.5],
          [0.5, 0.5, 1],
        ],
        2,
      ),
    ).toBeCloseTo(-0.5 * Math.log(0.75), 12)
    expect(
      gaussianMiFromCovariance(
        [
          [2, 2],
          [2, 2],
        ],
        1,
      ),
    ).toBe(Number.POSITIVE_INFINITY)
  })
  it('rejects malformed covariances with a RangeError', () => {
    expect(() =>
      gaussianMiFromCovariance(
        [
          [1, 0.5],
          [0.4, 1],
        ],
        1,
      ),
    ).toThrow(/not symmetric/)
    expect(() =>
      gaussianMiFromCovariance(
        [
          [1, 2],
          [2, 1],
        ],
        1,
      ),
    ).toThrow(/positive semi-definite/)
    expect(() =>
      gaussianMiFromCovariance(
        [
          [1, 0],
          [0, 1],
        ],
        2,
      ),
    ).toThrow(RangeError)
    expect(() => gaussianMiFromCovariance(new Float64Array(5), 1)).toThrow(/square/)
    expect(() =>
      gaussianMiFromCovariance(
        [
          [1, Number.NaN],
          [Number.NaN, 1],
        ],
        1,
      ),
    ).toThrow(/not finite/)
  })
})

describe('T5: exact invariance to invertible affine maps (in sample)', () => {
  it('x·A + a and y·B + b leave the estimate unchanged to 1e-9', () => {
    // integer data and integer maps: every transformed value is exact in float32
    const rng = createRng(55)
    const { x: x0, y: y0 } = correlatedGaussian(rng, 800, 3, 0.6)
    const x = mapMatrix(x0, (v) => Math.round(16 * v))
    const y = mapMatrix(y0, (v) => Math.round(16 * v))
    const a = [2, 1, 0, -1, 3, 1, 0, 1, 1] // det = 2(3−1) − 1(−1−0) + 0 = 5
    const b = [1, 2, 0, 0, -1, 1, 3, 0, 2] // det = 1(−2−0) − 2(0−3) + 0 = 4
    const est = createGaussianEstimator()
    const before = est.estimate(x, y)
    const after = est.estimate(affine(x, a, 3, [100, -7, 3]), affine(y, b, 3, [-50, 4, 9]))
    expect(Math.abs(after - before)).toBeLessThanOrEqual(1e-9)
    expect(before).toBeGreaterThan(0.5)
  })
  it('the copula variant is exactly invariant to strictly increasing maps per column', () => {
    const { x, y } = correlatedGaussian(createRng(56), 600, 2, 0.7)
    const est = createGaussianEstimator({ copula: true })
    const a = est.estimate(x, y)
    const b = est.estimate(
      mapMatrix(x, (v) => Math.exp(v)),
      mapMatrix(y, (v) => v * v * v + v),
    )
    expect(Math.abs(a - b)).toBeLessThanOrEqual(TOL_F64_ABS)
  })
  it('the plain estimator is not invariant to exp(x), y³ (ρ = 0.8: about 0.21 against 0.511)', () => {
    const { x, y } = correlatedGaussian(createRng(57), 5000, 1, 0.8)
    const v = createGaussianEstimator().estimate(
      mapMatrix(x, Math.exp),
      mapMatrix(y, (t) => t ** 3),
    )
    expect(v).toBeLessThan(0.35)
    expect(v).toBeGreaterThan(0.1)
  })
})

describe('T7: exact finite-sample bias', () => {
  it('b(dx)+b(dy)−b(dx+dy) at N = 2000: 0.0002503 (d = 1), 0.0160764 (d = 8), 1.0588646 (d = 64)', () => {
    expect(gaussianMiBias(1, 1, 2000)).toBeCloseTo(0.0002503, 7)
    expect(gaussianMiBias(8, 8, 2000)).toBeCloseTo(0.0160764, 7)
    expect(gaussianMiBias(64, 64, 2000)).toBeCloseTo(1.0588646, 7)
    // the N ≫ d approximation dx·dy/(2N) that JIDT subtracts is 1.024 at d = 64
    expect(Math.abs(gaussianMiBias(64, 64, 2000) - (64 * 64) / 4000)).toBeGreaterThan(0.03)
    expect(gaussianMiBias(3, 5, 1e6) / ((3 * 5) / 2e6)).toBeCloseTo(1, 4)
  })
  it('b(d, N) is the halved Wishart log-det bias; undefined (NaN) for N ≤ d', () => {
    expect(gaussianBias(0, 10)).toBe(0)
    // d = 1: ½[ln(2/(N−1)) + ψ((N−1)/2)]; ψ(1.5) = 2 − γ − 2 ln 2
    expect(gaussianBias(1, 4)).toBeCloseTo(
      0.5 * (Math.log(2 / 3) + 2 - 0.5772156649015329 - 2 * Math.LN2),
      12,
    )
    expect(gaussianBias(5, 5)).toBeNaN()
    expect(gaussianMiBias(3, 3, 6)).toBeNaN()
  })
  for (const [d, rho, expectedBias] of [
    [1, 0, 0.0002503],
    [8, 0, 0.0160764],
    [64, 0, 1.0588646],
    [8, 0.5, 0.0160764],
  ] as const) {
    it(`N = 2000, d = ${d}, ρ = ${rho}: raw mean ≈ truth + bias and corrected mean ≈ truth over 20 seeds`, () => {
      const est = createGaussianEstimator()
      const raw: number[] = []
      const corrected: number[] = []
      let truth = 0
      for (let s = 0; s < 20; s++) {
        const data = correlatedGaussian(createRng(7000 + 31 * d + s), 2000, d, rho)
        truth = data.truth
        const r = est.estimateDetailed(data.x, data.y)
        raw.push(r.raw)
        corrected.push(r.value)
        expect(Math.abs(r.bias - expectedBias)).toBeLessThan(1e-7)
      }
      const mr = meanSd(raw)
      const mc = meanSd(corrected)
      const allow = (4 * mr.sd) / Math.sqrt(20)
      expect(Math.abs(mr.mean - (truth + expectedBias))).toBeLessThanOrEqual(allow)
      expect(Math.abs(mc.mean - truth)).toBeLessThanOrEqual(allow)
      // the bias is resolvable: without the correction the d = 64 null is far from 0
      if (d === 64) expect(mr.mean - truth).toBeGreaterThan(10 * allow)
    })
  }
})

describe('degenerate inputs', () => {
  const { x, y } = correlatedGaussian(createRng(9), 400, 3, 0.5)
  const est = createGaussianEstimator()
  it('exact copies y = x (and y = 2x, and a copied column) give +Infinity', () => {
    expect(est.estimate(x, x)).toBe(Number.POSITIVE_INFINITY)
    expect(
      est.estimate(
        x,
        mapMatrix(x, (v) => 2 * v),
      ),
    ).toBe(Number.POSITIVE_INFINITY)
    expect(est.estimate(x, hcat(y, cols(x, [1])))).toBe(Number.POSITIVE_INFINITY)
    expect(est.estimateDetailed(x, x).raw).toBe(Number.POSITIVE_INFINITY)
  })
  it('y = 2x + 1e-6·noise is finite and very large (unbounded estimator; ≈ 14.5 for d = 1)', () => {
    const rng = createRng(3)
    const x1 = cols(x, [0])
    const v = est.estimate(
      x1,
      mapMatrix(x1, (t) => 2 * t + 1e-6 * rng.normal()),
    )
    expect(Number.isFinite(v)).toBe(true)
    expect(v).toBeGreaterThan(12)
    expect(v).toBeLessThan(17)
  })
  it('a duplicated or constant column within x is dropped and the effective dimension reported', () => {
    const base = est.estimateDetailed(x, y)
    const dup = est.estimateDetailed(hcat(x, cols(x, [0])), y)
    expect(dup.dxEff).toBe(3)
    expect(dup.dyEff).toBe(3)
    expect(Math.abs(dup.value - base.value)).toBeLessThanOrEqual(1e-9)
    expect(dup.bias).toBe(base.bias)
    const constant = matrix(400, 1, new Float32Array(400).fill(3.5))
    const withConst = est.estimateDetailed(x, hcat(constant, y))
    expect(withConst.dyEff).toBe(3)
    expect(Math.abs(withConst.value - base.value)).toBeLessThanOrEqual(1e-9)
    // a constant variable carries no information
    const none = est.estimateDetailed(constant, y)
    expect([none.value, none.raw, none.dxEff]).toEqual([0, 0, 0])
  })
})

describe('INSUFFICIENT_SAMPLES and shrinkage', () => {
  const { x, y } = independentGaussian(createRng(21), 40, 25, 20)
  it('N ≤ dx + dy throws a PruneError that names N, dx, dy and both fixes', () => {
    let err: unknown
    try {
      createGaussianEstimator().estimate(x, y)
    } catch (e) {
      err = e
    }
    expect(isPruneError(err, 'INSUFFICIENT_SAMPLES')).toBe(true)
    const msg = (err as PruneError).message
    expect(msg).toMatch(/^\[@mi-prun\/mi-gaussian\]/)
    expect(msg).toContain('N=40 with dx=25, dy=20')
    expect(msg).toContain('createPcaReducer({ rank: r })')
    expect(msg).toContain('shrinkage')
    // the boundary: N = dx + dy fails, N = dx + dy + 1 works
    const small = correlatedGaussian(createRng(2), 6, 3, 0.5)
    expect(() => createGaussianEstimator().estimate(small.x, small.y)).toThrow(PruneError)
    const ok = correlatedGaussian(createRng(2), 7, 3, 0.5)
    expect(Number.isFinite(createGaussianEstimator().estimate(ok.x, ok.y))).toBe(true)
  })
  it('shrinkage works there and is labelled shrunk and uncorrected', () => {
    const lw = createGaussianEstimator({ shrinkage: 'ledoit-wolf' })
    expect(lw.settings).toEqual({
      kind: 'gaussian',
      biasCorrect: false,
      copula: false,
      shrinkage: 'ledoit-wolf',
      shrunk: true,
    })
    const d = lw.estimateDetailed(x, y)
    expect(Number.isFinite(d.value)).toBe(true)
    expect(d.bias).toBe(0)
    expect(d.shrinkage).toBeGreaterThan(0)
    expect(d.shrinkage).toBeLessThanOrEqual(1)
    // fixed λ equals the analytic value on the shrunk correlation matrix (2+2 dims, N = 3 < 4)
    const tiny = { x: matrix(3, 2, [1, 2, 3, 1, 2, 2]), y: matrix(3, 2, [0, 1, 1, 0, 3, 1]) }
    const lam = 0.4
    const z = [0, 1, 2].map((i) => [
      tiny.x.data[2 * i]!,
      tiny.x.data[2 * i + 1]!,
      tiny.y.data[2 * i]!,
      tiny.y.data[2 * i + 1]!,
    ])
    const mean = [0, 1, 2, 3].map((j) => (z[0]![j]! + z[1]![j]! + z[2]![j]!) / 3)
    const cov = [0, 1, 2, 3].map((a) =>
      [0, 1, 2, 3].map((b) => z.reduce((s, r) => s + (r[a]! - mean[a]!) * (r[b]! - mean[b]!), 0) / 2),
    )
    const corr = cov.map((row, a) =>
      row.map((v, b) => (a === b ? 1 : ((1 - lam) * v) / Math.sqrt(cov[a]![a]! * cov[b]![b]!))),
    )
    const v = createGaussianEstimator({ shrinkage: lam }).estimate(tiny.x, tiny.y)
    expect(Math.abs(v - gaussianMiFromCovariance(corr, 2))).toBeLessThanOrEqual(1e-12)
    // λ = 0 is the plain uncorrected estimator
    const big = correlatedGaussian(createRng(4), 300, 2, 0.5)
    const raw = createGaussianEstimator({ biasCorrect: false }).estimate(big.x, big.y)
    expect(
      Math.abs(createGaussianEstimator({ shrinkage: 0 }).estimate(big.x, big.y) - raw),
    ).toBeLessThanOrEqual(1e-12)
  })
  it('validates its options with RangeErrors', () => {
    expect(() => createGaussianEstimator({ shrinkage: 1.5 })).toThrow(RangeError)
    expect(() => createGaussianEstimator({ shrinkage: -0.1 })).toThrow(/shrinkage/)
    expect(() => createGaussianEstimator({ shrinkage: 0.2, biasCorrect: true })).toThrow(/cannot be combined/)
    expect(createGaussianEstimator({ biasCorrect: false }).settings).toEqual({
      kind: 'gaussian',
      biasCorrect: false,
      copula: false,
    })
    expect(createGaussianEstimator().name).toBe('gaussian')
  })
  it('names the variable, row and column of a non-finite value', () => {
    const bad = matrix(50, 2, new Float32Array(100))
    bad.data[2 * 7 + 1] = Number.NaN
    expect(() => createGaussianEstimator().estimate(bad, bad)).toThrow(
      /x has a non-finite value \(NaN\) at row 7, column 1/,
    )
  })
})

describe('large D (blocked Cholesky path, D ≥ 384)', () => {
  it('200 + 200 dims, ρ = 0.3 pairs: within 4 sd of the truth; duplicate dropped; a copy gives +Infinity', () => {
    const { x, y, truth } = correlatedGaussian(createRng(808), 1000, 200, 0.3)
    const est = createGaussianEstimator()
    const r = est.estimateDetailed(x, y)
    expect(Math.abs(r.value - truth)).toBeLessThan(4 * Math.sqrt((200 * 0.09) / 1000))
    const xd = hcat(x, cols(x, [17]))
    const dup = est.estimateDetailed(xd, y)
    expect(dup.dxEff).toBe(200)
    expect(Math.abs(dup.value - r.value)).toBeLessThanOrEqual(1e-8)
    expect(
      est.estimate(
        x,
        hcat(
          cols(
            y,
            Array.from({ length: 199 }, (_, i) => i),
          ),
          cols(x, [150]),
        ),
      ),
    ).toBe(Number.POSITIVE_INFINITY)
  })
})
