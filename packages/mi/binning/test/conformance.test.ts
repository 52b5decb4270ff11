import { createBinningEstimator } from '@mi-prun/mi-binning'
import { describeEstimator } from '@mi-prun/testkit'

// Defaults: 16 equal-frequency bins, Miller–Madow, coordinate pairs (n = 1000, d = 2 in the suite).
describeEstimator({
  name: 'binning (defaults: equal-frequency, 16 bins, Miller–Madow)',
  create: (seed) => createBinningEstimator({ seed }),
})

// Plug-in: the null is biased upward by (Kx−1)(Ky−1)/(2N) = 15²/2000 with every bin and cell occupied.
describeEstimator({
  name: 'binning (plug-in, equal-width, 8 bins)',
  create: (seed) => createBinningEstimator({ seed, correction: 'none', strategy: 'equal-width', bins: 8 }),
  nullBias: (7 * 7) / (2 * 1000),
})

describeEstimator({
  name: 'binning (random projections, 12 directions, 8 bins)',
  create: (seed) => createBinningEstimator({ seed, projection: 'random', directions: 12, bins: 8 }),
  dims: 3,
})
