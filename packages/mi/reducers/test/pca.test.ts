import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PruneError, createRng, isPruneError, matrix } from '@mi-prun/core'
import { type PcaMethod, createPcaReducer, fitPca } from '@mi-prun/mi-reducers'
import { TOL_F32_REL, TOL_GOLDEN_ABS, correlatedGaussian } from '@mi-prun/testkit'

interface PcaCase {
  name: string
  n: number
  dx: number
  dy: number
  rank: number
  fit: 'joint' | 'separate'
  x: number[]
  y: number[]
  explained?: number
  explainedX?: number
  explainedY?: number
  components?: number[]
  variances?: number[]
  px: number[]
  py: number[]
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/pca.json', import.meta.url), 'utf8')) as {
  versions: Record<string, string>
  cases: PcaCase[]
}
const methods: PcaMethod[] = ['covariance', 'gram', 'randomized']

/** r − ‖A Bᵀ‖²_F for two r×d orthonormal row bases: 0 iff they span the same subspace (Σ cos² of the principal angles). */
function subspaceGap(r: number, d: number, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < r; i++)
    for (let j = 0; j < r; j++) {
      let dot = 0
      for (let k = 0; k < d; k++) dot += a[i * d + k]! * b[j * d + k]!
      s += dot * dot
    }
  return r - s
}

function expectClose(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length)
  let worst = 0
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)))
  expect(worst).toBeLessThanOrEqual(TOL_F32_REL)
}

describe('PCA against numpy eigh/SVD goldens (scripts/goldens/reducers.py)', () => {
  it('records the numpy version', () => expect(fixture.versions.numpy).toMatch(/^\d+\.\d+/))
  for (const c of fixture.cases) {
    for (const method of methods) {
      it(`${c.name}, method ${method}: explained variance, subspace (angle ≈ 0) and projections`, () => {
        const x = matrix(c.n, c.dx, c.x)
        const y = matrix(c.n, c.dy, c.y)
        if (c.fit === 'joint') {
          const pooled = Float64Array.from([...x.data, ...y.data])
          const f = fitPca(pooled, 2 * c.n, c.dx, { rank: c.rank, method, seed: 3 })
          expect(f.method).toBe(method)
          expect(Math.abs(f.explained - c.explained!)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
          for (let r = 0; r < c.rank; r++)
            expect(Math.abs(f.variances[r]! - c.variances![r]!)).toBeLessThanOrEqual(
              TOL_GOLDEN_ABS * (1 + c.variances![r]!),
            )
          expect(subspaceGap(c.rank, c.dx, f.components, c.components!)).toBeLessThanOrEqual(1e-9)
          // sign-fixed: the directions themselves agree, not only the subspace
          let worst = 0
          for (let i = 0; i < f.components.length; i++)
            worst = Math.max(worst, Math.abs(f.components[i]! - c.components![i]!))
          expect(worst).toBeLessThanOrEqual(1e-7)
          expect(f.effectiveRank).toBe(c.rank)
        }
        const red = createPcaReducer({ rank: c.rank, fit: c.fit, method })
        const out = red.reducePair(x, y)
        expect([out.x.rows, out.x.cols, out.y.rows, out.y.cols]).toEqual([c.n, c.rank, c.n, c.rank])
        expect(out.x.data).toBeInstanceOf(Float32Array)
        expectClose(out.x.data, c.px)
        expectClose(out.y.data, c.py)
        if (c.fit === 'joint') {
          expect(Math.abs(out.info!.explained! - c.explained!)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
          expect(out.info!.joint).toBe(1)
        } else {
          expect(Math.abs(out.info!.explainedX! - c.explainedX!)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
          expect(Math.abs(out.info!.explainedY! - c.explainedY!)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
          expect(out.info!.joint).toBe(0)
        }
        expect([out.info!.rankX, out.info!.rankY]).toEqual([c.rank, c.rank])
      })
    }
  }
})

describe('randomized PCA through the data operator (d ≥ 2(2q+1)·l)', () => {
  it('joint-n40-d120-r6 with q = 4, no oversampling: explained, subspace and directions match numpy', () => {
    const c = fixture.cases.find((k) => k.name === 'joint-n40-d120-r6')!
    const pooled = Float64Array.from([...c.x, ...c.y])
    const f = fitPca(pooled, 2 * c.n, c.dx, {
      rank: c.rank,
      method: 'randomized',
      powerIterations: 4,
      oversample: 0,
      seed: 9,
    })
    expect(f.operator).toBe('data')
    expect(Math.abs(f.explained - c.explained!)).toBeLessThanOrEqual(TOL_GOLDEN_ABS)
    // 4 iterations without oversampling: close to, not at, convergence
    expect(subspaceGap(c.rank, c.dx, f.components, c.components!)).toBeLessThanOrEqual(1e-6)
    // the covariance operator computes the same (XᵀX)^q Ω subspace, so it agrees to rounding
    const g = fitPca(pooled, 2 * c.n, c.dx, {
      rank: c.rank,
      method: 'randomized',
      powerIterations: 4,
      oversample: 0,
      seed: 9,
      operator: 'covariance',
    })
    expect(g.operator).toBe('covariance')
    expect(subspaceGap(c.rank, c.dx, g.components, f.components)).toBeLessThanOrEqual(1e-12)
    // with the default 6 iterations and oversampling 16 the data operator converges
    const h = fitPca(pooled, 2 * c.n, c.dx, { rank: c.rank, method: 'randomized', seed: 9, operator: 'data' })
    expect(h.operator).toBe('data')
    expect(subspaceGap(c.rank, c.dx, h.components, c.components!)).toBeLessThanOrEqual(1e-9)
    let worst = 0
    for (let i = 0; i < h.components.length; i++)
      worst = Math.max(worst, Math.abs(h.components[i]! - c.components![i]!))
    expect(worst).toBeLessThanOrEqual(1e-7)
  })
})

describe('PCA behaviour', () => {
  it('auto picks covariance for d ≤ 256, Gram for few rows, randomized otherwise', () => {
    const data = (m: number, d: number): Float64Array => {
      const rng = createRng(m + d)
      return Float64Array.from({ length: m * d }, () => rng.normal())
    }
    expect(fitPca(data(100, 30), 100, 30, { rank: 3 }).method).toBe('covariance')
    expect(fitPca(data(100, 400), 100, 400, { rank: 3 }).method).toBe('gram')
    expect(fitPca(data(300, 400), 300, 400, { rank: 3 }).method).toBe('randomized')
  })
  it('randomized is deterministic for a seed (same bytes)', () => {
    const { x, y } = correlatedGaussian(createRng(4), 300, 300, 0.5)
    const a = createPcaReducer({ rank: 8, method: 'randomized', seed: 1 }).reducePair(x, y)
    const b = createPcaReducer({ rank: 8, method: 'randomized', seed: 1 }).reducePair(x, y)
    expect(Buffer.from(a.x.data.buffer).equals(Buffer.from(b.x.data.buffer))).toBe(true)
    expect(Buffer.from(a.y.data.buffer).equals(Buffer.from(b.y.data.buffer))).toBe(true)
  })
  it('projections of hidden-state sized inputs (N = 200, d = 1024) are uncorrelated with decreasing variance', () => {
    const rng = createRng(8)
    const n = 200
    const d = 1024
    const x = new Float32Array(n * d)
    for (let i = 0; i < n; i++) {
      const l1 = 5 * rng.normal()
      const l2 = 3 * rng.normal()
      for (let k = 0; k < d; k++)
        x[i * d + k] = (k % 2 ? l1 : -l1) / 32 + (k % 3 === 0 ? l2 : 0) / 18 + 0.05 * rng.normal()
    }
    const xm = matrix(n, d, x)
    const out = createPcaReducer({ rank: 4 }).reducePair(xm, xm)
    const col = (j: number): number[] => Array.from({ length: n }, (_, i) => out.x.data[i * 4 + j]!)
    const cov = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0) / (n - 1)
    const v = [0, 1, 2, 3].map((j) => cov(col(j), col(j)))
    expect(v[0]!).toBeGreaterThan(v[1]!)
    expect(v[1]!).toBeGreaterThan(v[2]!)
    expect(Math.abs(cov(col(0), col(1)))).toBeLessThan(1e-4 * v[0]!)
    expect(out.info!.explained!).toBeGreaterThan(0.9)
  })
  it('rejects rank < 1, non-integer rank, rank > d and bad options', () => {
    expect(() => createPcaReducer({ rank: 0 })).toThrow(RangeError)
    expect(() => createPcaReducer({ rank: -3 })).toThrow(/rank must be a positive integer, got -3/)
    expect(() => createPcaReducer({ rank: 2.5 })).toThrow(RangeError)
    expect(() => createPcaReducer({ rank: 2, fit: 'both' as 'joint' })).toThrow(/fit must be/)
    expect(() => createPcaReducer({ rank: 2, method: 'svd' as 'auto' })).toThrow(/method must be/)
    expect(() => createPcaReducer({ rank: 2, powerIterations: -1 })).toThrow(RangeError)
    const { x, y } = correlatedGaussian(createRng(1), 50, 4, 0.5)
    let err: unknown
    try {
      createPcaReducer({ rank: 5 }).reducePair(x, y)
    } catch (e) {
      err = e
    }
    expect(isPruneError(err, 'INVALID_CONFIG')).toBe(true)
    expect((err as PruneError).message).toMatch(
      /^\[@mi-prun\/mi-reducers\] PCA rank 5 exceeds the input dimension \(dx=4, dy=4\)/,
    )
    expect(() => createPcaReducer({ rank: 2 }).reducePair(x, matrix(49, 4))).toThrow(/same number of rows/)
  })
})
