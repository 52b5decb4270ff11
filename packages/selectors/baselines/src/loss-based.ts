import { PruneError, type Selection, type SelectionContext } from '@mi-prun/core'
import { type AsyncSelector, type CommonSelectorOptions, assertSelectorOptions } from '@mi-prun/span-scoring'
import { PKG, prepare, requireObjective } from './common.js'

/** Options of {@link createSlebSelector}. */
export interface SlebOptions extends CommonSelectorOptions {
  /** Never remove the first this-many alive blocks. Default 1. */
  readonly earlyBarrier?: number
  /** Never remove the last this-many alive blocks. Default 1. */
  readonly latterBarrier?: number
}

/**
 * SLEB [1]: iterative greedy by calibration loss, refreshed after every removal. Starting from R = ∅, each step
 * evaluates L(R ∪ {j}) for every candidate j (alive, unprotected, outside the barriers) and appends the argmin
 * (ties: lower index) to R, until |R| = N. Blocks only ever leave the middle of the alive list, so the
 * barriers are the first `earlyBarrier` and last `latterBarrier` blocks of the model. `order` is the removal
 * order. Cost: Σ_{i<N} (candidates − i) forward passes over the calibration set.
 * [1] J. Song et al., "SLEB: Streamlining LLMs through Redundancy Verification and Elimination of Transformer Blocks", ICML 2024.
 */
export function createSlebSelector(options: SlebOptions = {}): AsyncSelector {
  assertSelectorOptions(PKG, options, ['earlyBarrier', 'latterBarrier'])
  const { earlyBarrier = 1, latterBarrier = 1 } = options
  for (const [n, v] of [
    ['earlyBarrier', earlyBarrier],
    ['latterBarrier', latterBarrier],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new RangeError(`[${PKG}] ${n} must be a non-negative integer, got ${v}`)
  }
  const settings = {
    kind: 'sleb',
    earlyBarrier,
    latterBarrier,
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'sleb',
    settings,
    async select(context: SelectionContext, numToRemove?: number): Promise<Selection> {
      const t0 = performance.now()
      const T = context.numBlocks
      const protect = {
        first: Math.min(T, Math.max(earlyBarrier, options.protect?.first ?? 0)),
        last: Math.min(T, Math.max(latterBarrier, options.protect?.last ?? 0)),
        blocks: options.protect?.blocks ?? [],
      }
      if (protect.first + protect.last > T) protect.last = T - protect.first
      const { N, candidates } = prepare(context, numToRemove, options.ratio, protect)
      const objective = requireObjective(context)
      const order: number[] = []
      const steps: Array<{ step: number; losses: Array<{ block: number; loss: number }>; chosen: number }> =
        []
      let passes = 0
      const alive = new Set(candidates)
      for (let step = 0; step < N; step++) {
        let best = -1
        let bestLoss = Number.POSITIVE_INFINITY
        const losses: Array<{ block: number; loss: number }> = []
        for (const j of alive) {
          const loss = await objective([...order, j].sort((a, b) => a - b))
          passes++
          losses.push({ block: j, loss })
          if (!Number.isFinite(loss))
            throw new PruneError(
              'NON_FINITE',
              `[${PKG}] the objective returned ${loss} for removed set ${JSON.stringify([...order, j])}`,
            )
          if (loss < bestLoss || (loss === bestLoss && j < best)) {
            bestLoss = loss
            best = j
          }
        }
        order.push(best)
        alive.delete(best)
        steps.push({ step, losses, chosen: best })
      }
      return {
        selector: 'sleb',
        selected: [...order].sort((a, b) => a - b),
        order,
        settings,
        cost: { forwardPasses: passes, miEvaluations: 0, wallMs: performance.now() - t0 },
        trace: { kind: 'sleb-trace', steps },
      }
    },
  }
}

/**
 * Shortened LLaMA's one-shot PPL ranking [1]: for every candidate block j, the calibration perplexity
 * PPL_j = exp(mean NLL) of the dense model with only j removed; remove the N lowest (ties: lower index), never
 * refreshed. The paper's "+" heuristic is `protect: { first: 4, last: 2 }`. `order` is the ranking.
 * Cost: one forward pass per candidate.
 * [1] B.-K. Kim et al., "Shortened LLaMA: Depth Pruning for Large Language Models with Comparison of Retraining Methods", arXiv 2402.02834 (2024).
 */
export function createPerplexityRankSelector(options: CommonSelectorOptions = {}): AsyncSelector {
  assertSelectorOptions(PKG, options)
  const settings = {
    kind: 'ppl-rank',
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'ppl-rank',
    settings,
    async select(context: SelectionContext, numToRemove?: number): Promise<Selection> {
      const t0 = performance.now()
      const { N, candidates } = prepare(context, numToRemove, options.ratio, options.protect)
      const objective = requireObjective(context)
      const ppl: Array<{ block: number; loss: number; ppl: number }> = []
      for (const j of candidates) {
        const loss = await objective([j])
        if (!Number.isFinite(loss))
          throw new PruneError(
            'NON_FINITE',
            `[${PKG}] the objective returned ${loss} with block ${j} removed`,
          )
        ppl.push({ block: j, loss, ppl: Math.exp(loss) })
      }
      const ranked = [...ppl].sort((a, b) => a.loss - b.loss || a.block - b.block).map((p) => p.block)
      const order = ranked.slice(0, N)
      return {
        selector: 'ppl-rank',
        selected: [...order].sort((a, b) => a - b),
        order,
        settings,
        cost: { forwardPasses: candidates.length, miEvaluations: 0, wallMs: performance.now() - t0 },
        trace: { kind: 'ppl-rank-trace', perplexities: ppl, ranking: ranked },
      }
    },
  }
}
