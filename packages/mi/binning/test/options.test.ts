import { describe, expect, it } from 'vitest'
import { createBinningEstimator } from '@mi-prun/mi-binning'

describe('createBinningEstimator option keys', () => {
  it('refuses an unknown key naming the closest one (nbins used to run 16 bins silently)', () => {
    expect(() => createBinningEstimator({ nbins: 8 } as never)).toThrow(TypeError)
    expect(() => createBinningEstimator({ nbins: 8 } as never)).toThrow(
      /\[@mi-prun\/mi-binning\] unknown option "nbins" \(did you mean "bins"\?\)/,
    )
    expect(() => createBinningEstimator({ bins: '8' as never })).toThrow(TypeError)
    expect(() => createBinningEstimator({ bins: 1 })).toThrow(RangeError)
    expect(createBinningEstimator({ bins: 8 }).settings.bins).toBe(8)
  })
})
