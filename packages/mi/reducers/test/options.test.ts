import { describe, expect, it } from 'vitest'
import { createPcaReducer, createRandomProjectionReducer } from '@mi-prun/mi-reducers'

describe('reducer option keys', () => {
  it('refuses unknown keys naming the closest one', () => {
    expect(() => createPcaReducer({ rank: 4, centre: false } as never)).toThrow(
      /\[@mi-prun\/mi-reducers\] unknown option "centre" \(did you mean "center"\?\)/,
    )
    expect(() => createPcaReducer({ rank: 4, powerIteration: 2 } as never)).toThrow(
      /did you mean "powerIterations"/,
    )
    expect(() => createRandomProjectionReducer({ rank: 4, sed: 1 } as never)).toThrow(/did you mean "seed"/)
    // span-scoring's old name and scikit-learn's: refused, pointing at rank
    expect(() => createRandomProjectionReducer({ dims: 4 } as never)).toThrow(
      /unknown option "dims" \(did you mean "rank"\?\)/,
    )
    expect(() => createPcaReducer({ n_components: 4 } as never)).toThrow(/did you mean "rank"/)
    expect(() => createPcaReducer({} as never)).toThrow(TypeError)
    expect(() => createPcaReducer({ rank: 0 })).toThrow(RangeError)
  })
})
