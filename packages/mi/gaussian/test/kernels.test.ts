import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createRng } from '@mi-prun/core'
import {
  choleskyDropping,
  gramUpper,
  gramUpperScalar,
  simdAvailable,
  symmetrizeFromUpper,
} from '@mi-prun/mi-gaussian'
// @ts-expect-error: plain .mjs build script without type declarations
import { compileGramWat } from '../scripts/build-wasm.mjs'

describe('kernels', () => {
  it('the SIMD WebAssembly kernel is available on Node 20', () => {
    expect(simdAvailable()).toBe(true)
  })
  for (const [n, d] of [
    [257, 67],
    [1000, 64],
    [513, 130],
    [3, 2],
  ] as const) {
    it(`gramUpper (SIMD) = gramUpperScalar = naive ZᵀZ to 1e-13 (n = ${n}, d = ${d})`, () => {
      const rng = createRng(n * d)
      const z = Float64Array.from({ length: n * d }, () => rng.normal() + 0.5)
      const a = gramUpper(n, d, z, new Float64Array(d * d).fill(7))
      const b = gramUpperScalar(n, d, z, new Float64Array(d * d))
      let worst = 0
      for (const [p, q] of [
        [0, 0],
        [0, d - 1],
        [d - 1, d - 1],
        [Math.max(0, d - 2), d - 1],
      ] as const) {
        let s = 0
        for (let i = 0; i < n; i++) s += z[p * n + i]! * z[q * n + i]!
        expect(Math.abs(a[p * d + q]! - s)).toBeLessThanOrEqual(1e-13 * (1 + Math.abs(s)) * n)
      }
      for (let p = 0; p < d; p++)
        for (let q = p; q < d; q++)
          worst = Math.max(worst, Math.abs(a[p * d + q]! - b[p * d + q]!) / (1 + Math.abs(b[p * d + q]!)))
      expect(worst).toBeLessThanOrEqual(1e-13)
    })
  }
  it('the embedded WebAssembly binary is the compiled wasm/gram.wat', async () => {
    const text = readFileSync(new URL('../src/gram-wasm.ts', import.meta.url), 'utf8')
    const b64 = (await compileGramWat()) as string
    expect(text).toContain(`'${b64}'`)
  })
  it('choleskyDropping factors an SPD matrix exactly and drops a dependent column', () => {
    // A = L Lᵀ with L = [[2,0,0],[1,3,0],[−1,2,1]]
    const l = [2, 0, 0, 1, 3, 0, -1, 2, 1]
    const a = new Float64Array(9)
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 3; k++) a[i * 3 + j] = a[i * 3 + j]! + l[i * 3 + k]! * l[j * 3 + k]!
    const f = choleskyDropping(3, Float64Array.from(a), 1e-14)
    expect(Array.from(f.pivots)).toEqual([4, 9, 1])
    expect(f.dropped).toBe(0)
    // column 2 := column 0 + column 1 (a PSD, rank-2 matrix)
    const z = new Float64Array([1, 2, 3, 0, 1, 5, 1, 3, 8]) // column-major 3×3, third = first + second
    const c = symmetrizeFromUpper(3, gramUpperScalar(3, 3, z, new Float64Array(9)))
    const g = choleskyDropping(3, c, 1e-13)
    expect(Array.from(g.kept)).toEqual([1, 1, 0])
    expect(g.dropped).toBe(1)
    expect(g.negative).toBe(0)
  })
})

describe('blocked Cholesky', () => {
  it('matches the unblocked factorisation (d = 400, with duplicated, constant and pre-dropped columns)', async () => {
    const { choleskyDroppingUnblocked } = await import('@mi-prun/mi-gaussian')
    const n = 900
    const d = 400
    const rng = createRng(77)
    const z = new Float64Array(n * d)
    for (let j = 0; j < d; j++)
      for (let i = 0; i < n; i++) {
        if (j === 70)
          z[j * n + i] = z[3 * n + i]! // duplicate of column 3 (dropped)
        else if (j === 200)
          z[j * n + i] = 0 // constant (dropped)
        else if (j === 250)
          z[j * n + i] = z[10 * n + i]! - 2 * z[140 * n + i]! // combination (dropped)
        else z[j * n + i] = rng.normal() + (j > 0 ? 0.3 * z[(j - 1) * n + i]! : 0)
      }
    const c = symmetrizeFromUpper(d, gramUpperScalar(n, d, z, new Float64Array(d * d)))
    const pre = new Uint8Array(d)
    pre[130] = 1
    const tol = 16 * d * 2.220446049250313e-16
    const b = choleskyDropping(d, Float64Array.from(c), tol, pre)
    const u = choleskyDroppingUnblocked(d, Float64Array.from(c), tol, pre)
    expect(Array.from(b.kept)).toEqual(Array.from(u.kept))
    expect([b.dropped, b.negative]).toEqual([3, 0])
    expect([u.dropped, u.negative]).toEqual([3, 0])
    for (const j of [3, 70, 130, 200, 250]) expect([j, b.kept[j]]).toEqual([j, j === 3 ? 1 : 0])
    let worst = 0
    for (let j = 0; j < d; j++)
      worst = Math.max(worst, Math.abs(b.pivots[j]! - u.pivots[j]!) / (1 + u.pivots[j]!))
    expect(worst).toBeLessThanOrEqual(1e-10)
    // log-determinant over the kept columns agrees to 1e-9
    const ld = (f: typeof b): number =>
      Array.from(f.pivots).reduce((s, p) => (p > 0 ? s + Math.log(p) : s), 0)
    expect(Math.abs(ld(b) - ld(u))).toBeLessThanOrEqual(1e-9)
  })
})
