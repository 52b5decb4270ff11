import { describe, expect, it } from 'vitest'
import { PruneError, createRng, isPruneError, matrix } from '@mi-prun/core'
import { correlatedGaussian } from '@mi-prun/testkit'
import { type KsgOptions, createKsgEstimator } from '@mi-prun/mi-ksg'

function code(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(PruneError)
    expect((e as Error).message.startsWith('[@mi-prun/mi-ksg]')).toBe(true)
    return isPruneError(e) ? e.code : 'not a PruneError'
  }
  return undefined
}

describe('settings and validation', () => {
  it('has name "ksg" and the tagged settings (no thread count)', () => {
    const est = createKsgEstimator({ variant: 2, k: 5, seed: 9, theiler: 2, threads: 1 })
    expect(est.name).toBe('ksg')
    expect(est.settings).toEqual({
      kind: 'ksg',
      variant: 2,
      k: 5,
      jitter: 1e-10,
      seed: 9,
      standardize: true,
      theiler: 2,
      withinNorm: 'max',
    })
    expect(createKsgEstimator().settings).toEqual({
      kind: 'ksg',
      variant: 1,
      k: 3,
      jitter: 1e-10,
      seed: 0,
      standardize: true,
      theiler: 0,
      withinNorm: 'max',
    })
  })

  it('rejects bad options at construction', () => {
    const bad: KsgOptions[] = [
      { k: 0 },
      { k: 2.5 },
      { k: -1 },
      { variant: 3 as 1 },
      { jitter: -1 },
      { jitter: Number.NaN },
      { theiler: -1 },
      { theiler: 1.5 },
      { threads: 0 },
      { withinNorm: 'l1' as 'max' },
      { seed: Number.POSITIVE_INFINITY },
      { search: 'kd' as 'brute' },
    ]
    for (const o of bad) {
      expect(() => createKsgEstimator(o), JSON.stringify(o)).toThrow(RangeError)
      expect(() => createKsgEstimator(o), JSON.stringify(o)).toThrow(/^\[@mi-prun\/mi-ksg\] /)
    }
  })

  it('refuses an unknown option key, naming the valid keys or the closest one', () => {
    // `neighbors` used to be ignored silently and k = 3 ran.
    expect(() => createKsgEstimator({ neighbors: 5 } as KsgOptions)).toThrow(TypeError)
    expect(() => createKsgEstimator({ neighbors: 5 } as KsgOptions)).toThrow(
      /unknown option "neighbors" \(did you mean "k"\?\)/,
    )
    expect(() => createKsgEstimator({ theiller: 2 } as KsgOptions)).toThrow(
      /unknown option "theiller" \(did you mean "theiler"\?\)/,
    )
    expect(() => createKsgEstimator({ standardise: false } as KsgOptions)).toThrow(
      /did you mean "standardize"/,
    )
    expect(() => createKsgEstimator({ standardize: 'yes' as unknown as boolean })).toThrow(TypeError)
  })

  it('rejects k ≥ N, with k and N in the message', () => {
    const { x, y } = correlatedGaussian(createRng(1), 10, 2, 0.5)
    expect(code(() => createKsgEstimator({ k: 10 }).estimate(x, y))).toBe('INSUFFICIENT_SAMPLES')
    expect(() => createKsgEstimator({ k: 12 }).estimate(x, y)).toThrow(/k must be < N \(k=12, N=10\)/)
    expect(createKsgEstimator({ k: 9 }).estimate(x, y)).toBeTypeOf('number')
    expect(code(() => createKsgEstimator().estimateMany(x, y, [3, 10]))).toBe('INSUFFICIENT_SAMPLES')
    expect(() => createKsgEstimator().estimateMany(x, y, [])).toThrow(RangeError)
    expect(() => createKsgEstimator().estimateMany(x, y, [3, 0])).toThrow(RangeError)
    expect(() => createKsgEstimator().estimateMany(x, y, [1.5])).toThrow(RangeError)
  })

  it('rejects NaN/Inf (naming variable, row and column), mismatched rows and empty input', () => {
    const { x, y } = correlatedGaussian(createRng(2), 20, 3, 0.5)
    const est = createKsgEstimator()
    const nan = matrix(20, 3, Float32Array.from(x.data))
    nan.data[3 * 7 + 2] = Number.NaN
    expect(code(() => est.estimate(nan, y))).toBe('NON_FINITE')
    expect(() => est.estimate(nan, y)).toThrow(/x has a non-finite value \(NaN\) at row 7, column 2/)
    const inf = matrix(20, 3, Float32Array.from(y.data))
    inf.data[5] = Number.NEGATIVE_INFINITY
    expect(() => est.estimateLocal(x, inf)).toThrow(
      /y has a non-finite value \(-Infinity\) at row 1, column 2/,
    )
    expect(code(() => est.estimate(x, matrix(19, 3)))).toBe('INVALID_INPUT')
    expect(() => est.estimate(x, matrix(19, 3))).toThrow(/x has 20, y has 19/)
    expect(code(() => est.estimate(matrix(0, 3), matrix(0, 3)))).toBe('INSUFFICIENT_SAMPLES')
    expect(code(() => est.estimate(matrix(20, 0), y))).toBe('INVALID_INPUT')
  })

  it('Theiler: needs tags of the right length, and errors when too few neighbours remain', () => {
    const { x, y } = correlatedGaussian(createRng(3), 40, 1, 0.5)
    const est = createKsgEstimator({ theiler: 2, k: 3 })
    expect(code(() => est.estimate(x, y))).toBe('INVALID_INPUT')
    const seq = (s: number): Int32Array => Int32Array.from({ length: 40 }, (_, i) => Math.floor(i / s))
    const pos = (s: number): Int32Array => Int32Array.from({ length: 40 }, (_, i) => i % s)
    expect(
      code(() =>
        est.estimate(x, y, { tags: { sequence: seq(10).subarray(1), position: pos(10).subarray(1) } }),
      ),
    ).toBe('INVALID_INPUT')
    // one sequence of 40: with w=18 every row keeps ≥ 3 rows (row 19 keeps 38, 39 and 0);
    // with w=19 row 19 excludes positions 0..38 and keeps only row 39 (1 < k=3)
    const one = { sequence: new Int32Array(40), position: Int32Array.from({ length: 40 }, (_, i) => i) }
    expect(createKsgEstimator({ theiler: 18 }).estimate(x, y, { tags: one })).toBeTypeOf('number')
    expect(code(() => createKsgEstimator({ theiler: 19 }).estimate(x, y, { tags: one }))).toBe(
      'INSUFFICIENT_SAMPLES',
    )
    expect(() => createKsgEstimator({ theiler: 19 }).estimate(x, y, { tags: one })).toThrow(
      /leaves row 19 \(sequence 0, position 19\) only 1 eligible neighbours, fewer than k=3/,
    )
    // 4 sequences of 10: even w=1000 leaves 30 rows from the other sequences
    expect(
      createKsgEstimator({ theiler: 1000 }).estimate(x, y, {
        tags: { sequence: seq(10), position: pos(10) },
      }),
    ).toBeTypeOf('number')
  })
})
