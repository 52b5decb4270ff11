export { floatDTypes, specDTypeBytes, isFloatDType, decodeFloats, encodeFloats } from './dtype.js'
export type { FloatDType } from './dtype.js'
export {
  MAX_HEADER_BYTES,
  readSafetensorsHeader,
  readTensorBytes,
  readTensorF32,
  readTensorF32Into,
  readTensorRangeF32,
} from './file.js'
export type { TensorEntry, SafetensorsFile, ReadHeaderOptions } from './file.js'
export { encodeHeader, writeSafetensors, writeShardedSafetensors } from './write.js'
export type { TensorSource, WriteOptions, ShardedWriteOptions } from './write.js'
export { openCheckpoint, readConfig } from './checkpoint.js'
export type { Checkpoint } from './checkpoint.js'
