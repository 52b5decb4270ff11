import { describe, expect, it } from 'vitest'
import {
  createBestWindowSelector,
  createExactMiSelector,
  createExactPerplexitySelector,
  createPerplexityRankSelector,
  createRandomSelector,
  createSlebSelector,
  createTopNSelector,
} from '@mi-prun/selector-baselines'

const bad = (o: object): never => o as never

describe('baseline selector option keys', () => {
  it('every factory refuses an unknown key with a TypeError naming the closest one', () => {
    expect(() => createTopNSelector(bad({ ration: 0.25 }))).toThrow(
      /\[@mi-prun\/selector-baselines\] unknown option "ration" \(did you mean "ratio"\?\)/,
    )
    expect(() => createBestWindowSelector(bad({ protected: { first: 1 } }))).toThrow(/did you mean "protect"/)
    expect(() => createRandomSelector(bad({ seeds: [1, 2] }))).toThrow(/did you mean "seed"/)
    expect(() => createSlebSelector(bad({ earlybarrier: 2 }))).toThrow(/did you mean "earlyBarrier"/)
    expect(() => createPerplexityRankSelector(bad({ k: 3 }))).toThrow(TypeError)
    expect(() => createExactMiSelector(bad({ maxCombination: 10 }))).toThrow(/did you mean "maxCombinations"/)
    expect(() => createExactPerplexitySelector(bad({ algorithm: 'enumerate' }))).toThrow(
      /unknown option "algorithm"/,
    )
    expect(() => createTopNSelector(bad({ protect: { frist: 1 } }))).toThrow(
      /unknown option "protect.frist" \(did you mean "first"\?\)/,
    )
    expect(() => createTopNSelector(bad({ protect: [0, 1] }))).toThrow(TypeError)
    // the valid keys still pass
    expect(
      createRandomSelector({ seed: 1, contiguous: true, ratio: 0.25, protect: { first: 1 } }).name,
    ).toBeTypeOf('string')
  })
})
