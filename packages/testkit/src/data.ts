import { type Matrix, type Rng, matrix } from '@mi-prun/core'

/**
 * d independent Gaussian pairs with correlation rho: x ~ N(0, I), y = rho·x + sqrt(1−rho²)·e.
 * True MI = −d/2 · ln(1 − rho²) nats.
 */
export function correlatedGaussian(
  rng: Rng,
  n: number,
  d: number,
  rho: number,
): { x: Matrix; y: Matrix; truth: number } {
  const x = new Float32Array(n * d)
  const y = new Float32Array(n * d)
  const s = Math.sqrt(1 - rho * rho)
  for (let i = 0; i < n * d; i++) {
    const a = rng.normal()
    x[i] = a
    y[i] = rho * a + s * rng.normal()
  }
  return { x: matrix(n, d, x), y: matrix(n, d, y), truth: -0.5 * d * Math.log(1 - rho * rho) }
}

/** Independent standard normal x (n×dx) and y (n×dy): true MI = 0. */
export function independentGaussian(rng: Rng, n: number, dx: number, dy = dx): { x: Matrix; y: Matrix } {
  const x = new Float32Array(n * dx)
  const y = new Float32Array(n * dy)
  for (let i = 0; i < x.length; i++) x[i] = rng.normal()
  for (let i = 0; i < y.length; i++) y[i] = rng.normal()
  return { x: matrix(n, dx, x), y: matrix(n, dy, y) }
}

/** Applies f to every entry, returning a new matrix. */
export function mapMatrix(m: Matrix, f: (v: number, row: number, col: number) => number): Matrix {
  const out = new Float32Array(m.data.length)
  for (let i = 0; i < m.rows; i++)
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = f(m.data[i * m.cols + j]!, i, j)
  return matrix(m.rows, m.cols, out)
}

/** The same rows in the order given by perm. */
export function permuteRows(m: Matrix, perm: ArrayLike<number>): Matrix {
  const out = new Float32Array(m.data.length)
  for (let r = 0; r < perm.length; r++)
    out.set(m.data.subarray(perm[r]! * m.cols, (perm[r]! + 1) * m.cols), r * m.cols)
  return matrix(m.rows, m.cols, out)
}

/** Mean and sample standard deviation. */
export function meanSd(v: readonly number[]): { mean: number; sd: number } {
  const mean = v.reduce((a, b) => a + b, 0) / v.length
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1))
  return { mean, sd }
}
