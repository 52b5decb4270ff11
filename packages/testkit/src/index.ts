export { TOL_F32_REL, TOL_F64_ABS, TOL_GOLDEN_ABS, TOL_ANALYTIC_ABS } from './tolerances.js'
export { correlatedGaussian, independentGaussian, mapMatrix, permuteRows, meanSd } from './data.js'
export { describeEstimator } from './describe-estimator.js'
export type { EstimatorConformanceOptions } from './describe-estimator.js'
