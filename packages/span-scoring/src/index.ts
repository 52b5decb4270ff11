export { createSpanScorer, checkSpan } from './memo.js'
export type { SpanScorerOptions, MemoisedSpanScorer } from './memo.js'
export {
  resolveProtected,
  resolveBudget,
  requireScorer,
  removability,
  maximalRuns,
  setObjective,
  assertSelectorOptions,
  COMMON_SELECTOR_OPTION_KEYS,
} from './selection.js'
export type { ProtectOptions, CommonSelectorOptions, SyncSelector, AsyncSelector } from './selection.js'
export { SpanStatsAccumulator, spanStatIndex } from './stats.js'
export type { SpanStatistics } from './stats.js'
export { collectActivations, createActivationStore, createRandomProjection } from './store.js'
export type {
  ActivationStore,
  ActivationOptions,
  StateReducer,
  InMemoryStates,
  RandomProjectionOptions,
} from './store.js'
export { loadActivationDump } from './dump.js'
export {
  createMiSpanScorer,
  createBlockInfluenceScorer,
  createAngularDistanceScorer,
  createWindowCosineScorer,
} from './scorers.js'
export type {
  MiSpanScorerOptions,
  NanPolicy,
  BlockInfluenceOptions,
  AngularDistanceOptions,
} from './scorers.js'
export { createEnsembleScorer, averageRanks } from './ensemble.js'
export type { EnsembleOptions, EnsembleMethod } from './ensemble.js'
export { scoreTable } from './table.js'
export type { ScoreTable } from './table.js'
export { openActivationDump, loadActivationDumpFolder, storeFromDump } from './dump-shards.js'
export type { OpenedDump, DumpShard, DumpLoadOptions } from './dump-shards.js'
