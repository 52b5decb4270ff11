import { describe, expect, it } from 'vitest'
import { type Matrix, createRng, matrix } from '@mi-prun/core'
import { TOL_F64_ABS, correlatedGaussian, mapMatrix } from '@mi-prun/testkit'
import { createKsgEstimator } from '@mi-prun/mi-ksg'
import { referenceKsg } from './reference.js'

// Exactness against the plain reference (sort all distances), jitter off: the optimised search (insertion
// buffer, early exit, worker threads) must give the very same number.

function mixed(seed: number, n: number, quantum: number): { x: Matrix; y: Matrix } {
  const rng = createRng(seed)
  const q = (v: number): number => (quantum > 0 ? Math.round(v / quantum) * quantum : v)
  const x = new Float32Array(n * 2)
  const y = new Float32Array(n * 3)
  for (let i = 0; i < n; i++) {
    const a = rng.normal()
    const b = rng.normal()
    x[2 * i] = q(a)
    x[2 * i + 1] = q(b * 3)
    y[3 * i] = q(a + 0.5 * rng.normal())
    y[3 * i + 1] = q(Math.tanh(b) + 0.3 * rng.normal())
    y[3 * i + 2] = q(rng.normal())
  }
  return { x: matrix(n, 2, x), y: matrix(n, 3, y) }
}

function tags(n: number, seqLen: number): { sequence: Int32Array; position: Int32Array } {
  return {
    sequence: Int32Array.from({ length: n }, (_, i) => Math.floor(i / seqLen)),
    position: Int32Array.from({ length: n }, (_, i) => i % seqLen),
  }
}

describe('ksg equals the plain reference exactly (jitter 0)', () => {
  const continuous = mixed(5, 200, 0)
  // values on a 0.25 grid: many tied distances, so the (distance, index) order and strict/non-strict counts matter
  const tied = mixed(6, 200, 0.25)
  // 1+1 on a coarse grid: the low-dimensional case the sweep search is chosen for, with heavy ties
  const low = (() => {
    const rng = createRng(7)
    const xs = new Float32Array(200)
    const ys = new Float32Array(200)
    for (let i = 0; i < 200; i++) {
      xs[i] = Math.round(rng.normal() * 8) / 8
      ys[i] = Math.round((0.7 * xs[i]! + 0.7 * rng.normal()) * 8) / 8
    }
    return { x: matrix(200, 1, xs), y: matrix(200, 1, ys) }
  })()
  // 9+6 dims (the brute-force kernel's 4-coordinate blocks and their tails), partly tied (0.5 grid on x)
  const wide = (() => {
    const rng = createRng(8)
    const xs = new Float32Array(200 * 9)
    const ys = new Float32Array(200 * 6)
    for (let i = 0; i < 200; i++) {
      for (let c = 0; c < 9; c++) xs[i * 9 + c] = Math.round(rng.normal() * 2) / 2
      for (let c = 0; c < 6; c++) ys[i * 6 + c] = 0.6 * xs[i * 9 + c]! + 0.8 * rng.normal()
    }
    return { x: matrix(200, 9, xs), y: matrix(200, 6, ys) }
  })()
  const t = tags(200, 20)
  for (const [label, data] of [
    ['continuous', continuous],
    ['tied', tied],
    ['1+1 tied', low],
    ['9+6 wide', wide],
  ] as const) {
    for (const variant of [1, 2] as const) {
      for (const withinNorm of ['max', 'euclidean'] as const) {
        for (const theiler of [0, 3]) {
          it(`${label}, KSG-${variant}, ${withinNorm}, theiler=${theiler}, k = 1, 3, 7`, () => {
            for (const k of [1, 3, 7]) {
              for (const standardize of [true, false]) {
                const want = referenceKsg(data.x, data.y, {
                  variant,
                  k,
                  standardize,
                  withinNorm,
                  theiler,
                  tags: t,
                })
                for (const search of ['brute', 'sweep'] as const) {
                  const est = createKsgEstimator({
                    variant,
                    k,
                    jitter: 0,
                    withinNorm,
                    theiler,
                    standardize,
                    threads: 1,
                    search,
                  })
                  const got = est.estimate(data.x, data.y, { tags: t })
                  expect(
                    Object.is(got, want),
                    `${search} k=${k} standardize=${standardize}: ${got} vs ${want}`,
                  ).toBe(true)
                }
              }
            }
          })
        }
      }
    }
  }

  it('estimateMany equals single-k calls bit for bit, in the order asked', () => {
    const { x, y } = correlatedGaussian(createRng(8), 700, 3, 0.6)
    for (const variant of [1, 2] as const) {
      const ks = [10, 3, 1, 5]
      const many = createKsgEstimator({ variant, seed: 4 }).estimateMany(x, y, ks)
      const single = ks.map((k) => createKsgEstimator({ variant, k, seed: 4 }).estimate(x, y))
      expect(many.length).toBe(4)
      many.forEach((v, i) => expect(Object.is(v, single[i]), `k=${ks[i]}`).toBe(true))
      // and a repeated k
      expect(createKsgEstimator({ variant, seed: 4 }).estimateMany(x, y, [3, 3])).toEqual([
        single[1],
        single[1],
      ])
    }
  })

  it('locals: one per row, their mean is the estimate, KSG-2 locals match the reference counts', () => {
    const { x, y } = correlatedGaussian(createRng(9), 500, 2, 0.7)
    for (const variant of [1, 2] as const) {
      const est = createKsgEstimator({ variant, k: 4, seed: 2 })
      const loc = est.estimateLocal(x, y)
      expect(loc.length).toBe(500)
      const mean = loc.reduce((a, b) => a + b, 0) / loc.length
      expect(Math.abs(mean - est.estimate(x, y))).toBeLessThanOrEqual(TOL_F64_ABS)
      // locals genuinely vary per row (pointwise MI), they are not a broadcast mean
      expect(Math.max(...loc) - Math.min(...loc)).toBeGreaterThan(0.5)
    }
  })

  it('gives the same bits for 1, 2 and 3 threads and either search (worker pool, jitter on)', () => {
    const { x, y } = correlatedGaussian(createRng(10), 1000, 2, 0.5)
    const tg = tags(1000, 50)
    for (const variant of [1, 2] as const) {
      const runs = [1, 2, 3].flatMap((threads) =>
        (['brute', 'sweep'] as const).map((search) =>
          createKsgEstimator({ variant, threads, seed: 3, theiler: 2, search }).estimateMany(
            x,
            y,
            [1, 3, 6],
            { tags: tg },
          ),
        ),
      )
      for (const r of runs) expect(r).toEqual(runs[0])
      const locals = [1, 2].map((threads) =>
        createKsgEstimator({ variant, threads, seed: 3 }).estimateLocal(x, y),
      )
      expect(Array.from(locals[1]!)).toEqual(Array.from(locals[0]!))
    }
  })

  it('Theiler window removes serially correlated neighbours (and matches the reference)', () => {
    // 40 slowly drifting sequences of 30 steps: same-sequence neighbours are near-duplicates in x AND y,
    // independent across sequences. True per-step MI is modest; without the window KSG is inflated.
    const rng = createRng(12)
    const n = 1200
    const seqLen = 30
    const xs = new Float32Array(n)
    const ys = new Float32Array(n)
    let a = 0
    let b = 0
    for (let i = 0; i < n; i++) {
      if (i % seqLen === 0) {
        a = rng.normal()
        b = rng.normal()
      }
      a += 0.05 * rng.normal()
      b += 0.05 * rng.normal()
      xs[i] = a
      ys[i] = b
    }
    const x = matrix(n, 1, xs)
    const y = matrix(n, 1, ys)
    const tg = tags(n, seqLen)
    const off = createKsgEstimator({ jitter: 0 }).estimate(x, y, { tags: tg })
    const on = createKsgEstimator({ jitter: 0, theiler: 10 }).estimate(x, y, { tags: tg })
    // x and y drift independently: without the window, each point's neighbours are its own sequence's
    // steps (close in x and y together), a spurious dependence
    expect(off).toBeGreaterThan(0.5)
    expect(on).toBeLessThan(off - 0.3)
    expect(on).toBe(
      referenceKsg(x, y, { variant: 1, k: 3, standardize: true, withinNorm: 'max', theiler: 10, tags: tg }),
    )
    // tags are ignored when theiler = 0
    expect(createKsgEstimator({ jitter: 0 }).estimate(x, y)).toBe(off)
  })
})
