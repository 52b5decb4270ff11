export { createBinningEstimator } from './binning.js'
export type {
  BinningOptions,
  BinningSettings,
  BinningStrategy,
  BinningCorrection,
  BinningProjection,
  BinningPair,
  BinningDetail,
  BinningEstimator,
} from './binning.js'
