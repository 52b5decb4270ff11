export { createKsgEstimator } from './ksg.js'
export type { KsgEstimator, KsgOptions, KsgSettings } from './ksg.js'
export { terminateKsgWorkers } from './pool.js'
