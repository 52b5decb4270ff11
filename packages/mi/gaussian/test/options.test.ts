import { describe, expect, it } from 'vitest'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'

describe('createGaussianEstimator option keys', () => {
  it('refuses an unknown key naming the closest one; a wrong type is a TypeError', () => {
    expect(() => createGaussianEstimator({ biasCorrection: false } as never)).toThrow(
      /\[@mi-prun\/mi-gaussian\] unknown option "biasCorrection" \(did you mean "biasCorrect"\?\)/,
    )
    expect(() => createGaussianEstimator({ shrink: 0.1 } as never)).toThrow(/did you mean "shrinkage"/)
    expect(() => createGaussianEstimator({ copula: 1 as never })).toThrow(TypeError)
    expect(() => createGaussianEstimator({ shrinkage: 2 })).toThrow(RangeError)
  })
})
