import { describe, expect, it } from 'vitest'
import { assertKnownOptions, closestName, editDistance } from '@mi-prun/core'

describe('assertKnownOptions', () => {
  it('accepts known keys and undefined', () => {
    expect(() => assertKnownOptions('@mi-prun/x', { k: 3 }, ['k', 'seed'])).not.toThrow()
    expect(() => assertKnownOptions('@mi-prun/x', undefined, ['k'])).not.toThrow()
  })
  it('names the closest valid key of an unknown one', () => {
    expect(() => assertKnownOptions('@mi-prun/mi-binning', { nbins: 8 }, ['bins', 'strategy'])).toThrow(
      new TypeError('[@mi-prun/mi-binning] unknown option "nbins" (did you mean "bins"?)'),
    )
    expect(() => assertKnownOptions('@mi-prun/eval', { seqLen: 8 }, ['sequenceLength', 'stride'])).toThrow(
      /unknown option "seqLen" \(did you mean "sequenceLength"\?\)/,
    )
  })
  it('lists the valid keys when nothing is close', () => {
    expect(() => assertKnownOptions('@mi-prun/mi-ksg', { neighbors: 5 }, ['k', 'variant'])).toThrow(
      '[@mi-prun/mi-ksg] unknown option "neighbors" (valid: "k", "variant")',
    )
  })
  it('refuses non-objects', () => {
    expect(() => assertKnownOptions('@mi-prun/x', 5, ['k'])).toThrow(TypeError)
    expect(() => assertKnownOptions('@mi-prun/x', [1], ['k'])).toThrow(/an array/)
    expect(() => assertKnownOptions('@mi-prun/x', null, ['k'])).toThrow(/null/)
  })
  it('edit distance is the Levenshtein distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('same', 'same')).toBe(0)
    expect(closestName('strateg', ['bins', 'strategy'])).toBe('strategy')
    // both are substring matches; the smaller edit distance wins, not the first listed
    expect(() => assertKnownOptions('pkg', { neighbors: 5 }, ['k', 'seed'], { neighbors: 'k' })).toThrow(
      /unknown option "neighbors" \(did you mean "k"\?\)/,
    )
    // an alias to a key that is not allowed is ignored (no wrong suggestion)
    expect(() => assertKnownOptions('pkg', { neighbors: 5 }, ['seed'], { neighbors: 'k' })).toThrow(
      /valid: "seed"/,
    )
    expect(closestName('maxIteration', ['ratio', 'protect', 'maxIterations'])).toBe('maxIterations')
    expect(closestName('zzzzzz', ['bins', 'strategy'])).toBeUndefined()
  })
})
