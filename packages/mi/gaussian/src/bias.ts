import { digamma } from '@mi-prun/core'

/**
 * The exact expected bias of the log-determinant of a sample covariance, halved [1]:
 * `b(d, N) = ½ [ d·ln(2/(N−1)) + Σ_{i=1..d} ψ((N−i)/2) ]`, so that for Gaussian data
 * E[½ ln det Ĉ] − ½ ln det Σ = b(d, N), with Ĉ = ZᵀZ/(N−1) (any Σ). Nats. b(0, N) = 0.
 * Defined only for N > d; returns NaN otherwise.
 *
 * [1] N. R. Goodman, "The distribution of the determinant of a complex Wishart distributed matrix",
 *     Ann. Math. Stat. 34 (1963); as used by R. A. A. Ince et al., "A statistical framework for
 *     neuroimaging data analysis based on mutual information estimated via a Gaussian copula",
 *     Hum. Brain Mapp. 38 (2017).
 * @example
 * gaussianBias(1, 2000) // ½[ln(2/1999) + ψ(1999/2)] ≈ −2.5e-4
 */
export function gaussianBias(d: number, n: number): number {
  if (!Number.isInteger(d) || d < 0 || !(n > d)) return Number.NaN
  if (d === 0) return 0
  let s = d * Math.log(2 / (n - 1))
  for (let i = 1; i <= d; i++) s += digamma((n - i) / 2)
  return 0.5 * s
}

/**
 * Expected bias of the raw log-det MI estimate for Gaussian data:
 * `E[Î_raw] − I = b(dx, N) + b(dy, N) − b(dx+dy, N)` (nats, positive), with b from
 * {@link gaussianBias}. The bias-corrected estimate subtracts it. For N ≫ d it is close to
 * dx·dy/(2N). NaN when N ≤ dx + dy.
 * @example
 * gaussianMiBias(64, 64, 2000) // 1.0588646…
 */
export function gaussianMiBias(dx: number, dy: number, n: number): number {
  return gaussianBias(dx, n) + gaussianBias(dy, n) - gaussianBias(dx + dy, n)
}
