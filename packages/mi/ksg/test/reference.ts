// A deliberately plain KSG (mi-estimators.md §2–3) for cross-checking the optimised estimator: for every
// row it computes ALL distances, sorts the candidates by (joint distance, index) and counts with the
// textbook comparisons. No early exit, no buffers, no threads. Jitter is not implemented (compare with
// jitter: 0). ψ sums run in row order, as the estimator's do, so equal counts give the same bits.
import { type Matrix, type RowTags, digamma } from '@mi-prun/core'

export interface ReferenceOptions {
  readonly variant: 1 | 2
  readonly k: number
  readonly standardize: boolean
  readonly withinNorm: 'max' | 'euclidean'
  readonly theiler: number
  readonly tags?: RowTags
}

function working(m: Matrix, standardize: boolean): number[][] {
  const rows: number[][] = []
  for (let i = 0; i < m.rows; i++) rows.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)))
  if (!standardize) return rows
  for (let c = 0; c < m.cols; c++) {
    let s = 0
    for (let i = 0; i < m.rows; i++) s += rows[i]![c]!
    const mean = s / m.rows
    let ss = 0
    for (let i = 0; i < m.rows; i++) ss += (rows[i]![c]! - mean) ** 2
    const sd = Math.sqrt(ss / m.rows)
    for (let i = 0; i < m.rows; i++) rows[i]![c] = sd > 0 ? (rows[i]![c]! - mean) / sd : 0
  }
  return rows
}

function dist(a: number[], b: number[], norm: 'max' | 'euclidean'): number {
  if (norm === 'max') {
    let m = 0
    for (let c = 0; c < a.length; c++) m = Math.max(m, Math.abs(a[c]! - b[c]!))
    return m
  }
  let s = 0
  for (let c = 0; c < a.length; c++) s += (a[c]! - b[c]!) * (a[c]! - b[c]!)
  return Math.sqrt(s)
}

/** Per-row neighbour counts [n_x, n_y] of the plain algorithm. */
export function referenceCounts(x: Matrix, y: Matrix, o: ReferenceOptions): Array<[number, number]> {
  const n = x.rows
  const X = working(x, o.standardize)
  const Y = working(y, o.standardize)
  const excluded = (i: number, j: number): boolean =>
    i === j ||
    (o.theiler > 0 &&
      o.tags !== undefined &&
      o.tags.sequence[i] === o.tags.sequence[j] &&
      Math.abs(o.tags.position[i]! - o.tags.position[j]!) <= o.theiler)
  const out: Array<[number, number]> = []
  for (let i = 0; i < n; i++) {
    const cand: Array<{ j: number; dx: number; dy: number; d: number }> = []
    for (let j = 0; j < n; j++) {
      if (excluded(i, j)) continue
      const dx = dist(X[i]!, X[j]!, o.withinNorm)
      const dy = dist(Y[i]!, Y[j]!, o.withinNorm)
      cand.push({ j, dx, dy, d: Math.max(dx, dy) })
    }
    cand.sort((p, q) => p.d - q.d || p.j - q.j)
    const knn = cand.slice(0, o.k)
    if (o.variant === 1) {
      const eps = knn[o.k - 1]!.d
      out.push([cand.filter((c) => c.dx < eps).length, cand.filter((c) => c.dy < eps).length])
    } else {
      const ex = Math.max(...knn.map((c) => c.dx))
      const ey = Math.max(...knn.map((c) => c.dy))
      out.push([cand.filter((c) => c.dx <= ex).length, cand.filter((c) => c.dy <= ey).length])
    }
  }
  return out
}

/** The plain KSG-1/KSG-2 estimate in nats. */
export function referenceKsg(x: Matrix, y: Matrix, o: ReferenceOptions): number {
  const n = x.rows
  const counts = referenceCounts(x, y, o)
  let s = 0
  for (const [nx, ny] of counts)
    s += o.variant === 1 ? digamma(nx + 1) + digamma(ny + 1) : digamma(nx) + digamma(ny)
  const head = o.variant === 1 ? digamma(o.k) + digamma(n) : digamma(o.k) - 1 / o.k + digamma(n)
  return head - s / n
}
