import { type BlockIndex, PruneError, type Selection, type SelectionContext } from '@mi-prun/core'
import {
  type AsyncSelector,
  type CommonSelectorOptions,
  assertSelectorOptions,
  requireScorer,
  setObjective,
} from '@mi-prun/span-scoring'
import { PKG, binomial, forEachSubset, prepare } from './common.js'

/**
 * A {@link SelectionContext} that may also evaluate a removed set from the cached dense residual state:
 * `objectiveFrom(removed, start)` returns the same mean calibration NLL as `objective(removed)`, but starts at
 * block `start` = min(removed) from the cached h_start (ModelAdapter `nll(batch, { start, skip })`), so it runs
 * only the T − start − N kept blocks after the first removed one.
 */
export interface MiRerankContext extends SelectionContext {
  readonly objectiveFrom?: (removed: readonly BlockIndex[], start: BlockIndex) => Promise<number>
}

/** Options of {@link createMiRerankSelector}. */
export interface MiRerankOptions extends CommonSelectorOptions {
  /**
   * 'protect' (default): block 0 and block T−1 are never removed (on top of `protect`), and the trace says so.
   * 'allow': only `protect` and the context's protected blocks apply.
   */
  readonly endPolicy?: 'protect' | 'allow'
  /** At most this many of the best sets under the MI objective are re-ranked. Default 8. */
  readonly shortlist?: number
  /**
   * Total cost cap in forward-pass equivalents (one = T blocks over the calibration tokens), counting 1 for the
   * dense pass that cached the hidden states. Sets are re-ranked in MI order while the running total stays
   * within it (the MI optimum is always evaluated). Default N + 2.
   */
  readonly forwardBudget?: number
  /** Refuse (PruneError 'INVALID_CONFIG') when C(candidates, N) exceeds this. Default 2e6. */
  readonly maxCombinations?: number
}

interface Ranked {
  readonly set: BlockIndex[]
  readonly mi: number
}

/**
 * MI-rerank: the `shortlist` best N-subsets under the MI span objective (Σ over maximal runs of the
 * direction-applied span score, found exactly by enumerating every N-subset of the unprotected blocks) are
 * re-ranked by calibration loss, and the lowest loss wins (ties: the better MI rank). Each loss is computed from
 * the cached dense states by re-running only the blocks after the first removed one when the context offers
 * `objectiveFrom`; otherwise through `objective`, counted as a full forward pass. The cost is counted exactly:
 * 1 (the dense pass with hidden states, shared with the scorer) + Σ_k (T − min(S_k) − N)/T forward-pass
 * equivalents, and shortlisting stops before it would exceed `forwardBudget` (default N + 2). The LM head is
 * not counted in forward-pass equivalents (it runs once per evaluated set, as in every loss-based selector).
 */
export function createMiRerankSelector(options: MiRerankOptions = {}): AsyncSelector {
  assertSelectorOptions(PKG, options, ['endPolicy', 'shortlist', 'forwardBudget', 'maxCombinations'])
  const { endPolicy = 'protect', shortlist = 8, maxCombinations = 2e6 } = options
  if (endPolicy !== 'protect' && endPolicy !== 'allow')
    throw new PruneError(
      'INVALID_CONFIG',
      `[${PKG}] endPolicy must be 'protect' or 'allow', got ${JSON.stringify(endPolicy)}`,
    )
  if (!Number.isInteger(shortlist) || shortlist < 1)
    throw new PruneError('INVALID_CONFIG', `[${PKG}] shortlist must be an integer ≥ 1, got ${shortlist}`)
  if (options.forwardBudget !== undefined && !(options.forwardBudget >= 1))
    throw new PruneError(
      'INVALID_CONFIG',
      `[${PKG}] forwardBudget must be ≥ 1 (the dense pass), got ${options.forwardBudget}`,
    )
  const settings = {
    kind: 'mi-rerank',
    endPolicy,
    shortlist,
    forwardBudget: options.forwardBudget ?? 'N+2',
    maxCombinations,
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'mi-rerank',
    settings,
    async select(context: SelectionContext, numToRemove?: number): Promise<Selection> {
      const t0 = performance.now()
      const ctx = context as MiRerankContext
      const userProtect = options.protect ?? {}
      const protect =
        endPolicy === 'protect'
          ? {
              ...userProtect,
              first: Math.max(1, userProtect.first ?? 0),
              last: Math.max(1, userProtect.last ?? 0),
            }
          : userProtect
      const { T, N, candidates, protectedBlocks } = prepare(context, numToRemove, options.ratio, protect)
      const scorer = requireScorer(PKG, T, context.scorer)
      const partial = typeof ctx.objectiveFrom === 'function'
      if (!partial && typeof context.objective !== 'function')
        throw new PruneError(
          'INVALID_INPUT',
          `[${PKG}] mi-rerank evaluates the shortlist's calibration loss: pass context.objectiveFrom(removed, start) (cached states) or context.objective(removed)`,
        )
      const budget = options.forwardBudget ?? N + 2
      const combinations = binomial(candidates.length, N)
      if (combinations > maxCombinations)
        throw new PruneError(
          'INVALID_CONFIG',
          `[${PKG}] mi-rerank would enumerate C(${candidates.length}, ${N}) = ${combinations} subsets, above maxCombinations = ${maxCombinations}: raise maxCombinations or protect more blocks`,
        )
      const ev0 = scorer.evaluations
      // Keep the `shortlist` best sets; enumeration is lexicographic, so a strict comparison keeps ties in
      // lexicographic order.
      const top: Ranked[] = []
      forEachSubset(candidates, N, (s) => {
        const mi = setObjective(scorer, s)
        if (top.length === shortlist && !(mi > top[top.length - 1]!.mi)) return
        let at = top.length
        while (at > 0 && mi > top[at - 1]!.mi) at--
        top.splice(at, 0, { set: [...s], mi })
        if (top.length > shortlist) top.pop()
      })
      const miEvaluations = scorer.evaluations - ev0
      let cost = 1 // the dense pass whose hidden states the scorer and the cached starts use
      let blockEvaluations = T
      const evaluated: Array<{
        rank: number
        removed: BlockIndex[]
        mi: number
        loss: number
        start: BlockIndex
        blocksRun: number
      }> = []
      let skippedForBudget = 0
      for (let r = 0; r < top.length; r++) {
        const { set, mi } = top[r]!
        const start = set[0]!
        const blocksRun = partial ? T - start - N : T - N
        const add = partial ? blocksRun / T : 1
        if (r > 0 && cost + add > budget + 1e-12) {
          skippedForBudget = top.length - r
          break
        }
        const loss = partial ? await ctx.objectiveFrom!(set, start) : await context.objective!(set)
        if (!Number.isFinite(loss))
          throw new PruneError(
            'NON_FINITE',
            `[${PKG}] the objective returned ${loss} for removed set ${JSON.stringify(set)}`,
          )
        cost += add
        blockEvaluations += blocksRun
        evaluated.push({ rank: r, removed: set, mi, loss, start, blocksRun })
      }
      let best = evaluated[0]!
      for (const e of evaluated) if (e.loss < best.loss) best = e
      return {
        selector: 'mi-rerank',
        selected: best.removed,
        settings: { ...settings, scorer: scorer.name, scorerSettings: scorer.settings },
        cost: { forwardPasses: cost, miEvaluations, wallMs: performance.now() - t0 },
        trace: {
          kind: 'mi-rerank-trace',
          endPolicy,
          protectedBlocks,
          combinations,
          budget,
          partialForwards: partial,
          blockEvaluations,
          skippedForBudget,
          chosenRank: best.rank,
          evaluated,
        },
      }
    },
  }
}
