import { gemmABtSimd, gramUpperSimd, simdAvailable } from './gram-simd.js'

/**
 * Float64 linear-algebra kernels of the Gaussian estimator: the symmetric cross-product ZᵀZ and a
 * Cholesky factorisation that drops linearly dependent columns. Kernels never throw; validation
 * happens at the public boundary.
 */

/** Rows per cache block of the cross-product kernel: 8 columns × 256 rows × 8 B = 16 KiB (L1). */
const ROW_BLOCK = 256

/** Below this many multiply-adds (n·d²/2) the plain JS kernel is used: copying into WebAssembly memory costs more. */
const SIMD_MIN_WORK = 1 << 14

/**
 * Upper triangle of the cross-product C = ZᵀZ for a column-major Z with `n` rows and `d` columns
 * (column j is `z[j*n .. (j+1)*n)`). Writes C[a*d+b] for a ≤ b (row-major d×d; the strict lower
 * triangle is unspecified: use {@link symmetrizeFromUpper}) and returns `out`. Uses the WebAssembly f64x2 SIMD kernel (wasm/gram.wat, 5–7× faster
 * on Node 20) when it is available and the product is large enough, otherwise {@link gramUpperScalar}.
 * Either path has a fixed summation order, so a given platform reproduces its results bit for bit;
 * the two paths differ by rounding only (≈1e-15 relative).
 * @example
 * const z = new Float64Array([1, 2, 3, 4]) // 2×2, columns [1,2] and [3,4]
 * gramUpper(2, 2, z, new Float64Array(4)) // [5, 11, 0, 25]
 */
export function gramUpper(n: number, d: number, z: Float64Array, out: Float64Array): Float64Array {
  if ((n * d * d) / 2 >= SIMD_MIN_WORK && gramUpperSimd(n, d, z, out) !== null) return out
  return gramUpperScalar(n, d, z, out)
}

/**
 * Plain-JS version of {@link gramUpper}: the upper triangle of ZᵀZ for a column-major n×d Z, written
 * to C[a*d+b] for a ≤ b (row-major d×d; strict lower triangle unspecified); returns `out`.
 * 4×4 register tiles over row blocks of 256: 8 loads per 16 multiply-adds, every column block read
 * from L1. Summation order is fixed, so results are
 * bit-for-bit reproducible.
 */
export function gramUpperScalar(n: number, d: number, z: Float64Array, out: Float64Array): Float64Array {
  out.fill(0)
  const d4 = d & ~3
  for (let i0 = 0; i0 < n; i0 += ROW_BLOCK) {
    const i1 = Math.min(n, i0 + ROW_BLOCK)
    // 4×4 tiles over the leading d4 columns
    for (let a = 0; a < d4; a += 4) {
      const oa0 = a * n
      const oa1 = oa0 + n
      const oa2 = oa1 + n
      const oa3 = oa2 + n
      for (let b = a; b < d4; b += 4) {
        const ob0 = b * n
        const ob1 = ob0 + n
        const ob2 = ob1 + n
        const ob3 = ob2 + n
        let s00 = 0,
          s01 = 0,
          s02 = 0,
          s03 = 0
        let s10 = 0,
          s11 = 0,
          s12 = 0,
          s13 = 0
        let s20 = 0,
          s21 = 0,
          s22 = 0,
          s23 = 0
        let s30 = 0,
          s31 = 0,
          s32 = 0,
          s33 = 0
        for (let i = i0; i < i1; i++) {
          const a0 = z[oa0 + i]!
          const a1 = z[oa1 + i]!
          const a2 = z[oa2 + i]!
          const a3 = z[oa3 + i]!
          let v = z[ob0 + i]!
          s00 += a0 * v
          s10 += a1 * v
          s20 += a2 * v
          s30 += a3 * v
          v = z[ob1 + i]!
          s01 += a0 * v
          s11 += a1 * v
          s21 += a2 * v
          s31 += a3 * v
          v = z[ob2 + i]!
          s02 += a0 * v
          s12 += a1 * v
          s22 += a2 * v
          s32 += a3 * v
          v = z[ob3 + i]!
          s03 += a0 * v
          s13 += a1 * v
          s23 += a2 * v
          s33 += a3 * v
        }
        let r = a * d + b
        out[r] += s00
        out[r + 1] += s01
        out[r + 2] += s02
        out[r + 3] += s03
        r += d
        out[r] += s10
        out[r + 1] += s11
        out[r + 2] += s12
        out[r + 3] += s13
        r += d
        out[r] += s20
        out[r + 1] += s21
        out[r + 2] += s22
        out[r + 3] += s23
        r += d
        out[r] += s30
        out[r + 1] += s31
        out[r + 2] += s32
        out[r + 3] += s33
      }
    }
    // remaining columns (d not a multiple of 4): plain dot products for every pair touching them
    for (let b = d4; b < d; b++) {
      const ob = b * n
      for (let a = 0; a <= b; a++) {
        const oa = a * n
        let s = 0
        for (let i = i0; i < i1; i++) s += z[oa + i]! * z[ob + i]!
        out[a * d + b] += s
      }
    }
  }
  return out
}

/** Copies the upper triangle of a row-major d×d matrix into its lower triangle, in place. */
export function symmetrizeFromUpper(d: number, c: Float64Array): Float64Array {
  for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) c[b * d + a] = c[a * d + b]!
  return c
}

/** Outcome of {@link choleskyDropping}. */
export interface DroppingCholesky {
  /** Per column: the pivot L_jj² (variance left after regressing on the kept earlier columns); 0 when dropped. */
  readonly pivots: Float64Array
  /** Per column: 1 when kept, 0 when dropped as linearly dependent on earlier kept columns. */
  readonly kept: Uint8Array
  /** Columns that were dropped although the caller did not pre-drop them. */
  readonly dropped: number
  /** Columns whose pivot was below −tol times their diagonal: the input was not positive semi-definite. */
  readonly negative: number
}

/**
 * In-place Cholesky A = LLᵀ of a symmetric positive semi-definite row-major d×d matrix (reads
 * the lower triangle, overwrites it with L; the strict upper triangle is left as is). A column whose
 * pivot falls to `tol` times its original diagonal or below (it is, to working precision, a linear
 * combination of the kept earlier columns) is dropped: its row and column of L are set to 0, so it
 * takes no further part. Columns with `preDropped[j] = 1` are dropped unconditionally. Row-oriented
 * (Cholesky–Crout): every inner loop is a contiguous dot product of two rows of L.
 */
export function choleskyDropping(
  d: number,
  a: Float64Array,
  tol: number,
  preDropped?: Uint8Array,
): DroppingCholesky {
  // measured: blocked 2.5× faster at d = 512 and 1024, slower at 256
  if (d >= 6 * CHOL_BLOCK && simdAvailable()) return choleskyDroppingBlocked(d, a, tol, preDropped)
  return choleskyDroppingUnblocked(d, a, tol, preDropped)
}

/** Columns per panel of the blocked Cholesky. */
const CHOL_BLOCK = 64

/**
 * {@link choleskyDropping} by right-looking blocks of 64 columns: each panel is factored row by row
 * as in the unblocked version (sums restricted to the panel), then the trailing matrix is updated
 * with the panel's outer product through the WebAssembly A·Bᵀ kernel. Same results as the unblocked
 * version up to summation order (≈1e-15 relative).
 */
function choleskyDroppingBlocked(
  d: number,
  a: Float64Array,
  tol: number,
  preDropped?: Uint8Array,
): DroppingCholesky {
  const pivots = new Float64Array(d)
  const kept = new Uint8Array(d)
  const diag = new Float64Array(d)
  for (let j = 0; j < d; j++) diag[j] = a[j * d + j]!
  let dropped = 0
  let negative = 0
  for (let k0 = 0; k0 < d; k0 += CHOL_BLOCK) {
    const k1 = Math.min(d, k0 + CHOL_BLOCK)
    // panel: L[i][k] for k in [k0, min(i, k1)), every row i ≥ k0; pivots of the diagonal block
    for (let i = k0; i < d; i++) {
      const ri = i * d
      const kEnd = Math.min(i, k1)
      for (let k = k0; k < kEnd; k++) {
        if (kept[k] === 0) {
          a[ri + k] = 0
          continue
        }
        const rk = k * d
        let s = a[ri + k]!
        for (let m = k0; m < k; m++) s -= a[ri + m]! * a[rk + m]!
        a[ri + k] = s / a[rk + k]!
      }
      if (i >= k1) continue
      let p = a[ri + i]!
      for (let m = k0; m < i; m++) p -= a[ri + m]! * a[ri + m]!
      const forced = preDropped !== undefined && preDropped[i] === 1
      if (forced || !(p > tol * diag[i]!)) {
        if (!forced) dropped++
        if (!forced && p < -tol * diag[i]!) negative++
        for (let m = 0; m <= i; m++) a[ri + m] = 0
        pivots[i] = 0
        continue
      }
      kept[i] = 1
      pivots[i] = p
      a[ri + i] = Math.sqrt(p)
    }
    // trailing update: A[i][j] −= Σ_{m∈[k0,k1)} L[i][m]·L[j][m] for k1 ≤ j ≤ i
    const nr = d - k1
    if (nr === 0) break
    const bw = k1 - k0
    const panel = new Float64Array(nr * bw)
    for (let i = 0; i < nr; i++) panel.set(a.subarray((k1 + i) * d + k0, (k1 + i) * d + k1), i * bw)
    const g = new Float64Array(nr * nr)
    if (gemmABtSimd(nr, nr, bw, panel, panel, g) === null) {
      for (let i = 0; i < nr; i++)
        for (let j = 0; j <= i; j++) {
          let s = 0
          for (let m = 0; m < bw; m++) s += panel[i * bw + m]! * panel[j * bw + m]!
          g[i * nr + j] = s
        }
    }
    for (let i = 0; i < nr; i++) {
      const ri = (k1 + i) * d + k1
      const gi = i * nr
      for (let j = 0; j <= i; j++) a[ri + j] = a[ri + j]! - g[gi + j]!
    }
  }
  return { pivots, kept, dropped, negative }
}

/** Unblocked, plain-JS {@link choleskyDropping} (row-oriented Cholesky–Crout). */
export function choleskyDroppingUnblocked(
  d: number,
  a: Float64Array,
  tol: number,
  preDropped?: Uint8Array,
): DroppingCholesky {
  const pivots = new Float64Array(d)
  const kept = new Uint8Array(d)
  const diag = new Float64Array(d)
  for (let j = 0; j < d; j++) diag[j] = a[j * d + j]!
  let dropped = 0
  let negative = 0
  for (let j = 0; j < d; j++) {
    const rj = j * d
    // off-diagonal entries of row j: L[j][k] = (A[j][k] − Σ_{m<k} L[j][m] L[k][m]) / L[k][k]
    for (let k = 0; k < j; k++) {
      if (kept[k] === 0) {
        a[rj + k] = 0
        continue
      }
      const rk = k * d
      let s = a[rj + k]!
      for (let m = 0; m < k; m++) s -= a[rj + m]! * a[rk + m]!
      a[rj + k] = s / a[rk + k]!
    }
    let p = a[rj + j]!
    for (let m = 0; m < j; m++) p -= a[rj + m]! * a[rj + m]!
    const forced = preDropped !== undefined && preDropped[j] === 1
    if (forced || !(p > tol * diag[j]!)) {
      if (!forced) dropped++
      if (!forced && p < -tol * diag[j]!) negative++
      for (let m = 0; m <= j; m++) a[rj + m] = 0
      pivots[j] = 0
      continue
    }
    kept[j] = 1
    pivots[j] = p
    a[rj + j] = Math.sqrt(p)
  }
  return { pivots, kept, dropped, negative }
}
