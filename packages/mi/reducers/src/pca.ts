import {
  type EstimatorSettings,
  type Matrix,
  PruneError,
  type Reducer,
  assertKnownOptions,
  createRng,
  validatePair,
} from '@mi-prun/core'
import { gramUpper, symmetrizeFromUpper } from '@mi-prun/mi-gaussian'
import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix'
import { fixRowSigns, gemmABt, orthonormalizeRows, transpose } from './kernels.js'

const PKG = '@mi-prun/mi-reducers'
const P = `[${PKG}]`

const PCA_OPTION_KEYS = [
  'rank',
  'fit',
  'center',
  'method',
  'seed',
  'powerIterations',
  'oversample',
] as const satisfies readonly (keyof PcaOptions)[]

/** How the principal subspace is computed (§6 of mi-estimators.md). */
export type PcaMethod = 'auto' | 'covariance' | 'gram' | 'randomized'

/** Largest d for which `auto` forms the d×d covariance and runs a full symmetric EVD (ml-matrix: ≈0.4 s at 256). */
export const PCA_FULL_EVD_MAX = 256

/** Options of {@link createPcaReducer}. */
export interface PcaOptions {
  /** Number of components r kept per variable (1 ≤ r ≤ d). */
  readonly rank: number
  /** One basis fitted on the pooled rows [x; y] (`'joint'`, default, needs dx = dy) or one per variable. */
  readonly fit?: 'joint' | 'separate'
  /** Centre on the (pooled) mean before fitting and projecting. Default true. */
  readonly center?: boolean
  /**
   * `'covariance'`: d×d covariance + full symmetric EVD; `'gram'`: 2N×2N Gram matrix (when the rows
   * are fewer than d); `'randomized'`: seeded randomized subspace iteration for the top r [1];
   * `'auto'` (default): covariance for d ≤ 256, else Gram when the rows number ≤ 256 and fewer than d,
   * else randomized.
   */
  readonly method?: PcaMethod
  /** Seed of the randomized method's test matrix. Default 0. */
  readonly seed?: number
  /** Power (subspace) iterations of the randomized method, each re-orthonormalised. Default 6. */
  readonly powerIterations?: number
  /** Extra columns of the randomized method's subspace, beyond r. Default 16. */
  readonly oversample?: number
}

/** A fitted principal basis. */
export interface PcaFit {
  /** Dimension of the data. */
  readonly d: number
  /** Number of components (rows of `components`). */
  readonly rank: number
  /** Row-major rank×d: orthonormal principal directions, by decreasing variance, sign-fixed (largest |entry| positive). */
  readonly components: Float64Array
  /** Variance along each component (sample variance, ddof 1), decreasing. */
  readonly variances: Float64Array
  /** Mean subtracted before projecting (zeros when not centred). */
  readonly mean: Float64Array
  /** Total variance (trace of the covariance). */
  readonly totalVariance: number
  /** Σ variances / totalVariance. */
  readonly explained: number
  /** Components whose variance exceeds 1e-12 of the largest. */
  readonly effectiveRank: number
  /** The method that was used after resolving `auto`. */
  readonly method: Exclude<PcaMethod, 'auto'>
  /** How XᵀX was applied: through the formed d×d cross-product or through the data (Gram, large-d randomized). */
  readonly operator: 'data' | 'covariance'
}

/**
 * Fits a principal basis of the rows of `data` (row-major m×d, float64). Deterministic for a seed.
 * [1] N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness", SIAM Review 53
 *     (2011) 217–288, algorithm 4.4 (randomized subspace iteration).
 */
export function fitPca(
  data: Float64Array,
  m: number,
  d: number,
  options: {
    rank: number
    center?: boolean
    method?: PcaMethod
    seed?: number
    powerIterations?: number
    oversample?: number
    /** How the randomized method applies XᵀX; `auto` (default) picks the cheaper. */
    operator?: 'auto' | 'data' | 'covariance'
  },
): PcaFit {
  const {
    rank,
    center = true,
    method = 'auto',
    seed = 0,
    powerIterations = 6,
    oversample = 16,
    operator: op = 'auto',
  } = options
  const x = Float64Array.from(data)
  const mean = new Float64Array(d)
  if (center) {
    for (let i = 0; i < m; i++) for (let k = 0; k < d; k++) mean[k] += x[i * d + k]!
    for (let k = 0; k < d; k++) mean[k] = mean[k]! / m
    for (let i = 0; i < m; i++) for (let k = 0; k < d; k++) x[i * d + k] = x[i * d + k]! - mean[k]!
  }
  const denom = Math.max(1, m - 1)
  let total = 0
  for (let i = 0; i < x.length; i++) total += x[i]! * x[i]!
  total /= denom
  const chosen: Exclude<PcaMethod, 'auto'> =
    method !== 'auto'
      ? method
      : d <= PCA_FULL_EVD_MAX
        ? 'covariance'
        : m <= PCA_FULL_EVD_MAX && m < d
          ? 'gram'
          : 'randomized'
  let components: Float64Array
  let variances: Float64Array
  let operator: 'data' | 'covariance' = chosen === 'gram' ? 'data' : 'covariance'
  if (chosen === 'covariance') {
    const c = symmetrizeFromUpper(d, gramUpper(m, d, transpose(m, d, x), new Float64Array(d * d)))
    const e = symmetricEigen(d, c, rank)
    components = e.vectors
    variances = e.values.map((v) => v / denom)
  } else if (chosen === 'gram') {
    const g = symmetrizeFromUpper(m, gramUpper(d, m, x, new Float64Array(m * m)))
    const e = symmetricEigen(m, g, rank)
    // v_r = Xᵀu_r / √λ_r
    components = gemmABt(rank, d, m, e.vectors, transpose(m, d, x), new Float64Array(rank * d))
    for (let r = 0; r < rank; r++) {
      const lam = e.values[r]!
      const s = lam > 1e-12 * Math.max(e.values[0]!, Number.MIN_VALUE) ? 1 / Math.sqrt(lam) : 0
      for (let k = 0; k < d; k++) components[r * d + k] = components[r * d + k]! * s
    }
    variances = e.values.map((v) => Math.max(0, v) / denom)
  } else {
    const r = randomizedSubspace(x, m, d, rank, seed, powerIterations, oversample, op)
    operator = r.operator
    components = r.vectors
    variances = r.values.map((v) => Math.max(0, v) / denom)
  }
  fixRowSigns(rank, d, components)
  let sum = 0
  let eff = 0
  const top = variances[0] ?? 0
  for (let r = 0; r < rank; r++) {
    sum += variances[r]!
    if (variances[r]! > 1e-12 * top && top > 0) eff++
  }
  return {
    d,
    rank,
    components,
    variances,
    mean,
    totalVariance: total,
    explained: total > 0 ? sum / total : 0,
    effectiveRank: eff,
    method: chosen,
    operator,
  }
}

/** Top `rank` eigenpairs (values decreasing, vectors as rows) of a symmetric n×n matrix, via ml-matrix. */
function symmetricEigen(
  n: number,
  a: Float64Array,
  rank: number,
): { values: Float64Array; vectors: Float64Array } {
  const rows: number[][] = new Array(n)
  for (let i = 0; i < n; i++) rows[i] = Array.from(a.subarray(i * n, (i + 1) * n))
  const e = new EigenvalueDecomposition(new MlMatrix(rows), { assumeSymmetric: true })
  const vals = e.realEigenvalues
  const vecs = e.eigenvectorMatrix
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => vals[q]! - vals[p]! || p - q)
  const values = new Float64Array(rank)
  const vectors = new Float64Array(rank * n)
  for (let r = 0; r < rank; r++) {
    const c = order[r]!
    values[r] = vals[c]!
    for (let i = 0; i < n; i++) vectors[r * n + i] = vecs.get(i, c)
  }
  return { values, vectors }
}

/**
 * Randomized subspace iteration on the centred data X (m×d): W ⊂ ℝ^d spanned by l = r + oversample
 * seeded Gaussian directions, refined by `q` passes W ← orth(XᵀX W), then Rayleigh–Ritz on
 * W XᵀX Wᵀ (l×l, ml-matrix EVD). XᵀX is applied either through the data (X then Xᵀ, 2·m·d·l per pass)
 * or, when cheaper overall (d < 2(2q+1)·l), through the formed d×d cross-product (m·d²/2 once, then
 * d²·l per pass); both span the same subspace (XᵀX)^q Ω.
 */
function randomizedSubspace(
  x: Float64Array,
  m: number,
  d: number,
  rank: number,
  seed: number,
  q: number,
  oversample: number,
  op: 'auto' | 'data' | 'covariance',
): { values: Float64Array; vectors: Float64Array; operator: 'data' | 'covariance' } {
  const l = Math.min(d, rank + oversample)
  const xt = transpose(m, d, x)
  const rng = createRng(seed)
  let w: Float64Array = new Float64Array(l * d) // rows: directions in ℝ^d
  for (let i = 0; i < w.length; i++) w[i] = rng.normal()
  orthonormalizeRows(l, d, w)
  const operator = op !== 'auto' ? op : d < 2 * (2 * q + 1) * l ? 'covariance' : 'data'
  let g: Float64Array
  if (operator === 'covariance') {
    const c = symmetrizeFromUpper(d, gramUpper(m, d, xt, new Float64Array(d * d)))
    let t: Float64Array = new Float64Array(l * d)
    for (let it = 0; it < q; it++) {
      t = gemmABt(l, d, d, w, c, t) // rows of W·C (C symmetric)
      const tmp = w
      w = t
      t = tmp
      orthonormalizeRows(l, d, w)
    }
    t = gemmABt(l, d, d, w, c, t)
    g = gemmABt(l, l, d, t, w, new Float64Array(l * l))
    // exact symmetry for the eigensolver
    for (let a = 0; a < l; a++)
      for (let b = a + 1; b < l; b++) g[a * l + b] = g[b * l + a] = 0.5 * (g[a * l + b]! + g[b * l + a]!)
  } else {
    const yt = new Float64Array(l * m) // rows: X·w_c in ℝ^m
    for (let it = 0; it < q; it++) {
      gemmABt(l, m, d, w, x, yt)
      orthonormalizeRows(l, m, yt)
      w = gemmABt(l, d, m, yt, xt, w)
      orthonormalizeRows(l, d, w)
    }
    // Rayleigh–Ritz: B = X Wᵀ (rows of bt = columns of B), G = BᵀB = W XᵀX Wᵀ
    const bt = gemmABt(l, m, d, w, x, yt)
    g = symmetrizeFromUpper(l, gramUpper(m, l, bt, new Float64Array(l * l)))
  }
  const e = symmetricEigen(l, g, rank)
  // components = Vᵀ W (rank×d)
  const vectors = new Float64Array(rank * d)
  for (let r = 0; r < rank; r++)
    for (let c = 0; c < l; c++) {
      const v = e.vectors[r * l + c]!
      if (v === 0) continue
      const oc = c * d
      const or = r * d
      for (let k = 0; k < d; k++) vectors[or + k] = vectors[or + k]! + v * w[oc + k]!
    }
  return { values: e.values, vectors, operator }
}

/** Projects the rows of a float32 Matrix on a fitted basis: (x − mean)·componentsᵀ, returned as float32. */
export function projectRows(m: Matrix, fit: PcaFit): Matrix {
  const { rows, cols, data } = m
  const x = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++)
    for (let k = 0; k < cols; k++) x[i * cols + k] = data[i * cols + k]! - fit.mean[k]!
  const out = gemmABt(rows, fit.rank, cols, x, fit.components, new Float64Array(rows * fit.rank))
  return { rows, cols: fit.rank, data: Float32Array.from(out) }
}

function checkRank(rank: number): void {
  if (typeof rank !== 'number')
    throw new TypeError(`${P} rank (the number of output dimensions) must be a number, got ${typeof rank}`)
  if (!Number.isInteger(rank) || rank < 1)
    throw new RangeError(`${P} rank must be a positive integer, got ${rank}`)
}

function checkRankFits(kind: string, rank: number, x: Matrix, y: Matrix): void {
  const d = Math.min(x.cols, y.cols)
  if (rank > d) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} ${kind} rank ${rank} exceeds the input dimension (dx=${x.cols}, dy=${y.cols}): choose rank ≤ ${d}`,
    )
  }
}

/**
 * PCA reducer (§6): projects x and y on their top `rank` principal components, fitted on the pooled
 * rows [x; y] (`fit: 'joint'`, when dx = dy) or per variable. Returns float32 matrices N×rank and
 * `info` with `rank`, `explained` (joint) or `explainedX`/`explainedY`, `rankX`/`rankY` (effective),
 * `joint` (1/0) and the input dims. The score after reduction is "MI after reduction" (≤ MI, by data
 * processing).
 * @example
 * const est = withReducer(createGaussianEstimator(), createPcaReducer({ rank: 64 }))
 */
export function createPcaReducer(options: PcaOptions): Reducer {
  assertKnownOptions(PKG, options, PCA_OPTION_KEYS, { dims: 'rank', n_components: 'rank' })
  const {
    rank,
    fit = 'joint',
    center = true,
    method = 'auto',
    seed = 0,
    powerIterations = 6,
    oversample = 16,
  } = options
  checkRank(rank)
  if (fit !== 'joint' && fit !== 'separate')
    throw new RangeError(`${P} fit must be 'joint' or 'separate', got ${String(fit)}`)
  if (!['auto', 'covariance', 'gram', 'randomized'].includes(method)) {
    throw new RangeError(
      `${P} method must be 'auto', 'covariance', 'gram' or 'randomized', got ${String(method)}`,
    )
  }
  if (!Number.isInteger(powerIterations) || powerIterations < 0) {
    throw new RangeError(`${P} powerIterations must be a non-negative integer, got ${powerIterations}`)
  }
  if (!Number.isInteger(oversample) || oversample < 0)
    throw new RangeError(`${P} oversample must be a non-negative integer, got ${oversample}`)
  if (!Number.isFinite(seed)) throw new RangeError(`${P} seed must be a finite number, got ${seed}`)
  const settings: EstimatorSettings = {
    kind: 'pca',
    rank,
    fit,
    center,
    method,
    seed,
    powerIterations,
    oversample,
  }
  const fitOptions = { rank, center, method, seed, powerIterations, oversample }
  return {
    name: `pca${rank}`,
    settings,
    reducePair(x: Matrix, y: Matrix) {
      validatePair(PKG, x, y, 2)
      checkRankFits('PCA', rank, x, y)
      const n = x.rows
      if (fit === 'joint' && x.cols === y.cols) {
        const d = x.cols
        const pooled = new Float64Array(2 * n * d)
        for (let i = 0; i < n * d; i++) pooled[i] = x.data[i]!
        for (let i = 0; i < n * d; i++) pooled[n * d + i] = y.data[i]!
        const f = fitPca(pooled, 2 * n, d, fitOptions)
        return {
          x: projectRows(x, f),
          y: projectRows(y, f),
          info: {
            rank,
            joint: 1,
            explained: f.explained,
            rankX: f.effectiveRank,
            rankY: f.effectiveRank,
            dxIn: x.cols,
            dyIn: y.cols,
          },
        }
      }
      const fx = fitPca(Float64Array.from(x.data), n, x.cols, fitOptions)
      const fy = fitPca(Float64Array.from(y.data), n, y.cols, { ...fitOptions, seed: seed + 1 })
      return {
        x: projectRows(x, fx),
        y: projectRows(y, fy),
        info: {
          rank,
          joint: 0,
          explainedX: fx.explained,
          explainedY: fy.explained,
          rankX: fx.effectiveRank,
          rankY: fy.effectiveRank,
          dxIn: x.cols,
          dyIn: y.cols,
        },
      }
    },
  }
}

export { checkRank, checkRankFits }
