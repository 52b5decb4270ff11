import { PruneError } from './errors.js'

/**
 * Number of blocks to remove for a ratio of T: ⌈T·ratio⌉ with a 1e-9 tolerance, so 0.3·10 gives 3,
 * not 4 (the paper rounds up: 10 % of 32 → 4).
 */
export function blocksForRatio(numBlocks: number, ratio: number): number {
  if (!(ratio > 0 && ratio < 1))
    throw new PruneError('INVALID_INPUT', `[@mi-prun/core] ratio must be in (0, 1), got ${ratio}`)
  return Math.ceil(numBlocks * ratio - 1e-9)
}

/** Checks 1 ≤ n ≤ T − 1 − |protected| (at least one block must stay). */
export function checkBudget(numBlocks: number, n: number, protectedCount = 0): void {
  const max = numBlocks - 1 - protectedCount
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new PruneError(
      'INFEASIBLE_BUDGET',
      `[@mi-prun/core] cannot remove ${n} of ${numBlocks} blocks${protectedCount ? ` with ${protectedCount} protected` : ''}: choose 1..${max}`,
    )
  }
}
