import { type BlockIndex, PruneError, type Selection, type SelectionContext, type Selector } from '@mi-prun/core'
import { type CommonSelectorOptions, requireScorer, setObjective } from '@mi-prun/span-scoring'
import { PKG, binomial, forEachSubset, prepare, requireObjective } from './common.js'

/** Options of the exact-search oracles. */
export interface ExactSearchOptions extends CommonSelectorOptions {
  /** Refuse (PruneError 'INVALID_CONFIG') when C(candidates, N) exceeds this. */
  readonly maxCombinations?: number
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
 * Exact search of the MI objective (oracle for small T): enumerates every N-subset of the unprotected blocks
 * (C(candidates, N), stated up front and refused above `maxCombinations`, default 2e6) and returns the one with
 * the highest span objective, Σ over the subset's maximal runs [j, j+L) of the direction-applied span score
 * (for MI: Σ MI(h_j; h_{j+L}) nats). Ties go to the lexicographically first subset. Spans are memoised by the
 * scorer, so each is evaluated once; `cost.miEvaluations` counts them.
 */
export function createExactMiSelector(options: ExactSearchOptions = {}): Selector {
  const { maxCombinations = 2e6 } = options
  const settings = { kind: 'exact-mi', maxCombinations, ratio: options.ratio ?? null, protect: options.protect ? { ...options.protect } : null }
  return {
    name: 'exact-mi',
    settings,
    select(context: SelectionContext, numToRemove?: number): Selection {
      const t0 = performance.now()
      const { T, N, candidates } = prepare(context, numToRemove, options.ratio, options.protect)
      const scorer = requireScorer(PKG, T, context.scorer)
      const combinations = binomial(candidates.length, N)
      checkCap(combinations, maxCombinations, candidates.length, N, 'exact MI search')
      const ev0 = scorer.evaluations
      let best: BlockIndex[] = []
      let bestValue = Number.NEGATIVE_INFINITY
      forEachSubset(candidates, N, (s) => {
        const v = setObjective(scorer, s)
        if (v > bestValue) {
          bestValue = v
          best = [...s]
        }
      })
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
export function createExactPerplexitySelector(options: ExactSearchOptions = {}): Selector {
  const { maxCombinations = 5000 } = options
  const settings = { kind: 'exact-ppl', maxCombinations, ratio: options.ratio ?? null, protect: options.protect ? { ...options.protect } : null }
  return {
    name: 'exact-ppl',
    settings,
    async select(context: SelectionContext, numToRemove?: number): Promise<Selection> {
      const t0 = performance.now()
      const { N, candidates } = prepare(context, numToRemove, options.ratio, options.protect)
      const objective = requireObjective(context)
      const combinations = binomial(candidates.length, N)
      checkCap(combinations, maxCombinations, candidates.length, N, 'exact perplexity search')
      const subsets: BlockIndex[][] = []
      forEachSubset(candidates, N, (s) => subsets.push([...s]))
      let best: BlockIndex[] = []
      let bestLoss = Number.POSITIVE_INFINITY
      for (const s of subsets) {
        const loss = await objective(s)
        if (!Number.isFinite(loss)) throw new PruneError('NON_FINITE', `[${PKG}] the objective returned ${loss} for removed set ${JSON.stringify(s)}`)
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
