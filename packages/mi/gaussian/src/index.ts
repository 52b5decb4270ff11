export { createGaussianEstimator, gaussianMiFromCovariance } from './gaussian.js'
export type { GaussianOptions, GaussianDetail, GaussianEstimator } from './gaussian.js'
export { gaussianBias, gaussianMiBias } from './bias.js'
export {
  gramUpper,
  gramUpperScalar,
  symmetrizeFromUpper,
  choleskyDropping,
  choleskyDroppingUnblocked,
} from './kernels.js'
export { simdAvailable, gemmABtSimd } from './gram-simd.js'
export type { DroppingCholesky } from './kernels.js'
export { normalScores } from './copula.js'
