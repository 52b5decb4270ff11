import {
  type EstimateOptions,
  type Matrix,
  type MIEstimator,
  PruneError,
  assertKnownOptions,
  createRng,
  digamma,
  digammaTable,
  validatePair,
} from '@mi-prun/core'
import { defaultThreads, neighbourCounts } from './pool.js'
import { addJitter, minEligible, standardizeColumns, toFloat64Rows } from './preprocess.js'

const PKG = '@mi-prun/mi-ksg'
const P = `[${PKG}]`

/** Options of {@link createKsgEstimator}. Every field is optional. */
export interface KsgOptions {
  /** KSG algorithm 1 (strict marginal counts inside ε) or 2 (non-strict, per-variable radii) [1]. Default 1. */
  readonly variant?: 1 | 2
  /** Number of joint neighbours, an integer ≥ 1 (< N at estimate time). Default 3. */
  readonly k?: number
  /** Tie-breaking jitter scale (scikit-learn recipe, §2 of mi-estimators.md); 0 disables it. Default 1e-10. */
  readonly jitter?: number
  /** Seed of the jitter draws. Default 0. */
  readonly seed?: number
  /** Standardise every column of x and y (mean 0, sd 1) before the search. Default true. */
  readonly standardize?: boolean
  /**
   * Theiler window w ≥ 0: rows of the same sequence with |Δposition| ≤ w are excluded from every neighbour
   * search and count (needs `tags` at estimate time when w > 0). Default 0 (only the row itself).
   */
  readonly theiler?: number
  /** Threads used for the search (the calling thread included); 1 computes in-process. Default min(2, cores). */
  readonly threads?: number
  /** Norm within x and within y; the joint norm is always the max of the two. Default 'max'. */
  readonly withinNorm?: 'max' | 'euclidean'
  /**
   * Neighbour search; every choice gives the same counts, so the value never depends on it. 'brute': exact
   * brute force with early exit (any dimension); 'sweep': exact sort-and-sweep along the first coordinate
   * (fast for a few dimensions); 'auto' (default): 'sweep' when dx + dy ≤ {@link SWEEP_MAX_DIMS}, else 'brute'.
   */
  readonly search?: 'auto' | 'brute' | 'sweep'
}

/** Largest dx + dy for which `search: 'auto'` picks the sort-and-sweep search. */
export const SWEEP_MAX_DIMS = 4

/** The tagged, serialisable configuration of a KSG estimator (no thread count: results never depend on it). */
export interface KsgSettings {
  readonly kind: 'ksg'
  readonly variant: 1 | 2
  readonly k: number
  readonly jitter: number
  readonly seed: number
  readonly standardize: boolean
  readonly theiler: number
  readonly withinNorm: 'max' | 'euclidean'
  readonly [key: string]: unknown
}

/** A KSG estimator: the MIEstimator contract plus local values and several k in one sweep. */
export interface KsgEstimator extends MIEstimator {
  readonly name: 'ksg'
  readonly settings: KsgSettings
  /** Raw KSG estimate in nats (not clamped; may be negative). */
  estimate(x: Matrix, y: Matrix, options?: EstimateOptions): number
  /** Per-sample (pointwise) terms in nats, one per row; their mean is `estimate(x, y)` up to rounding. */
  estimateLocal(x: Matrix, y: Matrix, options?: EstimateOptions): Float64Array
  /** One estimate per entry of `ks` (in that order), all from one neighbour sweep; each equals a single-k call. */
  estimateMany(x: Matrix, y: Matrix, ks: readonly number[], options?: EstimateOptions): number[]
}

/** A value of the right type outside its range or not one of the choices: `RangeError` (docs/guide/extending.md#errors). */
function rangeError(message: string): RangeError {
  return new RangeError(`${P} ${message}`)
}

/** A value of the wrong type (a string where a boolean belongs): `TypeError`. */
function typeError(message: string): TypeError {
  return new TypeError(`${P} ${message}`)
}

function checkK(k: number, where: string): void {
  if (typeof k !== 'number') throw typeError(`${where} must be a number, got ${typeof k}`)
  if (!Number.isInteger(k) || k < 1) throw rangeError(`${where} must be an integer ≥ 1, got ${k}`)
}

const KSG_OPTION_KEYS = [
  'variant',
  'k',
  'jitter',
  'seed',
  'standardize',
  'theiler',
  'threads',
  'withinNorm',
  'search',
] as const satisfies readonly (keyof KsgOptions)[]

/**
 * Kraskov–Stögbauer–Grassberger k-nearest-neighbour mutual information, algorithms 1 and 2 [1], for
 * multivariate x (N×dx) and y (N×dy). Returns the raw estimate in **nats**; it may be negative and is never
 * clamped. Distances are the max norm within each variable (or Euclidean with `withinNorm`) and the max of
 * the two jointly; the query point and its Theiler window are excluded from every search and count [2].
 *
 * Preprocessing, in this order: float64 copy → per-column standardisation (`standardize`) → jitter
 * `jitter · max(1, mean|column|) · g`, g ~ N(0,1) from `createRng(seed)`, x first then y, row-major (the
 * scikit-learn recipe). The neighbour search is exact brute force, O(N²(dx+dy)), with an insertion buffer for
 * the k-th distance and early exit, spread over `threads` threads; counts are exact integers, so the value is
 * the same for every thread count.
 *
 * KSG-1: I = ψ(k) + ψ(N) − ⟨ψ(n_x+1) + ψ(n_y+1)⟩ with strict counts inside the joint k-NN radius.
 * KSG-2: I = ψ(k) − 1/k + ψ(N) − ⟨ψ(n_x) + ψ(n_y)⟩ with non-strict counts inside the per-variable radii.
 *
 * Errors: PruneError for non-finite values, different row counts, empty input, k ≥ N, a Theiler window that
 * leaves some row fewer than k eligible neighbours; TypeError for an unknown option key or a wrong type,
 * RangeError for an option value out of range (docs/guide/extending.md#errors).
 *
 * [1] A. Kraskov, H. Stögbauer, P. Grassberger, "Estimating mutual information", Phys. Rev. E 69, 066138 (2004).
 * [2] J. Theiler, "Spurious dimension from correlation algorithms applied to limited time-series data",
 *     Phys. Rev. A 34, 2427 (1986).
 * @example
 * const est = createKsgEstimator({ k: 3 })
 * const nats = est.estimate(x, y) // x, y: Matrix with the same number of rows
 */
export function createKsgEstimator(options: KsgOptions = {}): KsgEstimator {
  assertKnownOptions(PKG, options, KSG_OPTION_KEYS, { neighbors: 'k', n_neighbors: 'k', neighbours: 'k' })
  const {
    variant = 1,
    k = 3,
    jitter = 1e-10,
    seed = 0,
    standardize = true,
    theiler = 0,
    threads = defaultThreads(),
    withinNorm = 'max',
    search = 'auto',
  } = options
  if (variant !== 1 && variant !== 2) throw rangeError(`variant must be 1 or 2, got ${String(variant)}`)
  checkK(k, 'k')
  if (!Number.isFinite(jitter) || jitter < 0)
    throw rangeError(`jitter must be a finite number ≥ 0, got ${jitter}`)
  if (!Number.isFinite(seed)) throw rangeError(`seed must be a finite number, got ${seed}`)
  if (typeof standardize !== 'boolean')
    throw typeError(`standardize must be a boolean, got ${String(standardize)}`)
  if (!Number.isInteger(theiler) || theiler < 0)
    throw rangeError(`theiler must be an integer ≥ 0, got ${theiler}`)
  if (!Number.isInteger(threads) || threads < 1)
    throw rangeError(`threads must be an integer ≥ 1, got ${threads}`)
  if (withinNorm !== 'max' && withinNorm !== 'euclidean') {
    throw rangeError(`withinNorm must be 'max' or 'euclidean', got ${String(withinNorm)}`)
  }
  if (search !== 'auto' && search !== 'brute' && search !== 'sweep') {
    throw rangeError(`search must be 'auto', 'brute' or 'sweep', got ${String(search)}`)
  }
  const settings: KsgSettings = Object.freeze({
    kind: 'ksg',
    variant,
    k,
    jitter,
    seed,
    standardize,
    theiler,
    withinNorm,
  })

  /** Validates, preprocesses and counts for the ascending distinct `ks`. */
  const counts = (x: Matrix, y: Matrix, ks: Int32Array, opts: EstimateOptions | undefined): Int32Array => {
    validatePair(PKG, x, y, 2)
    const n = x.rows
    const kmax = ks[ks.length - 1]!
    if (kmax >= n) {
      throw new PruneError(
        'INSUFFICIENT_SAMPLES',
        `${P} k must be < N (k=${kmax}, N=${n}): lower k or pass more samples`,
      )
    }
    let seq: Int32Array | null = null
    let pos: Int32Array | null = null
    if (theiler > 0) {
      const tags = opts?.tags
      if (tags === undefined) {
        throw new PruneError(
          'INVALID_INPUT',
          `${P} theiler=${theiler} needs row tags: pass estimate(x, y, { tags: { sequence, position } })`,
        )
      }
      if (!(tags.sequence instanceof Int32Array) || !(tags.position instanceof Int32Array)) {
        throw new PruneError('INVALID_INPUT', `${P} tags.sequence and tags.position must be Int32Arrays`)
      }
      if (tags.sequence.length !== n || tags.position.length !== n) {
        throw new PruneError(
          'INVALID_INPUT',
          `${P} tags must have one entry per row (N=${n}), got sequence ${tags.sequence.length} and position ${tags.position.length}`,
        )
      }
      const worst = minEligible(tags.sequence, tags.position, theiler)
      if (worst.eligible < kmax) {
        throw new PruneError(
          'INSUFFICIENT_SAMPLES',
          `${P} the Theiler window (theiler=${theiler}) leaves row ${worst.row} (sequence ${tags.sequence[worst.row]}, ` +
            `position ${tags.position[worst.row]}) only ${worst.eligible} eligible neighbours, fewer than k=${kmax}: ` +
            `lower theiler or k, or pass rows from more sequences`,
        )
      }
      seq = tags.sequence
      pos = tags.position
    }
    const shared = threads > 1
    const xw = toFloat64Rows(x, shared)
    const yw = toFloat64Rows(y, shared)
    if (standardize) {
      standardizeColumns(xw, n, x.cols)
      standardizeColumns(yw, n, y.cols)
    }
    if (jitter > 0) {
      const rng = createRng(seed)
      addJitter(xw, n, x.cols, jitter, rng)
      addJitter(yw, n, y.cols, jitter, rng)
    }
    return neighbourCounts(
      {
        x: xw,
        dx: x.cols,
        y: yw,
        dy: y.cols,
        n,
        ks,
        variant,
        euclidean: withinNorm === 'euclidean' ? 1 : 0,
        seq,
        pos,
        w: theiler,
        search: search === 'auto' ? (x.cols + y.cols <= SWEEP_MAX_DIMS ? 'sweep' : 'brute') : search,
      },
      threads,
    )
  }

  /** The estimate for ks[q] from the counts, summed in row order (independent of threads). */
  const fromCounts = (
    c: Int32Array,
    n: number,
    nk: number,
    q: number,
    kq: number,
    psi: Float64Array,
  ): number => {
    let s = 0
    const off = variant === 1 ? 1 : 0
    for (let i = 0; i < n; i++) {
      const o = (i * nk + q) * 2
      s += psi[c[o]! + off]! + psi[c[o + 1]! + off]!
    }
    const head = variant === 1 ? digamma(kq) + digamma(n) : digamma(kq) - 1 / kq + digamma(n)
    return head - s / n
  }

  return {
    name: 'ksg',
    settings,
    estimate(x, y, opts) {
      const c = counts(x, y, Int32Array.of(k), opts)
      return fromCounts(c, x.rows, 1, 0, k, digammaTable(x.rows + 1))
    },
    estimateLocal(x, y, opts) {
      const c = counts(x, y, Int32Array.of(k), opts)
      const n = x.rows
      const psi = digammaTable(n + 1)
      const off = variant === 1 ? 1 : 0
      const head = variant === 1 ? digamma(k) + digamma(n) : digamma(k) - 1 / k + digamma(n)
      const out = new Float64Array(n)
      for (let i = 0; i < n; i++) out[i] = head - psi[c[2 * i]! + off]! - psi[c[2 * i + 1]! + off]!
      return out
    },
    estimateMany(x, y, ks, opts) {
      if (!Array.isArray(ks) || ks.length === 0)
        throw rangeError('ks must be a non-empty array of integers ≥ 1')
      ks.forEach((kk, idx) => checkK(kk, `ks[${idx}]`))
      const sorted = Int32Array.from([...new Set(ks)].sort((a, b) => a - b))
      const c = counts(x, y, sorted, opts)
      const psi = digammaTable(x.rows + 1)
      return ks.map((kk) => {
        const q = sorted.indexOf(kk)
        return fromCounts(c, x.rows, sorted.length, q, kk, psi)
      })
    },
  }
}
