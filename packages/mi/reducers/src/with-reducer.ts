import {
  type EstimateOptions,
  type EstimatorSettings,
  type MIEstimator,
  type Matrix,
  type Reducer,
  validatePair,
} from '@mi-prun/core'

const PKG = '@mi-prun/mi-reducers'

/** What {@link ReducedEstimator.estimateWithInfo} reports: the value and the provenance of the reduction. */
export interface ReducedEstimate {
  /** The estimator's value on the reduced pair (nats): "MI after reduction". */
  readonly value: number
  /** Samples and dimensions as seen by the estimator (after reduction). */
  readonly n: number
  readonly dx: number
  readonly dy: number
  /** The reducer's info (explained variance, effective ranks, ...). */
  readonly info: Readonly<Record<string, number>>
}

/** An estimator preceded by a reducer. */
export interface ReducedEstimator extends MIEstimator {
  readonly estimator: MIEstimator
  readonly reducer: Reducer
  /** Like `estimate`, with the reduced dimensions and the reducer's info. */
  estimateWithInfo(x: Matrix, y: Matrix, options?: EstimateOptions): ReducedEstimate
}

/**
 * Puts a dimension reducer in front of any estimator: `estimate(x, y)` validates the pair, reduces it
 * and estimates on the result. The name is `<estimator>+<reducer>` (e.g. `gaussian+pca64`) and the
 * settings are `{ ...estimator.settings, reducer: reducer.settings }`. By the data-processing
 * inequality the value is a lower bound on the unreduced MI and must be reported as MI after reduction.
 * @example
 * const est = withReducer(createGaussianEstimator(), createPcaReducer({ rank: 64 }))
 * est.name // 'gaussian+pca64'
 */
export function withReducer(estimator: MIEstimator, reducer: Reducer): ReducedEstimator {
  const settings: EstimatorSettings = { ...estimator.settings, reducer: reducer.settings }
  const estimateWithInfo = (x: Matrix, y: Matrix, options?: EstimateOptions): ReducedEstimate => {
    validatePair(PKG, x, y, 2)
    const r = reducer.reducePair(x, y)
    const value = estimator.estimate(r.x, r.y, options)
    return { value, n: r.x.rows, dx: r.x.cols, dy: r.y.cols, info: r.info ?? {} }
  }
  return {
    name: `${estimator.name}+${reducer.name}`,
    settings,
    estimator,
    reducer,
    estimate: (x, y, options) => estimateWithInfo(x, y, options).value,
    estimateWithInfo,
  }
}
