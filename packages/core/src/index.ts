export { PruneError, assert, isPruneError } from './errors.js'
export type { PruneErrorCode } from './errors.js'
export { matrix, rowView, selectRows, toFloat64Columns, validatePair } from './matrix.js'
export type { Matrix } from './matrix.js'
export { createRng } from './rng.js'
export type { Rng } from './rng.js'
export { digamma, lnGamma, digammaTable, LN2 } from './special.js'
export { blocksForRatio, checkBudget } from './budget.js'
export { validateTokenBatch, normaliseSkip } from './batch.js'
export { assertKnownOptions, closestName, editDistance, suggestion } from './options.js'
export type {
  Brand,
  BlockIndex,
  MIUnit,
  EstimatorSettings,
  RowTags,
  EstimateOptions,
  MIEstimator,
  MIScore,
  Reducer,
  TokenBatch,
  ModelFormat,
  ModelInfo,
  ForwardOptions,
  ForwardStart,
  ForwardResult,
  NllResult,
  ExportResult,
  ModelAdapter,
  SpanScorer,
  SelectionContext,
  SelectionCost,
  Selection,
  Selector,
} from './interfaces.js'
