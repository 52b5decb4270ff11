import {
  type BlockIndex,
  PruneError,
  type Selection,
  type SelectionContext,
  type SpanScorer,
} from '@mi-prun/core'
import {
  type AsyncSelector,
  type CommonSelectorOptions,
  type SyncSelector,
  assertSelectorOptions,
  removability,
  requireScorer,
  setObjective,
} from '@mi-prun/span-scoring'
import { PKG, binomial, forEachSubset, prepare, requireObjective } from './common.js'

/** Options of the exact-search oracles. */
export interface ExactSearchOptions extends CommonSelectorOptions {
  /** Refuse (PruneError 'INVALID_CONFIG') when C(candidates, N) exceeds this. */
  readonly maxCombinations?: number
  /** Called once before any work with the number of subsets the search will enumerate (C(candidates, N); 0 for the DP). */
  readonly onPlan?: (plan: {
    readonly combinations: number
    readonly candidates: number
    readonly N: number
  }) => void
}

/** Options of {@link createExactMiSelector}. */
export interface ExactMiOptions extends ExactSearchOptions {
  /**
   * 'enumerate' (default): every N-subset, capped by maxCombinations. 'dynamic-programming': the same optimum
   * in O(T·N²) steps with no cap, valid because the objective is a sum over maximal runs, and runs separated
   * by an unselected block do not interact.
   */
  readonly algorithm?: 'enumerate' | 'dynamic-programming'
}

/**
 * Exact maximum of the span objective by dynamic programming: f(i, n) = best objective choosing n blocks
 * among i..T−1 = max( f(i+1, n), max_L r(i, L) + f(i+L+1, n−L) ), where r(i, L) is the direction-applied
 * score of a run [i, i+L) of unprotected blocks and block i+L (if any) stays. Ties prefer taking the longest
 * run at the lowest index, i.e. the lexicographically first optimal subset, as enumeration does.
 */
function dpOptimum(
  scorer: SpanScorer,
  T: number,
  N: number,
  prot: ReadonlySet<number>,
): { best: BlockIndex[]; value: number } {
  const NEG = Number.NEGATIVE_INFINITY
  // f[i][n] for i = 0..T+1
  const f = Array.from({ length: T + 2 }, () => new Float64Array(N + 1).fill(NEG))
  const pick = Array.from({ length: T + 2 }, () => new Int32Array(N + 1)) // 0 = skip, L > 0 = run of length L
  f[T]![0] = 0
  f[T + 1]![0] = 0
  for (let i = T - 1; i >= 0; i--) {
    for (let n = 0; n <= N; n++) {
      let bestV = f[i + 1]![n]!
      let bestL = 0
      for (let L = 1; L <= n && i + L <= T && !prot.has(i + L - 1); L++) {
        const rest = f[Math.min(T + 1, i + L + 1)]![n - L]!
        if (rest === NEG) continue
        const v = removability(scorer, i, L) + rest
        if (v >= bestV) {
          bestV = v
          bestL = L
        }
      }
      f[i]![n] = bestV
      pick[i]![n] = bestL
    }
  }
  const best: number[] = []
  let i = 0
  let n = N
  while (n > 0 && i < T) {
    const L = pick[i]![n]!
    if (L === 0) i++
    else {
      for (let b = i; b < i + L; b++) best.push(b)
      n -= L
      i += L + 1
    }
  }
  return { best, value: f[0]![N]! }
}

function checkCap(count: number, cap: number, n: number, k: number, what: string): void {
  if (count > cap) {
    throw new PruneError(
      'INVALID_CONFIG',
      `[${PKG}] ${what} would enumerate C(${n}, ${k}) = ${count} subsets, above maxCombinations = ${cap}: raise maxCombinations, protect more blocks, or use a heuristic selector`,
    )
  }
}

/**
 * Exact search of the MI objective (oracle): by default enumerates every N-subset of the unprotected blocks
 * (C(candidates, N), stated up front and refused above `maxCombinations`, default 2e6) and returns the one with
 * the highest span objective, Σ over the subset's maximal runs [j, j+L) of the direction-applied span score
 * (for MI: Σ MI(h_j; h_{j+L}) nats). Ties go to the lexicographically first subset. Spans are memoised by the
 * scorer, so each is evaluated once; `cost.miEvaluations` counts them. With `algorithm: 'dynamic-programming'`
 * the same optimum comes from an O(T·N²) recursion (no enumeration, no cap), touching each span of length ≤ N
 * once: feasible for T = 32 and beyond.
 */
export function createExactMiSelector(options: ExactMiOptions = {}): SyncSelector {
  assertSelectorOptions(PKG, options, ['maxCombinations', 'onPlan', 'algorithm'])
  const { maxCombinations = 2e6, algorithm = 'enumerate' } = options
  const settings = {
    kind: 'exact-mi',
    algorithm,
    maxCombinations,
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'exact-mi',
    settings,
    select(context: SelectionContext, numToRemove?: number): Selection {
      const t0 = performance.now()
      const { T, N, candidates } = prepare(context, numToRemove, options.ratio, options.protect)
      const scorer = requireScorer(PKG, T, context.scorer)
      const combinations = binomial(candidates.length, N)
      const ev0 = scorer.evaluations
      let best: BlockIndex[] = []
      let bestValue = Number.NEGATIVE_INFINITY
      options.onPlan?.({
        combinations: algorithm === 'dynamic-programming' ? 0 : combinations,
        candidates: candidates.length,
        N,
      })
      if (algorithm === 'dynamic-programming') {
        const cand = new Set(candidates)
        ;({ best, value: bestValue } = dpOptimum(
          scorer,
          T,
          N,
          new Set([...Array(T).keys()].filter((b) => !cand.has(b))),
        ))
      } else {
        checkCap(combinations, maxCombinations, candidates.length, N, 'exact MI search')
        forEachSubset(candidates, N, (s) => {
          const v = setObjective(scorer, s)
          if (v > bestValue) {
            bestValue = v
            best = [...s]
          }
        })
      }
      const miEvaluations = scorer.evaluations - ev0
      return {
        selector: 'exact-mi',
        selected: best,
        settings: { ...settings, scorer: scorer.name, scorerSettings: scorer.settings },
        cost: { forwardPasses: 0, miEvaluations, wallMs: performance.now() - t0 },
        trace: { kind: 'exact-mi-trace', combinations, objective: bestValue, spansEvaluated: miEvaluations },
      }
    },
  }
}

/**
 * Exact search by calibration loss (the perplexity oracle for small T, baselines.md §9): evaluates
 * `context.objective` (mean NLL, nats; PPL = exp of it) for every N-subset of the unprotected blocks and returns
 * the lowest (ties: lexicographically first). The count C(candidates, N) = forward passes is stated up front and
 * refused above `maxCombinations` (default 5000).
 */
export function createExactPerplexitySelector(options: ExactSearchOptions = {}): AsyncSelector {
  assertSelectorOptions(PKG, options, ['maxCombinations', 'onPlan'])
  const { maxCombinations = 5000 } = options
  const settings = {
    kind: 'exact-ppl',
    maxCombinations,
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'exact-ppl',
    settings,
    async select(context: SelectionContext, numToRemove?: number): Promise<Selection> {
      const t0 = performance.now()
      const { N, candidates } = prepare(context, numToRemove, options.ratio, options.protect)
      const objective = requireObjective(context)
      const combinations = binomial(candidates.length, N)
      checkCap(combinations, maxCombinations, candidates.length, N, 'exact perplexity search')
      options.onPlan?.({ combinations, candidates: candidates.length, N })
      const subsets: BlockIndex[][] = []
      forEachSubset(candidates, N, (s) => subsets.push([...s]))
      let best: BlockIndex[] = []
      let bestLoss = Number.POSITIVE_INFINITY
      for (const s of subsets) {
        const loss = await objective(s)
        if (!Number.isFinite(loss))
          throw new PruneError(
            'NON_FINITE',
            `[${PKG}] the objective returned ${loss} for removed set ${JSON.stringify(s)}`,
          )
        if (loss < bestLoss) {
          bestLoss = loss
          best = s
        }
      }
      return {
        selector: 'exact-ppl',
        selected: best,
        settings,
        cost: { forwardPasses: combinations, miEvaluations: 0, wallMs: performance.now() - t0 },
        trace: { kind: 'exact-ppl-trace', combinations, loss: bestLoss, perplexity: Math.exp(bestLoss) },
      }
    },
  }
}
