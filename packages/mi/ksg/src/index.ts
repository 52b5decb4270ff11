export { createKsgEstimator, SWEEP_MAX_DIMS } from './ksg.js'
export type { KsgEstimator, KsgOptions, KsgSettings } from './ksg.js'
export { terminateKsgWorkers } from './pool.js'
