import {
  type BlockIndex,
  PruneError,
  type Selection,
  type SelectionContext,
  type SpanScorer,
} from '@mi-prun/core'
import {
  type CommonSelectorOptions,
  type SyncSelector,
  assertSelectorOptions,
  maximalRuns,
  removability,
  requireScorer,
  resolveBudget,
  resolveProtected,
} from '@mi-prun/span-scoring'
import { type WindowChoice, conflictFreeSelect } from './conflict-free.js'

const PKG = '@mi-prun/selector-fast-block-select'

/** Options of {@link createFastBlockSelectSelector}; defaults follow method.md §4. */
export interface FastBlockSelectOptions extends CommonSelectorOptions {
  /** Additive term of K = min(⌊ln L⌋ + k, |C|). Default 5. */
  readonly k?: number
  /** Candidate pool: 'fixed' (initial P ∪ A, the default) or 'recompute' (P ∪ the M best blocks outside P, every iteration). */
  readonly pool?: 'fixed' | 'recompute'
  /** Stop after this many iterations. Default 20. */
  readonly maxIterations?: number
  /** ConflictFreeSelect is exact when the product of the candidate lists is ≤ this. Default 1e5. */
  readonly exactLimit?: number
  /**
   * Which set to return: 'best' (default) returns the visited set with the highest span objective, so the
   * result is never worse than the greedy start; 'last' returns the final P as the pseudocode does.
   */
  readonly keep?: 'best' | 'last'
}

/** One candidate window of a group in the trace. */
export interface FbsCandidate {
  readonly start: number
  readonly length: number
  /** Surrogate J = Σ_{k in window} I_k with I_k = −(direction-applied single-block score); ascending J = most removable first. */
  readonly J: number
  /** Raw exact span score (for MI: nats), present when evaluated. */
  readonly score?: number
  /** Why it was evaluated: among the first K by J, or added as the group's current window. */
  readonly evaluated: 'top-k' | 'current' | false
}

/** One group of one iteration in the trace. */
export interface FbsGroup {
  readonly start: number
  readonly length: number
  /** |C|: windows of this length inside the pool. */
  readonly candidates: number
  readonly K: number
  /** Every window of C in ascending J (ties: lower start). */
  readonly windows: readonly FbsCandidate[]
  /** The window ConflictFreeSelect chose. */
  readonly chosen: readonly [start: number, length: number]
}

/** One iteration in the trace. */
export interface FbsIteration {
  readonly iteration: number
  readonly P: readonly BlockIndex[]
  /** Span objective of P (Σ over its maximal runs of the direction-applied span score). */
  readonly objective: number
  readonly pool: readonly BlockIndex[]
  readonly groups: readonly FbsGroup[]
  readonly next: readonly BlockIndex[]
  readonly method: 'exact' | 'greedy'
  readonly combinations: number
  /** Scorer evaluations used so far (cumulative, this run). */
  readonly miEvaluations: number
}

/** The full trace of one Fast-Block-Select run (`Selection.trace`). */
export interface FbsTrace {
  readonly kind: 'fast-block-select-trace'
  /** Single-block importances I_i = −(direction-applied score), for unprotected blocks (null if protected). */
  readonly importance: ReadonlyArray<number | null>
  /** Unprotected blocks in ascending I (ties: lower index). */
  readonly order: readonly BlockIndex[]
  readonly initialP: readonly BlockIndex[]
  readonly initialA: readonly BlockIndex[]
  readonly M: number
  readonly iterations: readonly FbsIteration[]
  readonly stop: 'converged' | 'cycle' | 'max-iterations'
  /** P after the last iteration. */
  readonly final: readonly BlockIndex[]
  readonly finalObjective: number
  /** Which set was returned and its objective. */
  readonly returned: 'last' | 'best'
  readonly objective: number
  readonly miEvaluations: number
}

const key = (p: readonly number[]): string => p.join(',')

/**
 * Fast-Block-Select, Algorithm 1 of MI-PRUN [1], as resolved in method.md §3–4. Rank blocks by their single-block
 * score (I_i = −MI(h_i; h_{i+1}), ascending = most removable first); P = the N most removable, A = the next
 * M = min(N, T−N) (fewer when protection leaves fewer), pool U = P ∪ A (fixed by default). Each iteration splits
 * P into maximal runs; for a run of length L every window of L consecutive pool blocks is a candidate, sorted by
 * the surrogate J (Σ of single-block I, ascending; ties by lower start); the exact span score of the first
 * K = min(⌊ln L⌋ + k, |C|) and of the run's current window is computed (memoised by the scorer); then
 * ConflictFreeSelect picks one window per run, pairwise disjoint, maximising the sum of exact span scores (exact
 * up to `exactLimit` combinations). Stops when P is unchanged, a previous P recurs (cycle), or after
 * `maxIterations`. The span objective of a set is Σ over its maximal runs [j, j+L) of the span score
 * (for MI, Σ MI(h_j; h_{j+L}) nats). Works with any scorer: its direction is applied.
 * [1] H. Zhang et al., "MI-PRUN: Optimize Large Language Model Pruning via Mutual Information", arXiv 2601.07212 (2026).
 * @example
 * const sel = createFastBlockSelectSelector({ k: 5 })
 * const { selected, trace } = sel.select({ numBlocks: 32, scorer }, 5)
 */
export function createFastBlockSelectSelector(options: FastBlockSelectOptions = {}): SyncSelector {
  assertSelectorOptions(PKG, options, ['k', 'pool', 'maxIterations', 'exactLimit', 'keep'])
  const { k = 5, pool = 'fixed', maxIterations = 20, exactLimit = 1e5, keep = 'best' } = options
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`[${PKG}] k must be a positive integer, got ${k}`)
  if (!Number.isInteger(maxIterations) || maxIterations < 1)
    throw new RangeError(`[${PKG}] maxIterations must be a positive integer, got ${maxIterations}`)
  if (!(exactLimit >= 1)) throw new RangeError(`[${PKG}] exactLimit must be ≥ 1, got ${exactLimit}`)
  if (pool !== 'fixed' && pool !== 'recompute')
    throw new RangeError(`[${PKG}] pool must be 'fixed' or 'recompute', got ${String(pool)}`)
  const settings = {
    kind: 'fast-block-select',
    k,
    pool,
    maxIterations,
    exactLimit,
    keep,
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'fast-block-select',
    settings,
    select(context: SelectionContext, numToRemove?: number): Selection {
      const t0 = performance.now()
      const T = context.numBlocks
      const scorer = requireScorer(PKG, T, context.scorer)
      const prot = resolveProtected(PKG, T, context.protectedBlocks, options.protect)
      const N = resolveBudget(PKG, T, numToRemove, options.ratio, prot.length)
      const ev0 = scorer.evaluations
      const trace = fastBlockSelect(scorer, T, N, new Set(prot), { k, pool, maxIterations, exactLimit, keep })
      const miEvaluations = scorer.evaluations - ev0
      const result = trace.returned === 'last' ? trace.final : bestSet(trace)
      return {
        selector: 'fast-block-select',
        selected: [...result],
        settings: { ...settings, scorer: scorer.name, scorerSettings: scorer.settings },
        cost: { forwardPasses: 0, miEvaluations, wallMs: performance.now() - t0 },
        trace: { ...trace, miEvaluations },
      }
    },
  }
}

function bestSet(trace: FbsTrace): readonly BlockIndex[] {
  let best = trace.final
  let bestObj = trace.finalObjective
  for (const it of trace.iterations) {
    // strictly better only: ties keep the later (converged) set
    if (it.objective > bestObj) {
      best = it.P
      bestObj = it.objective
    }
  }
  return best
}

/** Windows [w, w+L) lying entirely inside the pool, as starts in ascending order. */
function windowsInPool(inPool: Uint8Array, L: number): number[] {
  const out: number[] = []
  let run = 0
  for (let i = 0; i < inPool.length; i++) {
    run = inPool[i] ? run + 1 : 0
    if (run >= L) out.push(i - L + 1)
  }
  return out
}

interface Resolved {
  readonly k: number
  readonly pool: 'fixed' | 'recompute'
  readonly maxIterations: number
  readonly exactLimit: number
  readonly keep: 'best' | 'last'
}

function fastBlockSelect(
  scorer: SpanScorer,
  T: number,
  N: number,
  prot: ReadonlySet<number>,
  o: Resolved,
): FbsTrace {
  const ev0 = scorer.evaluations
  const importance: Array<number | null> = []
  for (let i = 0; i < T; i++) importance.push(prot.has(i) ? null : 0 - removability(scorer, i, 1))
  const order = [...Array(T).keys()]
    .filter((i) => !prot.has(i))
    .sort((a, b) => importance[a]! - importance[b]! || a - b)
  const available = order.length
  const M = Math.max(0, Math.min(N, T - N, available - N))
  let P = order.slice(0, N).sort((a, b) => a - b)
  const A = order.slice(N, N + M).sort((a, b) => a - b)
  const fixedPool = [...P, ...A].sort((a, b) => a - b)
  const poolFor = (p: readonly number[]): number[] => {
    if (o.pool === 'fixed') return fixedPool
    const inP = new Set(p)
    return [...p, ...order.filter((i) => !inP.has(i)).slice(0, M)].sort((a, b) => a - b)
  }
  const iterations: FbsIteration[] = []
  const seen = new Set<string>([key(P)])
  let stop: FbsTrace['stop'] = 'max-iterations'
  let finalObjective = Number.NaN
  for (let it = 1; it <= o.maxIterations; it++) {
    const U = poolFor(P)
    const inPool = new Uint8Array(T)
    for (const u of U) inPool[u] = 1
    const runs = maximalRuns(P)
    const lists: WindowChoice[][] = []
    const initial: number[] = []
    const groups: Array<Omit<FbsGroup, 'chosen'>> = []
    let objective = 0
    for (const [gs, L] of runs) {
      const starts = windowsInPool(inPool, L)
      const J = (w: number): number => {
        let s = 0
        for (let b = w; b < w + L; b++) s += importance[b]!
        return s
      }
      const ranked = starts.map((w) => ({ w, J: J(w) })).sort((a, b) => a.J - b.J || a.w - b.w)
      const K = Math.min(Math.floor(Math.log(L)) + o.k, ranked.length)
      const list: WindowChoice[] = []
      const windows: FbsCandidate[] = ranked.map(({ w, J: j }, r) => {
        const top = r < K
        const current = w === gs
        if (!top && !current) return { start: w, length: L, J: j, evaluated: false }
        const score = scorer.score(w, L)
        list.push({ start: w, length: L, value: scorer.higherMeansRemovable ? score : -score })
        return { start: w, length: L, J: j, score, evaluated: top ? 'top-k' : 'current' }
      })
      const cur = list.findIndex((c) => c.start === gs)
      if (cur < 0)
        throw new PruneError(
          'INVALID_INPUT',
          `[${PKG}] internal: the current window [${gs}, ${gs + L}) is not in the pool`,
        )
      initial.push(cur)
      objective += list[cur]!.value
      lists.push(list)
      groups.push({ start: gs, length: L, candidates: ranked.length, K, windows })
    }
    const cf = conflictFreeSelect(lists, initial, o.exactLimit)
    const next: number[] = []
    const chosenGroups: FbsGroup[] = groups.map((g, gi) => {
      const w = lists[gi]![cf.choice[gi]!]!
      for (let b = w.start; b < w.start + w.length; b++) next.push(b)
      return { ...g, chosen: [w.start, w.length] as const }
    })
    next.sort((a, b) => a - b)
    iterations.push({
      iteration: it,
      P,
      objective,
      pool: U,
      groups: chosenGroups,
      next,
      method: cf.method,
      combinations: cf.combinations,
      miEvaluations: scorer.evaluations - ev0,
    })
    if (key(next) === key(P)) {
      stop = 'converged'
      finalObjective = objective
      break
    }
    const recurs = seen.has(key(next))
    seen.add(key(next))
    P = next
    if (recurs) {
      stop = 'cycle'
      break
    }
  }
  if (Number.isNaN(finalObjective)) {
    finalObjective = 0
    for (const [s, L] of maximalRuns(P)) finalObjective += removability(scorer, s, L)
  }
  let returnedObjective = finalObjective
  if (o.keep === 'best')
    for (const it of iterations) returnedObjective = Math.max(returnedObjective, it.objective)
  return {
    kind: 'fast-block-select-trace',
    importance,
    order,
    initialP: order.slice(0, N).sort((a, b) => a - b),
    initialA: A,
    M,
    iterations,
    stop,
    final: P,
    finalObjective,
    returned: o.keep,
    objective: returnedObjective,
    miEvaluations: scorer.evaluations - ev0,
  }
}
