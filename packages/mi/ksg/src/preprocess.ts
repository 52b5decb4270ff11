import type { Matrix, Rng } from '@mi-prun/core'
import { allocF64 } from './pool.js'

/** Row-major float64 working copy of a float32 matrix (in a SharedArrayBuffer when `shared`). */
export function toFloat64Rows(m: Matrix, shared: boolean): Float64Array {
  const out = allocF64(m.data.length, shared)
  const d = m.data
  for (let i = 0; i < d.length; i++) out[i] = d[i]!
  return out
}

/**
 * Standardises every column of a row-major n×d buffer in place: subtract the column mean, divide by the
 * population standard deviation (ddof 0). A constant column becomes 0.
 */
export function standardizeColumns(a: Float64Array, n: number, d: number): void {
  for (let c = 0; c < d; c++) {
    let s = 0
    for (let i = 0; i < n; i++) s += a[i * d + c]!
    const mean = s / n
    let ss = 0
    for (let i = 0; i < n; i++) {
      const v = a[i * d + c]! - mean
      ss += v * v
    }
    const sd = Math.sqrt(ss / n)
    if (sd > 0) {
      for (let i = 0; i < n; i++) a[i * d + c] = (a[i * d + c]! - mean) / sd
    } else {
      for (let i = 0; i < n; i++) a[i * d + c] = 0
    }
  }
}

/**
 * scikit-learn's tie-breaking jitter, in place: entry (i, c) gets `scale · max(1, mean_i |a_ic|) · g`, with g a
 * standard normal draw taken in row-major order from `rng`.
 */
export function addJitter(a: Float64Array, n: number, d: number, scale: number, rng: Rng): void {
  const amp = new Float64Array(d)
  for (let c = 0; c < d; c++) {
    let s = 0
    for (let i = 0; i < n; i++) s += Math.abs(a[i * d + c]!)
    amp[c] = scale * Math.max(1, s / n)
  }
  for (let i = 0; i < n; i++)
    for (let c = 0; c < d; c++) a[i * d + c] = a[i * d + c]! + amp[c]! * rng.normal()
}

/**
 * The smallest number of eligible neighbours of any row under a Theiler window w (rows of the same
 * sequence within |Δposition| ≤ w are excluded, the row itself always is), and that row.
 */
export function minEligible(seq: Int32Array, pos: Int32Array, w: number): { row: number; eligible: number } {
  const n = seq.length
  const order = Array.from({ length: n }, (_, i) => i)
  order.sort((p, q) => seq[p]! - seq[q]! || pos[p]! - pos[q]! || p - q)
  let best = { row: -1, eligible: Infinity }
  let start = 0
  while (start < n) {
    let end = start
    while (end < n && seq[order[end]!] === seq[order[start]!]) end++
    // rows order[start..end) share a sequence and are sorted by position: two-pointer window
    let lo = start
    let hi = start
    for (let t = start; t < end; t++) {
      const p = pos[order[t]!]!
      while (pos[order[lo]!]! < p - w) lo++
      if (hi < t) hi = t
      while (hi + 1 < end && pos[order[hi + 1]!]! <= p + w) hi++
      const eligible = n - (hi - lo + 1)
      if (eligible < best.eligible) best = { row: order[t]!, eligible }
    }
    start = end
  }
  return best
}
