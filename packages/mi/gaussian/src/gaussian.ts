import {
  type EstimateOptions,
  type EstimatorSettings,
  type MIEstimator,
  type Matrix,
  PruneError,
  assertKnownOptions,
  validatePair,
} from '@mi-prun/core'
import { gaussianMiBias } from './bias.js'
import { copulaColumn, normalScores } from './copula.js'
import { choleskyDropping, gramUpper, symmetrizeFromUpper } from './kernels.js'

const PKG = '@mi-prun/mi-gaussian'
const P = `[${PKG}]`
const EPS = 2.220446049250313e-16

const GAUSSIAN_OPTION_KEYS = [
  'biasCorrect',
  'shrinkage',
  'copula',
] as const satisfies readonly (keyof GaussianOptions)[]

/** Options of {@link createGaussianEstimator}. */
export interface GaussianOptions {
  /** Subtract the exact finite-sample bias b(dx)+b(dy)−b(dx+dy) (§4). Default true; must stay off with shrinkage. */
  readonly biasCorrect?: boolean
  /**
   * Shrink the joint correlation matrix towards the identity, R_λ = (1−λ)R + λI: a fixed λ ∈ [0, 1] or
   * `'ledoit-wolf'` (λ estimated from the data [2]). Allows N ≤ dx + dy; the result is labelled
   * shrunk and uncorrected. Default: none.
   */
  readonly shrinkage?: number | 'ledoit-wolf'
  /** Replace every column by the normal scores of its ranks first (Gaussian copula, gcmi [3]). Default false. */
  readonly copula?: boolean
}

/** Everything {@link GaussianEstimator.estimateDetailed} reports. */
export interface GaussianDetail {
  /** The estimate returned by `estimate` (nats): `raw − bias`; +Infinity on exact linear dependence. */
  readonly value: number
  /** Uncorrected ½[ln det Ĉ_xx + ln det Ĉ_yy − ln det Ĉ] (nats). */
  readonly raw: number
  /** The bias that was subtracted (0 when uncorrected). */
  readonly bias: number
  /** Dimensions of x and y left after dropping within-variable redundant (or constant) columns. */
  readonly dxEff: number
  readonly dyEff: number
  /** Number of samples. */
  readonly n: number
  /** The shrinkage intensity λ that was applied (0 without shrinkage). */
  readonly shrinkage: number
}

/** A Gaussian MI estimator that can also report its working values. */
export interface GaussianEstimator extends MIEstimator {
  /** Like `estimate`, with the raw value, the bias and the effective dimensions. */
  estimateDetailed(x: Matrix, y: Matrix): GaussianDetail
}

/**
 * Gaussian (log-det) mutual information [1]: Î = ½[ln det Ĉ_xx + ln det Ĉ_yy − ln det Ĉ] on the joint
 * sample covariance, computed from one Cholesky factorisation of the joint correlation matrix (x
 * first) and one of Ĉ_yy: Î = ½(ln det Ĉ_yy − ln det S) with S the Schur complement. Returns nats,
 * bias-corrected by default (may then be slightly negative; never clamped).
 *
 * - Needs N > dx + dy; otherwise throws PruneError `INSUFFICIENT_SAMPLES` (use a PCA reducer or
 *   `shrinkage`).
 * - A column that is (to working precision) a linear combination of earlier columns of the same
 *   variable, or constant, is dropped; `estimateDetailed` reports the effective dimensions, and the
 *   bias uses them.
 * - An exact linear dependence between x and y (joint singular, marginals fine) gives +Infinity.
 * - Exactly invariant, in sample, to invertible affine maps of x and of y.
 *
 * [1] T. M. Cover, J. A. Thomas, Elements of Information Theory, 2nd ed., §8.5 and §9.4 (2006).
 * [2] O. Ledoit, M. Wolf, "A well-conditioned estimator for large-dimensional covariance matrices",
 *     J. Multivar. Anal. 88 (2004) 365–411.
 * [3] R. A. A. Ince et al., "A statistical framework for neuroimaging data analysis based on mutual
 *     information estimated via a Gaussian copula", Hum. Brain Mapp. 38 (2017) 1541–1573.
 * @example
 * const est = createGaussianEstimator()
 * const nats = est.estimate(x, y) // x: N×dx, y: N×dy Matrix
 */
export function createGaussianEstimator(options: GaussianOptions = {}): GaussianEstimator {
  assertKnownOptions(PKG, options, GAUSSIAN_OPTION_KEYS)
  const { shrinkage, copula = false } = options
  if (typeof copula !== 'boolean') throw new TypeError(`${P} copula must be a boolean, got ${String(copula)}`)
  if (options.biasCorrect !== undefined && typeof options.biasCorrect !== 'boolean') {
    throw new TypeError(`${P} biasCorrect must be a boolean, got ${String(options.biasCorrect)}`)
  }
  if (shrinkage !== undefined) {
    const ok =
      shrinkage === 'ledoit-wolf' || (typeof shrinkage === 'number' && shrinkage >= 0 && shrinkage <= 1)
    if (!ok)
      throw new RangeError(
        `${P} shrinkage must be a number in [0, 1] or 'ledoit-wolf', got ${String(shrinkage)}`,
      )
    if (options.biasCorrect === true) {
      throw new RangeError(
        `${P} biasCorrect cannot be combined with shrinkage: the exact correction assumes an unshrunk covariance; drop one of them`,
      )
    }
  }
  const biasCorrect = shrinkage === undefined ? (options.biasCorrect ?? true) : false
  const settings: EstimatorSettings =
    shrinkage === undefined
      ? { kind: 'gaussian', biasCorrect, copula }
      : { kind: 'gaussian', biasCorrect: false, copula, shrinkage, shrunk: true }

  const estimateDetailed = (x: Matrix, y: Matrix): GaussianDetail => {
    validatePair(PKG, x, y, 2)
    const n = x.rows
    const dx = x.cols
    const dy = y.cols
    if (shrinkage === undefined && n <= dx + dy) {
      throw new PruneError(
        'INSUFFICIENT_SAMPLES',
        `${P} the Gaussian estimator needs more samples than dimensions, N > dx + dy, got N=${n} with dx=${dx}, dy=${dy}: ` +
          `reduce the dimension first, e.g. withReducer(createGaussianEstimator(), createPcaReducer({ rank: r })) from ` +
          `@mi-prun/mi-reducers with 2r ≪ N, or pass { shrinkage: 'ledoit-wolf' } (result labelled shrunk and uncorrected)`,
      )
    }
    const d = dx + dy
    const z = standardizedColumns(x, y, copula)
    const corr = correlationFromColumns(n, d, z.columns, z.scale)
    let lambda = 0
    if (shrinkage !== undefined) {
      lambda = shrinkage === 'ledoit-wolf' ? ledoitWolfLambda(n, d, z.columns, z.scale, corr) : shrinkage
      shrinkTowardsIdentity(d, corr, lambda)
    }
    const r = miFromCorrelation(corr, d, dx)
    const bias = biasCorrect ? gaussianMiBias(r.dxEff, r.dyEff, n) : 0
    return { value: r.mi - bias, raw: r.mi, bias, dxEff: r.dxEff, dyEff: r.dyEff, n, shrinkage: lambda }
  }

  return {
    name: 'gaussian',
    settings,
    estimate: (x: Matrix, y: Matrix, _options?: EstimateOptions): number => estimateDetailed(x, y).value,
    estimateDetailed,
  }
}

/**
 * Gaussian MI from a covariance matrix (no sampling, no bias correction): with x the first `dx`
 * dimensions, I = ½ ln(det Σ_xx · det Σ_yy / det Σ) nats, via the same dropping Cholesky as the
 * estimator (within-variable redundant dimensions dropped; +Infinity on exact dependence between x
 * and y). `cov` is a D×D nested array or a row-major Float64Array of length D².
 * @example
 * gaussianMiFromCovariance([[5, 3], [3, 4]], 1) // ½ ln(20/11) = 0.2989185…
 */
export function gaussianMiFromCovariance(
  cov: ArrayLike<ArrayLike<number>> | Float64Array,
  dx: number,
): number {
  let d: number
  let c: Float64Array
  if (cov instanceof Float64Array) {
    d = Math.round(Math.sqrt(cov.length))
    if (d * d !== cov.length)
      throw new RangeError(`${P} covariance has ${cov.length} values, not a square number`)
    c = Float64Array.from(cov)
  } else {
    d = cov.length
    c = new Float64Array(d * d)
    for (let a = 0; a < d; a++) {
      const row = cov[a]!
      if (row.length !== d)
        throw new RangeError(`${P} covariance row ${a} has ${row.length} values, expected ${d}`)
      for (let b = 0; b < d; b++) c[a * d + b] = row[b]!
    }
  }
  if (!Number.isInteger(dx) || dx < 1 || dx >= d)
    throw new RangeError(`${P} dx must be an integer in [1, ${d - 1}], got ${dx}`)
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      const v = c[a * d + b]!
      if (!Number.isFinite(v)) throw new RangeError(`${P} covariance[${a}][${b}] is not finite (${v})`)
      if (b > a && Math.abs(v - c[b * d + a]!) > 1e-12 * Math.sqrt(Math.abs(c[a * d + a]! * c[b * d + b]!))) {
        throw new RangeError(`${P} covariance is not symmetric at [${a}][${b}]`)
      }
    }
    if (!(c[a * d + a]! >= 0))
      throw new RangeError(`${P} covariance[${a}][${a}] is negative (${c[a * d + a]})`)
  }
  const scale = new Float64Array(d)
  for (let a = 0; a < d; a++) {
    const v = c[a * d + a]!
    scale[a] = v > 0 ? 1 / Math.sqrt(v) : 0
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) c[a * d + b] = c[a * d + b]! * scale[a]! * scale[b]!
  const r = miFromCorrelation(c, d, dx)
  if (r.negative > 0) throw new RangeError(`${P} covariance is not positive semi-definite`)
  return r.mi
}

/** Result of {@link miFromCorrelation}. */
interface CorrelationMi {
  readonly mi: number
  readonly dxEff: number
  readonly dyEff: number
  readonly negative: number
}

/**
 * ½(ln det R_yy − ln det S) from one dropping Cholesky of the joint d×d correlation matrix (x = first
 * dx) and one of R_yy. Within-variable dependent columns are dropped; a y column that is dependent
 * in the joint but not within y is a dependence between x and y: +Infinity. Only the lower triangle
 * of `r` is read, and it is overwritten.
 */
function miFromCorrelation(r: Float64Array, d: number, dx: number): CorrelationMi {
  const dy = d - dx
  const tol = 16 * d * EPS
  const ryy = new Float64Array(dy * dy)
  for (let a = 0; a < dy; a++) for (let b = 0; b <= a; b++) ryy[a * dy + b] = r[(dx + a) * d + dx + b]!
  const fy = choleskyDropping(dy, ryy, tol)
  const pre = new Uint8Array(d)
  for (let j = 0; j < dy; j++) pre[dx + j] = fy.kept[j] === 1 ? 0 : 1
  const fj = choleskyDropping(d, r, tol, pre)
  let dxEff = 0
  for (let j = 0; j < dx; j++) dxEff += fj.kept[j]!
  let dyEff = 0
  let lnDetYy = 0
  for (let j = 0; j < dy; j++) {
    if (fy.kept[j] === 1) {
      dyEff++
      lnDetYy += Math.log(fy.pivots[j]!)
    }
  }
  let cross = false
  let lnDetS = 0
  for (let j = dx; j < d; j++) {
    if (pre[j] === 1) continue
    if (fj.kept[j] === 0) cross = true
    else lnDetS += Math.log(fj.pivots[j]!)
  }
  const negative = fj.negative + fy.negative
  // a y column dependent on x only matters when x has any kept column
  const mi = cross && dxEff > 0 ? Number.POSITIVE_INFINITY : 0.5 * (lnDetYy - lnDetS)
  return { mi, dxEff, dyEff, negative }
}

/**
 * Column-major float64 copy of [x y] (N × (dx+dy)), centred (after the copula transform when asked),
 * with the reciprocal standard deviation (ddof 1) of every column (0 for a constant column).
 */
function standardizedColumns(
  x: Matrix,
  y: Matrix,
  copula: boolean,
): { columns: Float64Array; scale: Float64Array } {
  const n = x.rows
  const d = x.cols + y.cols
  const z = new Float64Array(n * d)
  let off = 0
  for (const m of [x, y]) {
    const { cols, data } = m
    // transpose in 64×64 tiles: the strided writes stay within a few pages
    for (let i0 = 0; i0 < n; i0 += 64) {
      const i1 = Math.min(n, i0 + 64)
      for (let j0 = 0; j0 < cols; j0 += 64) {
        const j1 = Math.min(cols, j0 + 64)
        for (let j = j0; j < j1; j++) {
          const oz = (off + j) * n
          for (let i = i0; i < i1; i++) z[oz + i] = data[i * cols + j]!
        }
      }
    }
    off += cols
  }
  if (copula) {
    const scores = normalScores(n)
    const order = new Int32Array(n)
    for (let j = 0; j < d; j++) copulaColumn(n, z, j * n, scores, order)
  }
  const scale = new Float64Array(d)
  for (let j = 0; j < d; j++) {
    const o = j * n
    let s = 0
    for (let i = 0; i < n; i++) s += z[o + i]!
    const mean = s / n
    let ss = 0
    for (let i = 0; i < n; i++) {
      const v = z[o + i]! - mean
      z[o + i] = v
      ss += v * v
    }
    scale[j] = ss > 0 ? 1 / Math.sqrt(ss / (n - 1)) : 0
  }
  return { columns: z, scale }
}

/** Correlation matrix (full, symmetric, row-major d×d) of centred columns with the given 1/sd scales. */
function correlationFromColumns(n: number, d: number, z: Float64Array, scale: Float64Array): Float64Array {
  const c = gramUpper(n, d, z, new Float64Array(d * d))
  const inv = 1 / (n - 1)
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) c[a * d + b] = c[a * d + b]! * inv * scale[a]! * scale[b]!
    // a non-constant column has unit variance by construction; set it exactly
    c[a * d + a] = scale[a]! > 0 ? 1 : 0
  }
  return symmetrizeFromUpper(d, c)
}

/** R_λ = (1−λ)R + λI on the non-constant columns, in place. */
function shrinkTowardsIdentity(d: number, r: Float64Array, lambda: number): void {
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) r[a * d + b] = (1 - lambda) * r[a * d + b]!
    if (r[a * d + a]! > 0) r[a * d + a] = 1
  }
}

/**
 * Ledoit–Wolf shrinkage intensity [2] of the standardised data towards a scaled identity:
 * with S = XᵀX/N, μ = tr S/d, δ² = ‖S − μI‖²_F/d and β̄² = (Σ_i ‖x_i‖⁴ − N‖S‖²_F)/(N²d),
 * λ = min(β̄², δ²)/δ² (0 when δ² = 0).
 */
function ledoitWolfLambda(
  n: number,
  d: number,
  z: Float64Array,
  scale: Float64Array,
  corr: Float64Array,
): number {
  // S = R·(N−1)/N on the standardised data
  const f = (n - 1) / n
  let tr = 0
  let fro = 0
  for (let a = 0; a < d; a++) {
    tr += corr[a * d + a]! * f
    for (let b = 0; b < d; b++) {
      const v = corr[a * d + b]! * f
      fro += v * v
    }
  }
  const mu = tr / d
  const delta2 = (fro - 2 * mu * tr + d * mu * mu) / d
  const rowNorm2 = new Float64Array(n)
  for (let j = 0; j < d; j++) {
    const s = scale[j]!
    if (s === 0) continue
    const o = j * n
    for (let i = 0; i < n; i++) {
      const v = z[o + i]! * s
      rowNorm2[i] += v * v
    }
  }
  let sum4 = 0
  for (let i = 0; i < n; i++) sum4 += rowNorm2[i]! * rowNorm2[i]!
  const beta2 = Math.max(0, (sum4 - n * fro) / (n * n * d))
  if (!(delta2 > 0)) return 0
  return Math.min(beta2, delta2) / delta2
}
