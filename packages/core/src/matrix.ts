import { PruneError } from './errors.js'

/** A dense row-major float32 matrix: one row per sample (usually one token), `cols` features. */
export interface Matrix {
  readonly rows: number
  readonly cols: number
  readonly data: Float32Array
}

const P = '[@mi-prun/core]'

/**
 * Builds a Matrix. With `data`, its length must equal rows*cols (it is used as is, not copied);
 * without it, a zero-filled buffer is allocated.
 * @example
 * const m = matrix(2, 3, new Float32Array([1, 2, 3, 4, 5, 6])) // m.data[1*3+2] === 6
 */
export function matrix(rows: number, cols: number, data?: Float32Array | ArrayLike<number>): Matrix {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new PruneError(
      'INVALID_INPUT',
      `${P} matrix shape must be non-negative integers, got ${rows}x${cols}`,
    )
  }
  if (data === undefined) return { rows, cols, data: new Float32Array(rows * cols) }
  if (data.length !== rows * cols) {
    throw new PruneError(
      'INVALID_INPUT',
      `${P} matrix data has ${data.length} values but the shape ${rows}x${cols} needs ${rows * cols}`,
    )
  }
  return { rows, cols, data: data instanceof Float32Array ? data : Float32Array.from(data) }
}

/** Row i as a view (no copy). */
export function rowView(m: Matrix, i: number): Float32Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols)
}

/** A new matrix made of the given rows, in the given order. */
export function selectRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = new Float32Array(rows.length * m.cols)
  for (let r = 0; r < rows.length; r++) {
    const i = rows[r]!
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), r * m.cols)
  }
  return { rows: rows.length, cols: m.cols, data: out }
}

/** Column-major float64 working copy of a matrix (column j is out[j*rows .. (j+1)*rows)). */
export function toFloat64Columns(m: Matrix): Float64Array {
  const { rows, cols, data } = m
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j]!
  return out
}

/**
 * Validates one estimator input pair at the public boundary: same number of rows, at least
 * `minRows` rows, at least one column each, every value finite. Throws PruneError naming the
 * variable, row and column of the first bad value.
 */
export function validatePair(pkg: string, x: Matrix, y: Matrix, minRows = 2): void {
  for (const [name, m] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (m === null || typeof m !== 'object' || !(m.data instanceof Float32Array)) {
      throw new PruneError(
        'INVALID_INPUT',
        `[${pkg}] ${name} must be a Matrix { rows, cols, data: Float32Array }`,
      )
    }
    if (m.data.length !== m.rows * m.cols) {
      throw new PruneError(
        'INVALID_INPUT',
        `[${pkg}] ${name} has ${m.data.length} values, shape ${m.rows}x${m.cols} needs ${m.rows * m.cols}`,
      )
    }
    if (m.cols < 1) throw new PruneError('INVALID_INPUT', `[${pkg}] ${name} has no columns`)
  }
  if (x.rows !== y.rows) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] x and y must have the same number of rows (samples): x has ${x.rows}, y has ${y.rows}`,
    )
  }
  if (x.rows < minRows) {
    throw new PruneError(
      'INSUFFICIENT_SAMPLES',
      `[${pkg}] need at least ${minRows} samples, got ${x.rows}: pass more calibration tokens`,
    )
  }
  for (const [name, m] of [
    ['x', x],
    ['y', y],
  ] as const) {
    const d = m.data
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        const r = Math.floor(i / m.cols)
        const c = i % m.cols
        throw new PruneError(
          'NON_FINITE',
          `[${pkg}] ${name} has a non-finite value (${d[i]}) at row ${r}, column ${c}: inputs must be finite`,
        )
      }
    }
  }
}
