import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { keptRanges, mergekitYaml } from '../src/interop.js'

describe('mergekit passthrough config', () => {
  it('keeps the maximal runs of surviving layers as half-open ranges', () => {
    expect(keptRanges(12, [7, 10, 11])).toEqual([
      [0, 7],
      [8, 10],
    ])
    expect(keptRanges(4, [0])).toEqual([[1, 4]])
    expect(keptRanges(5, [1, 3])).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ])
  })
  it('the ranges cover exactly the kept layers, in order (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 40 })
          .chain((T) =>
            fc.tuple(
              fc.constant(T),
              fc.uniqueArray(fc.integer({ min: 0, max: T - 1 }), { maxLength: T - 1 }),
            ),
          ),
        ([T, removed]) => {
          const layers = keptRanges(T, removed).flatMap(([a, b]) =>
            Array.from({ length: b - a }, (_, i) => a + i),
          )
          expect(layers).toEqual(Array.from({ length: T }, (_, i) => i).filter((i) => !removed.includes(i)))
        },
      ),
    )
  })
  it('writes slices with the source model and merge_method passthrough', () => {
    expect(mergekitYaml('/m/llama', 4, [1])).toBe(
      [
        '# mergekit passthrough config written by mi-prun: removes blocks [1] of 4',
        '# rebuild with: mergekit-yaml mergekit.yaml OUT_DIR',
        'slices:',
        '  - sources:',
        '      - model: "/m/llama"',
        '        layer_range: [0, 1]',
        '  - sources:',
        '      - model: "/m/llama"',
        '        layer_range: [2, 4]',
        'merge_method: passthrough',
        '',
      ].join('\n'),
    )
  })
})
