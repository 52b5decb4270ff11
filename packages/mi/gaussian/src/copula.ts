import erfinv from '@stdlib/math-base-special-erfinv'

/**
 * Normal scores Φ⁻¹((r+1)/(n+1)) for ranks r = 0..n−1 (the Gaussian-copula transform of gcmi [1]).
 * [1] R. A. A. Ince et al., Hum. Brain Mapp. 38 (2017) 1541–1573.
 */
export function normalScores(n: number): Float64Array {
  const q = new Float64Array(n)
  for (let r = 0; r < n; r++) q[r] = Math.SQRT2 * erfinv((2 * (r + 1)) / (n + 1) - 1)
  return q
}

/**
 * Replaces the column of length n at `offset` of `z` by the normal scores of its ranks. Ties are
 * ranked by row index (stable), so the transform is deterministic. `scores` comes from
 * {@link normalScores}(n); `order` is scratch space of length n.
 */
export function copulaColumn(
  n: number,
  z: Float64Array,
  offset: number,
  scores: Float64Array,
  order: Int32Array,
): void {
  for (let i = 0; i < n; i++) order[i] = i
  const col = z.subarray(offset, offset + n)
  order.sort((a, b) => col[a]! - col[b]! || a - b)
  for (let r = 0; r < n; r++) col[order[r]!] = scores[r]!
}
