import { createGaussianEstimator, gaussianMiBias } from '@mi-prun/mi-gaussian'
import { describeEstimator } from '@mi-prun/testkit'

describeEstimator({ name: 'gaussian (bias-corrected)', create: () => createGaussianEstimator() })
describeEstimator({ name: 'gaussian, 8+8 dims', create: () => createGaussianEstimator(), dims: 8 })
describeEstimator({
  name: 'gaussian copula',
  create: () => createGaussianEstimator({ copula: true }),
  dims: 3,
})
describeEstimator({
  name: 'gaussian uncorrected',
  create: () => createGaussianEstimator({ biasCorrect: false }),
  dims: 4,
  // E[raw] under independence = b(4)+b(4)−b(8) at N = 1000 (mi-estimators.md §4)
  nullBias: gaussianMiBias(4, 4, 1000),
})
