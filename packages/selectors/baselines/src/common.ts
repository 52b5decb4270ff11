import { type BlockIndex, PruneError, type SelectionContext } from '@mi-prun/core'
import { type ProtectOptions, resolveBudget, resolveProtected } from '@mi-prun/span-scoring'

export const PKG = '@mi-prun/selector-baselines'

/** T, the protected set, N and the candidate blocks (unprotected, ascending) of one select() call. */
export interface Prepared {
  readonly T: number
  readonly protectedBlocks: readonly BlockIndex[]
  readonly N: number
  readonly candidates: readonly BlockIndex[]
}

export function prepare(
  context: SelectionContext,
  numToRemove: number | undefined,
  ratio: number | undefined,
  protect: ProtectOptions | undefined,
): Prepared {
  const T = context.numBlocks
  if (!Number.isInteger(T) || T < 2)
    throw new PruneError('INVALID_INPUT', `[${PKG}] context.numBlocks must be an integer ≥ 2, got ${T}`)
  const protectedBlocks = resolveProtected(PKG, T, context.protectedBlocks, protect)
  const N = resolveBudget(PKG, T, numToRemove, ratio, protectedBlocks.length)
  const p = new Set(protectedBlocks)
  const candidates = [...Array(T).keys()].filter((i) => !p.has(i))
  return { T, protectedBlocks, N, candidates }
}

export function requireObjective(
  context: SelectionContext,
): (removed: readonly BlockIndex[]) => Promise<number> {
  if (typeof context.objective !== 'function') {
    throw new PruneError(
      'INVALID_INPUT',
      `[${PKG}] this selector runs the model: pass context.objective(removed) → mean calibration NLL (nats), e.g. from a ModelAdapter's nll()`,
    )
  }
  return context.objective
}

/** C(n, k) as a float (exact below 2^53). */
export function binomial(n: number, k: number): number {
  if (k < 0 || k > n) return 0
  let r = 1
  for (let i = 1; i <= Math.min(k, n - k); i++) r = (r * (n - Math.min(k, n - k) + i)) / i
  return Math.round(r)
}

/** Calls `visit` with every k-subset of `items` in lexicographic order (the array is reused; copy to keep it). */
export function forEachSubset(
  items: readonly number[],
  k: number,
  visit: (subset: readonly number[]) => void,
): void {
  const n = items.length
  const idx = Array.from({ length: k }, (_, i) => i)
  const cur = idx.map((i) => items[i]!)
  for (;;) {
    visit(cur)
    let i = k - 1
    while (i >= 0 && idx[i] === n - k + i) i--
    if (i < 0) return
    idx[i]!++
    cur[i] = items[idx[i]!]!
    for (let j = i + 1; j < k; j++) {
      idx[j] = idx[j - 1]! + 1
      cur[j] = items[idx[j]!]!
    }
  }
}
