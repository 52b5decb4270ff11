export type {
  Activation,
  Arch,
  AttentionSpec,
  BlockSpec,
  EmbeddingSpec,
  HeadSpec,
  Linear,
  MlpSpec,
  MoeSpec,
  NormSpec,
  OutSelection,
  RotarySpec,
  RotaryTable,
  WeightRef,
} from './arch.js'
export { ConfigReader, NON_NUMERICS_KEYS } from './config.js'
export type { Config } from './config.js'
export { block, embedding, head, sumNextTokenNll } from './ops.js'
export type { Ops } from './ops.js'
export { readRopeParameters, rotaryCosSin, rotaryTable, ropeTypes } from './rope.js'
export type { RopeContext, RopeParameters, RopeTypeImpl } from './rope.js'
export { selectedIndices, viewOutSize, viewWeight } from './views.js'
export type { DenseTensor } from './views.js'
export { blockWeights, globalWeights } from './walk.js'
export type { WeightUse } from './walk.js'
export { floatPaths, serializeConfig } from './config-json.js'
export { families, familyOf, parseModel, parseWithFamily, prunedConfig } from './registry.js'
export { NUMERICS_KEYS } from './numerics-keys.js'
export type { Family, FamilyName } from './registry.js'
export { activate, createReferenceOps, erf, runReference } from './reference.js'
export type { RefTensor, ReferenceResult, ReferenceRunOptions } from './reference.js'
