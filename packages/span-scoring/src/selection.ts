import {
  type BlockIndex,
  PruneError,
  type Selection,
  type SelectionContext,
  type Selector,
  type SpanScorer,
  assertKnownOptions,
  blocksForRatio,
  checkBudget,
  suggestion,
} from '@mi-prun/core'

/** A selector that only reads scores: `select` is synchronous; the count may be omitted when `ratio` is set. */
export interface SyncSelector extends Selector {
  select(context: SelectionContext, numToRemove?: number): Selection
}

/** A selector that runs the model through `context.objective`: `select` is asynchronous. */
export interface AsyncSelector extends Selector {
  select(context: SelectionContext, numToRemove?: number): Promise<Selection>
}

/** Blocks a selector must never choose, given by position or by index. */
export interface ProtectOptions {
  /** Protect blocks 0..first−1. */
  readonly first?: number
  /** Protect blocks T−last..T−1. */
  readonly last?: number
  /** Protect these indices. */
  readonly blocks?: readonly BlockIndex[]
}

/** Options every selector shares: a ratio budget (used when `select` gets no count) and protected blocks. */
export interface CommonSelectorOptions {
  /** Remove N = ⌈T·ratio⌉ blocks when `select(context)` is called without a count (method.md §4f). */
  readonly ratio?: number
  /** Blocks never chosen, added to `context.protectedBlocks`. */
  readonly protect?: ProtectOptions
}

/** The keys of {@link CommonSelectorOptions}. */
export const COMMON_SELECTOR_OPTION_KEYS = [
  'ratio',
  'protect',
] as const satisfies readonly (keyof CommonSelectorOptions)[]

/**
 * The unknown-key check of a selector factory: `options` may hold the {@link CommonSelectorOptions} keys and
 * `own`; `protect`, when given, only `first`, `last` and `blocks`. Throws `TypeError` naming the closest key.
 * @example
 * assertSelectorOptions('@mi-prun/selector-baselines', options, ['seed', 'contiguous'])
 */
export function assertSelectorOptions(pkg: string, options: unknown, own: readonly string[] = []): void {
  assertKnownOptions(pkg, options, [...COMMON_SELECTOR_OPTION_KEYS, ...own])
  const protect = (options as { protect?: unknown } | undefined)?.protect
  if (protect === undefined) return
  const keys = ['first', 'last', 'blocks'] satisfies (keyof ProtectOptions)[]
  if (protect === null || typeof protect !== 'object' || Array.isArray(protect))
    throw new TypeError(
      `[${pkg}] protect must be an object { first?, last?, blocks? }, got ${JSON.stringify(protect)}`,
    )
  for (const key of Object.keys(protect))
    if (!(keys as string[]).includes(key))
      throw new TypeError(`[${pkg}] unknown option "protect.${key}" ${suggestion(key, keys)}`)
}

/**
 * The sorted set of protected blocks: the union of `context.protectedBlocks` and `protect`.
 * Throws PruneError 'INVALID_INPUT' for an index outside 0..T−1.
 */
export function resolveProtected(
  pkg: string,
  numBlocks: number,
  fromContext: readonly BlockIndex[] | undefined,
  protect: ProtectOptions | undefined,
): BlockIndex[] {
  const out = new Set<number>()
  const add = (i: number, where: string): void => {
    if (!Number.isInteger(i) || i < 0 || i >= numBlocks) {
      throw new PruneError(
        'INVALID_INPUT',
        `[${pkg}] protected block ${i} (from ${where}) is not in 0..${numBlocks - 1}`,
      )
    }
    out.add(i)
  }
  for (const i of fromContext ?? []) add(i, 'context.protectedBlocks')
  const first = protect?.first ?? 0
  const last = protect?.last ?? 0
  if (
    !Number.isInteger(first) ||
    first < 0 ||
    !Number.isInteger(last) ||
    last < 0 ||
    first + last > numBlocks
  ) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] protect.first=${first} and protect.last=${last} must be non-negative integers summing to at most ${numBlocks}`,
    )
  }
  for (let i = 0; i < first; i++) out.add(i)
  for (let i = numBlocks - last; i < numBlocks; i++) out.add(i)
  for (const i of protect?.blocks ?? []) add(i, 'protect.blocks')
  return [...out].sort((a, b) => a - b)
}

/**
 * N, the number of blocks to remove: `numToRemove` when given, else ⌈T·ratio⌉ (method.md §4f). When both are
 * given they must agree. Checks 1 ≤ N ≤ T − 1 − |protected| (PruneError 'INFEASIBLE_BUDGET').
 */
export function resolveBudget(
  pkg: string,
  numBlocks: number,
  numToRemove: number | undefined,
  ratio: number | undefined,
  protectedCount: number,
): number {
  let n = numToRemove
  if (ratio !== undefined) {
    const fromRatio = blocksForRatio(numBlocks, ratio)
    if (n !== undefined && n !== fromRatio) {
      throw new PruneError(
        'INVALID_INPUT',
        `[${pkg}] select() got N=${n} but options.ratio=${ratio} gives ⌈${numBlocks}·${ratio}⌉=${fromRatio}: pass one or the other`,
      )
    }
    n = fromRatio
  }
  if (n === undefined) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] no budget: pass the number of blocks to remove to select(), or set options.ratio`,
    )
  }
  try {
    checkBudget(numBlocks, n, protectedCount)
  } catch (e) {
    if (e instanceof PruneError)
      throw new PruneError(e.code, e.message.replace('[@mi-prun/core]', `[${pkg}]`), { cause: e })
    throw e
  }
  return n
}

/** The scorer in the context, checked against T; PruneError 'INVALID_INPUT' when missing or mismatched. */
export function requireScorer(pkg: string, numBlocks: number, scorer: SpanScorer | undefined): SpanScorer {
  if (scorer === undefined) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] this selector reads span scores: pass context.scorer (e.g. createMiSpanScorer from @mi-prun/span-scoring)`,
    )
  }
  if (scorer.numBlocks !== numBlocks) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] context.numBlocks is ${numBlocks} but the scorer '${scorer.name}' scores ${scorer.numBlocks} blocks`,
    )
  }
  return scorer
}

/**
 * Direction-applied score of the span [start, start+length): the raw score when higher means
 * removable (MI in nats, cosine), its negative otherwise (BI, angular distance). Selectors maximise it.
 */
export function removability(scorer: SpanScorer, start: BlockIndex, length: number): number {
  const s = scorer.score(start, length)
  return scorer.higherMeansRemovable ? s : -s
}

/** Maximal runs of consecutive indices of a sorted, duplicate-free block list, as [start, length] pairs. */
export function maximalRuns(sorted: readonly BlockIndex[]): Array<[start: number, length: number]> {
  const runs: Array<[number, number]> = []
  for (const b of sorted) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last[0] + last[1] === b) last[1]++
    else runs.push([b, 1])
  }
  return runs
}

/**
 * The span objective of an arbitrary block set (used by Fast-Block-Select's ConflictFreeSelect and the
 * exact-MI oracle): the sum, over the set's maximal runs [j, j+L), of the direction-applied span score
 * (for an MI scorer, Σ_runs MI(h_j; h_{j+L}) in nats). Higher is better. Each span goes through the
 * scorer's memo, so repeated calls cost no new evaluations.
 */
export function setObjective(scorer: SpanScorer, sortedBlocks: readonly BlockIndex[]): number {
  let total = 0
  for (const [start, length] of maximalRuns(sortedBlocks)) total += removability(scorer, start, length)
  return total
}
