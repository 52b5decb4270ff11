/**
 * Strided 1-D binning kernels. They never throw and never validate: the public boundary
 * (`binning.ts`) has already checked sizes, finiteness and `bins >= 2`.
 */

/** Plug-in MI of one pair of 1-D bin labels, with the occupied-cell counts Miller–Madow needs. */
export interface PairCounts {
  /** Plug-in (maximum-likelihood) MI in nats: Ĥx + Ĥy − Ĥxy. */
  readonly mlMi: number
  /** Occupied bins of x. */
  readonly kx: number
  /** Occupied bins of y. */
  readonly ky: number
  /** Occupied joint cells. */
  readonly kxy: number
}

/**
 * Equal-width bin labels of n values read at offset, offset+stride, …:
 * `bin(v) = min(b−1, ⌊b·(v−min)/(max−min)⌋)` over the sample's [min, max]; one bin (all 0) when max = min.
 * Writes labels into `out[0..n)`.
 */
export function equalWidthBins(
  n: number,
  x: Float64Array,
  stride: number,
  offset: number,
  b: number,
  out: Int32Array,
): void {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0, p = offset; i < n; i++, p += stride) {
    const v = x[p]!
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  const range = hi - lo
  if (!(range > 0)) {
    out.fill(0, 0, n)
    return
  }
  for (let i = 0, p = offset; i < n; i++, p += stride) {
    const k = Math.floor((b * (x[p]! - lo)) / range)
    out[i] = k >= b ? b - 1 : k
  }
}

/**
 * Equal-frequency (maximum-entropy) bin labels: `bin(v) = ⌊b·r(v)/n⌋`, where r(v) is the number of
 * sample values strictly below v, i.e. the lowest rank among v's ties. The labels depend only on the
 * order of the values, so they are unchanged by any strictly increasing map. `sorted` is scratch of
 * length ≥ n. Writes labels into `out[0..n)`.
 */
export function equalFrequencyBins(
  n: number,
  x: Float64Array,
  stride: number,
  offset: number,
  b: number,
  out: Int32Array,
  sorted: Float64Array,
): void {
  const s = sorted.subarray(0, n)
  for (let i = 0, p = offset; i < n; i++, p += stride) s[i] = x[p]!
  s.sort()
  for (let i = 0, p = offset; i < n; i++, p += stride) {
    const v = x[p]!
    // lower bound: first index with s[idx] >= v
    let a = 0
    let c = n
    while (a < c) {
      const m = (a + c) >>> 1
      if (s[m]! < v) a = m + 1
      else c = m
    }
    out[i] = Math.floor((b * a) / n)
  }
}

/** −Σ (c/n) ln(c/n) over the non-zero counts, with 0·ln 0 = 0; also returns how many counts are non-zero. */
function plugInEntropy(counts: Int32Array, n: number): { h: number; k: number } {
  let s = 0
  let k = 0
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!
    if (c > 0) {
      const p = c / n
      s -= p * Math.log(p)
      k++
    }
  }
  return { h: s, k }
}

/**
 * Plug-in MI (nats) of two label vectors with values in [0, b), from their b×b contingency table.
 * `table` is scratch of length ≥ b·b.
 */
export function pairCounts(
  n: number,
  bx: Int32Array,
  by: Int32Array,
  b: number,
  table: Int32Array,
): PairCounts {
  const t = table.subarray(0, b * b)
  t.fill(0)
  const cx = new Int32Array(b)
  const cy = new Int32Array(b)
  for (let i = 0; i < n; i++) {
    const a = bx[i]!
    const c = by[i]!
    cx[a]!++
    cy[c]!++
    t[a * b + c]!++
  }
  const hx = plugInEntropy(cx, n)
  const hy = plugInEntropy(cy, n)
  const hxy = plugInEntropy(t, n)
  return { mlMi: hx.h + hy.h - hxy.h, kx: hx.k, ky: hy.k, kxy: hxy.k }
}
