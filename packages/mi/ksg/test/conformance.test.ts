import { describeEstimator } from '@mi-prun/testkit'
import { createKsgEstimator } from '@mi-prun/mi-ksg'

describeEstimator({
  name: 'ksg (KSG-1, k=3)',
  create: (seed) => createKsgEstimator({ seed }),
  dims: 2,
  n: 1000,
})
describeEstimator({
  name: 'ksg (KSG-2, k=4)',
  create: (seed) => createKsgEstimator({ seed, variant: 2, k: 4 }),
  dims: 3,
  n: 800,
})
