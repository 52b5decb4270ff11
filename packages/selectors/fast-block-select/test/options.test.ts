import { describe, expect, it } from 'vitest'
import { createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'

describe('createFastBlockSelectSelector option keys', () => {
  it('refuses an unknown key with a TypeError naming the closest one', () => {
    expect(() => createFastBlockSelectSelector({ maxIteration: 3 } as never)).toThrow(TypeError)
    expect(() => createFastBlockSelectSelector({ maxIteration: 3 } as never)).toThrow(
      /\[@mi-prun\/selector-fast-block-select\] unknown option "maxIteration" \(did you mean "maxIterations"\?\)/,
    )
    expect(() => createFastBlockSelectSelector({ protect: { lst: 1 } } as never)).toThrow(
      /did you mean "last"/,
    )
    expect(() => createFastBlockSelectSelector({ k: 0 })).toThrow(RangeError)
  })
})
