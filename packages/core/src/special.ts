import digammaImpl from '@stdlib/math-base-special-digamma'
import gammalnImpl from '@stdlib/math-base-special-gammaln'

/** The digamma function ψ(x) = d/dx ln Γ(x) (stdlib-js implementation). ψ(1) = −γ. */
export const digamma: (x: number) => number = digammaImpl
/** ln Γ(x) (stdlib-js implementation). */
export const lnGamma: (x: number) => number = gammalnImpl

/**
 * ψ at the non-negative integers 0..n-1 as a lookup table (ψ(0) = NaN is stored as −Infinity).
 * KSG evaluates ψ of neighbour counts millions of times; a table makes that exact and cheap.
 */
export function digammaTable(n: number): Float64Array {
  const t = new Float64Array(n)
  if (n > 0) t[0] = -Infinity
  for (let i = 1; i < n; i++) t[i] = digammaImpl(i)
  return t
}

/** Natural log of 2, for converting nats to bits (bits = nats / LN2). */
export const LN2 = Math.LN2
