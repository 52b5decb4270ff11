/** One candidate window [start, start+length) of a group, with its direction-applied exact span score. */
export interface WindowChoice {
  readonly start: number
  readonly length: number
  /** Direction-applied exact span score (for MI: the span MI in nats). */
  readonly value: number
}

/** Result of {@link conflictFreeSelect}. */
export interface ConflictFreeResult {
  /** Index into each group's list of the chosen window. */
  readonly choice: readonly number[]
  /** Σ of the chosen windows' values. */
  readonly total: number
  /** 'exact' (branch and bound over the product) or 'greedy' (descending value with backtracking). */
  readonly method: 'exact' | 'greedy'
  /** Size of the product of the candidate lists. */
  readonly combinations: number
  /** Search nodes visited. */
  readonly nodes: number
}

const overlaps = (a: WindowChoice, b: WindowChoice): boolean =>
  a.start < b.start + b.length && b.start < a.start + a.length

/**
 * ConflictFreeSelect (method.md §4c): picks one window per group so that no two chosen windows share a
 * block (adjacent windows are allowed) and the sum of their values is maximal. `initial` is a feasible
 * choice (each group's current window); the result is never worse than it, and it is kept on ties, so an
 * unchanged set stops the iteration. When the product of the list sizes is at most `exactLimit` the search
 * is exact (depth-first branch and bound, each list in descending value, bound = Σ of the remaining groups'
 * best values); otherwise the groups are filled greedily in descending value with backtracking and the
 * first complete assignment is compared with `initial`. Deterministic: lists are scanned in their given
 * order (the caller sorts ties by lower start).
 */
export function conflictFreeSelect(
  groups: readonly (readonly WindowChoice[])[],
  initial: readonly number[],
  exactLimit = 1e5,
): ConflictFreeResult {
  const m = groups.length
  let combinations = 1
  for (const g of groups) combinations *= g.length
  const orders = groups.map((g) =>
    g.map((_, i) => i).sort((a, b) => g[b]!.value - g[a]!.value || g[a]!.start - g[b]!.start),
  )
  let best = [...initial]
  let bestTotal = initial.reduce((a, c, gi) => a + groups[gi]![c]!.value, 0)
  const exact = combinations <= exactLimit
  // group order: largest best value first (tighter bounds, better greedy)
  const gorder = groups
    .map((_, i) => i)
    .sort((a, b) => groups[b]![orders[b]![0]!]!.value - groups[a]![orders[a]![0]!]!.value || a - b)
  const suffixBest = new Float64Array(m + 1)
  for (let k = m - 1; k >= 0; k--) {
    const g = gorder[k]!
    suffixBest[k] = suffixBest[k + 1]! + groups[g]![orders[g]![0]!]!.value
  }
  const cur = new Array<number>(m).fill(-1)
  const chosen: WindowChoice[] = []
  let nodes = 0
  let done = false
  const rec = (k: number, total: number): void => {
    if (done) return
    if (k === m) {
      if (total > bestTotal) {
        bestTotal = total
        best = [...cur]
      }
      if (!exact) done = true
      return
    }
    if (exact && total + suffixBest[k]! <= bestTotal) return
    const g = gorder[k]!
    for (const i of orders[g]!) {
      const w = groups[g]![i]!
      nodes++
      if (chosen.some((c) => overlaps(c, w))) continue
      if (exact && total + w.value + suffixBest[k + 1]! <= bestTotal) break
      cur[g] = i
      chosen.push(w)
      rec(k + 1, total + w.value)
      chosen.pop()
      cur[g] = -1
      if (done) return
    }
  }
  rec(0, 0)
  return { choice: best, total: bestTotal, method: exact ? 'exact' : 'greedy', combinations, nodes }
}
