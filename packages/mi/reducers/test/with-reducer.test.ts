import { describe, expect, it } from 'vitest'
import { createRng, isPruneError, matrix } from '@mi-prun/core'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { createPcaReducer, createRandomProjectionReducer, withReducer } from '@mi-prun/mi-reducers'
import { correlatedGaussian, describeEstimator } from '@mi-prun/testkit'

describeEstimator({
  name: 'withReducer(gaussian, pca2), 4 dims',
  create: () => withReducer(createGaussianEstimator(), createPcaReducer({ rank: 2 })),
  dims: 4,
  symmetryTol: 1e-6,
  permutationTol: 1e-6,
})
describeEstimator({
  name: 'withReducer(gaussian, pca3 separate randomized)',
  create: (seed) =>
    withReducer(
      createGaussianEstimator(),
      createPcaReducer({ rank: 3, fit: 'separate', method: 'randomized', seed }),
    ),
  dims: 6,
  symmetryTol: 1e-6,
  permutationTol: 1e-6,
})
describeEstimator({
  name: 'withReducer(gaussian, rp3)',
  create: (seed) => withReducer(createGaussianEstimator(), createRandomProjectionReducer({ rank: 3, seed })),
  dims: 6,
})

describe('withReducer', () => {
  it('names itself <estimator>+<reducer> and nests the reducer settings', () => {
    const est = withReducer(createGaussianEstimator(), createPcaReducer({ rank: 64 }))
    expect(est.name).toBe('gaussian+pca64')
    expect(est.settings).toEqual({
      kind: 'gaussian',
      biasCorrect: true,
      copula: false,
      reducer: {
        kind: 'pca',
        rank: 64,
        fit: 'joint',
        center: true,
        method: 'auto',
        seed: 0,
        powerIterations: 6,
        oversample: 16,
      },
    })
    expect(
      withReducer(createGaussianEstimator(), createRandomProjectionReducer({ rank: 8, seed: 2 })).name,
    ).toBe('gaussian+rp8')
  })
  it('rescues N ≤ dx + dy: hidden-state sized inputs (N = 300, d = 512) through PCA to 8 dims', () => {
    // 8 latent directions shared by x and y, embedded in 512 dims with small isotropic noise
    const rng = createRng(31)
    const n = 300
    const d = 512
    const { x: lx, y: ly, truth } = correlatedGaussian(rng, n, 8, 0.8)
    const basis = Float64Array.from({ length: 8 * d }, () => rng.normal() / Math.sqrt(d))
    const embed = (l: { data: Float32Array }): Float32Array => {
      const out = new Float32Array(n * d)
      for (let i = 0; i < n; i++)
        for (let k = 0; k < d; k++) {
          let s = 0.01 * rng.normal()
          for (let c = 0; c < 8; c++) s += l.data[i * 8 + c]! * basis[c * d + k]! * 4
          out[i * d + k] = s
        }
      return out
    }
    const x = matrix(n, d, embed(lx))
    const y = matrix(n, d, embed(ly))
    let err: unknown
    try {
      createGaussianEstimator().estimate(x, y)
    } catch (e) {
      err = e
    }
    expect(isPruneError(err, 'INSUFFICIENT_SAMPLES')).toBe(true)
    const est = withReducer(createGaussianEstimator(), createPcaReducer({ rank: 8, fit: 'separate' }))
    const r = est.estimateWithInfo(x, y)
    expect([r.n, r.dx, r.dy]).toEqual([300, 8, 8])
    expect(r.info.explainedX!).toBeGreaterThan(0.99)
    // the 8 latent pairs are recovered: within 4 sampling sd (√(8·0.64/N)) of the true 4.087 nats
    expect(Math.abs(r.value - truth)).toBeLessThan(4 * Math.sqrt((8 * 0.64) / n))
  })
  it('never exceeds the unreduced in-sample value (data processing, raw Gaussian MI)', () => {
    const raw = createGaussianEstimator({ biasCorrect: false })
    for (let s = 0; s < 5; s++) {
      const { x, y } = correlatedGaussian(createRng(40 + s), 400, 10, 0.3 + 0.1 * s)
      const full = raw.estimate(x, y)
      for (const reducer of [
        createPcaReducer({ rank: 4 }),
        createRandomProjectionReducer({ rank: 4, seed: s }),
      ]) {
        expect(withReducer(raw, reducer).estimate(x, y)).toBeLessThanOrEqual(full + 1e-6)
      }
    }
  })
})
