// Small numeric helpers shared by the tests.
/** max |a - b| / max(|b|, tiny): the relative error of a against reference b. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let num = 0
  let den = 1e-30
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!))
    den = Math.max(den, Math.abs(b[i]!))
  }
  return num / den
}
