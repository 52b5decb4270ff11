import {
  type EstimatorSettings,
  type Matrix,
  type Reducer,
  assertKnownOptions,
  createRng,
  validatePair,
} from '@mi-prun/core'
import { gemmABt } from './kernels.js'
import { checkRank, checkRankFits } from './pca.js'

const PKG = '@mi-prun/mi-reducers'
const P = `[${PKG}]`

/** Options of {@link createRandomProjectionReducer}. */
export interface RandomProjectionOptions {
  /** Target dimension r (1 ≤ r ≤ d). */
  readonly rank: number
  /** Seed of the projection matrix. Default 0. */
  readonly seed?: number
}

/**
 * The d×r Gaussian projection matrix R with i.i.d. N(0, 1/r) entries, drawn from `createRng(seed)` in
 * row-major order of R, returned transposed (row-major r×d: row c is column c of R).
 */
export function gaussianProjection(d: number, rank: number, seed: number): Float64Array {
  const rng = createRng(seed)
  const s = 1 / Math.sqrt(rank)
  const rt = new Float64Array(rank * d)
  for (let k = 0; k < d; k++) for (let c = 0; c < rank; c++) rt[c * d + k] = s * rng.normal()
  return rt
}

function project(m: Matrix, rt: Float64Array, rank: number): Matrix {
  const x = new Float64Array(m.data.length)
  for (let i = 0; i < x.length; i++) x[i] = m.data[i]!
  const out = gemmABt(m.rows, rank, m.cols, x, rt, new Float64Array(m.rows * rank))
  return { rows: m.rows, cols: rank, data: Float32Array.from(out) }
}

/**
 * Seeded Gaussian random projection to `rank` dimensions (§6): x ↦ xR with R (d×r) i.i.d. N(0, 1/r),
 * the same R for x and y when dx = dy (a shared space), independent matrices (seed, seed+1) otherwise.
 * O(N·d·r); approximately preserves Euclidean distances (Johnson–Lindenstrauss [1]). No centring.
 * Deterministic for a seed; returns float32 N×rank matrices.
 *
 * [1] D. Achlioptas, "Database-friendly random projections: Johnson–Lindenstrauss with binary coins",
 *     J. Comput. Syst. Sci. 66 (2003) 671–687.
 * @example
 * const est = withReducer(createGaussianEstimator(), createRandomProjectionReducer({ rank: 64, seed: 1 }))
 */
export function createRandomProjectionReducer(options: RandomProjectionOptions): Reducer {
  assertKnownOptions(PKG, options, ['rank', 'seed'] satisfies (keyof RandomProjectionOptions)[], {
    dims: 'rank',
    n_components: 'rank',
  })
  const { rank, seed = 0 } = options
  checkRank(rank)
  if (!Number.isFinite(seed)) throw new RangeError(`${P} seed must be a finite number, got ${seed}`)
  const settings: EstimatorSettings = { kind: 'random-projection', rank, seed }
  return {
    name: `rp${rank}`,
    settings,
    reducePair(x: Matrix, y: Matrix) {
      validatePair(PKG, x, y, 2)
      checkRankFits('random projection', rank, x, y)
      const rx = gaussianProjection(x.cols, rank, seed)
      const ry = x.cols === y.cols ? rx : gaussianProjection(y.cols, rank, seed + 1)
      return {
        x: project(x, rx, rank),
        y: project(y, ry, rank),
        info: {
          rank,
          shared: x.cols === y.cols ? 1 : 0,
          rankX: rank,
          rankY: rank,
          dxIn: x.cols,
          dyIn: y.cols,
        },
      }
    },
  }
}
