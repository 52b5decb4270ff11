export { createFastBlockSelectSelector } from './fast-block-select.js'
export type {
  FastBlockSelectOptions,
  FbsCandidate,
  FbsGroup,
  FbsIteration,
  FbsTrace,
} from './fast-block-select.js'
export { conflictFreeSelect } from './conflict-free.js'
export type { WindowChoice, ConflictFreeResult } from './conflict-free.js'
