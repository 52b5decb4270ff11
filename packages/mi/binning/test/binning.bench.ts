import { bench, describe } from 'vitest'
import { createRng } from '@mi-prun/core'
import { createBinningEstimator } from '@mi-prun/mi-binning'
import { correlatedGaussian } from '@mi-prun/testkit'

// Inputs are built outside the timed region; names encode the size.
describe('binning', () => {
  for (const [n, d] of [
    [1000, 1],
    [4096, 64],
    [4096, 512],
  ] as const) {
    const { x, y } = correlatedGaussian(createRng(1), n, d, 0.5)
    const ef = createBinningEstimator({ bins: 16 })
    const ew = createBinningEstimator({ bins: 16, strategy: 'equal-width' })
    const rp = createBinningEstimator({ bins: 16, projection: 'random', directions: 16 })
    bench(`binning-ef:n=${n},d=${d}`, () => void ef.estimate(x, y))
    bench(`binning-ew:n=${n},d=${d}`, () => void ew.estimate(x, y))
    bench(`binning-random16:n=${n},d=${d}`, () => void rp.estimate(x, y))
  }
})
