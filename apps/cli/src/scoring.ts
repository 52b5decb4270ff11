import { createBinningEstimator } from '@mi-prun/mi-binning'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { createKsgEstimator } from '@mi-prun/mi-ksg'
import { createPcaReducer, createRandomProjectionReducer } from '@mi-prun/mi-reducers'
import { suggestion } from '@mi-prun/core'
import type { MIEstimator, Reducer } from '@mi-prun/core'
import { createEnsembleScorer, createMiSpanScorer } from '@mi-prun/span-scoring'
import type { ActivationStore, MemoisedSpanScorer } from '@mi-prun/span-scoring'
import { CliError, exitCodes } from './errors.js'

export interface EstimatorParams {
  /** KSG neighbours. */
  readonly k: number
  readonly seed: number
}

/** MI estimators by CLI name (frozen; the `--estimator` values are derived from it). */
export const estimatorFactories = Object.freeze({
  ksg: (p: EstimatorParams): MIEstimator => createKsgEstimator({ k: p.k, seed: p.seed }),
  gaussian: (_p: EstimatorParams): MIEstimator => createGaussianEstimator(),
  binning: (p: EstimatorParams): MIEstimator => createBinningEstimator({ seed: p.seed }),
})
export type EstimatorName = keyof typeof estimatorFactories

/** Dimension reducers by CLI name (`pca:R`, `rp:R`). */
export const reducerFactories = Object.freeze({
  pca: (rank: number, seed: number): Reducer => createPcaReducer({ rank, seed }),
  rp: (rank: number, seed: number): Reducer => createRandomProjectionReducer({ rank, seed }),
})
export type ReducerName = keyof typeof reducerFactories

/** `ksg` → ['ksg']; `ensemble:ksg,gaussian` → ['ksg', 'gaussian']; anything else is a usage error. */
export function parseEstimatorSpec(spec: string): EstimatorName[] {
  const names = spec.startsWith('ensemble:') ? spec.slice('ensemble:'.length).split(',') : [spec]
  const known = Object.keys(estimatorFactories)
  for (const n of names) {
    if (!known.includes(n)) {
      throw new CliError(
        exitCodes.usage,
        `[@mi-prun/cli] --estimator ${spec}: unknown estimator "${n}" ${suggestion(n, known)}; choose ${known.join(', ')} or ensemble:a,b`,
      )
    }
  }
  if (spec.startsWith('ensemble:') && names.length < 2) {
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] --estimator ${spec}: an ensemble needs two or more estimators, e.g. ensemble:ksg,gaussian`,
    )
  }
  return names as EstimatorName[]
}

/** `pca:64` / `rp:32` / `none` → a reducer (rank checked against the hidden size). */
export function parseReducerSpec(spec: string, hiddenSize: number, seed: number): Reducer | undefined {
  if (spec === 'none') return undefined
  const m = /^(pca|rp):(\d+)$/.exec(spec)
  if (!m)
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] --reducer ${spec}: use pca:R, rp:R (R a positive integer) or none`,
    )
  const rank = Number(m[2])
  if (rank < 1 || rank > hiddenSize) {
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] --reducer ${spec}: R must be in [1, ${hiddenSize}] (the model's hidden size)`,
    )
  }
  return reducerFactories[m[1] as ReducerName](rank, seed)
}

/** The MI span scorer of an estimator spec over a store (an ensemble of MI scorers for `ensemble:`). */
export function createMiScorer(
  store: ActivationStore,
  spec: string,
  reducer: Reducer | undefined,
  params: EstimatorParams,
): MemoisedSpanScorer {
  const names = parseEstimatorSpec(spec)
  if (names.includes('ksg') && params.k >= store.samples) {
    throw new CliError(
      exitCodes.infeasible,
      `[@mi-prun/cli] --k ${params.k} must be smaller than the number of MI samples (${store.samples}): lower --k or raise --tokens/--samples`,
    )
  }
  const members = names.map((n) =>
    createMiSpanScorer({ store, estimator: estimatorFactories[n](params), ...(reducer ? { reducer } : {}) }),
  )
  return members.length === 1 ? members[0]! : createEnsembleScorer({ scorers: members })
}
