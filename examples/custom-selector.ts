// A user-written Selector plugged into the pipeline the CLI's `select` and `eval` commands run (one calibration
// pass into an activation store, a SpanScorer over it, Selector.select(context, N), then held-out perplexity with
// the selection skipped). The CLI composes the same packages; it has no selector-registry hook, so this example
// composes them itself. Run: pnpm --filter @mi-prun/examples custom-selector
import { PruneError, type Matrix, type Selection, type SelectionContext, type Selector } from '@mi-prun/core'
import { perplexity } from '@mi-prun/eval'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { createPcaReducer } from '@mi-prun/mi-reducers'
import { createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'
import {
  type ActivationStore,
  collectActivations,
  createMiSpanScorer,
  createSpanScorer,
} from '@mi-prun/span-scoring'
import { isMain, loadReference } from './reference.js'

/**
 * Mean relative activation change of the span [j, j+L) over the store's sampled tokens:
 * mean_t ‖h_{j+L}[t] − h_j[t]‖ / ‖h_j[t]‖ (dimensionless, ≥ 0). Lower means the span changes the residual
 * stream less, so it is more removable.
 */
export function createActivationChangeScorer(store: ActivationStore) {
  const change = (a: Matrix, b: Matrix): number => {
    let sum = 0
    for (let t = 0; t < a.rows; t++) {
      let num = 0
      let den = 0
      for (let c = 0; c < a.cols; c++) {
        const x = a.data[t * a.cols + c]!
        const d = b.data[t * b.cols + c]! - x
        num += d * d
        den += x * x
      }
      sum += Math.sqrt(num / den)
    }
    return sum / a.rows
  }
  return createSpanScorer({
    name: 'activation-change',
    numBlocks: store.numBlocks,
    settings: { kind: 'activation-change', samples: store.samples },
    higherMeansRemovable: false,
    evaluate: (j, L) => change(store.states[j]!, store.states[j + L]!),
  })
}

/**
 * Removes the N blocks with the most removable single-block scores, never two adjacent blocks (so no two
 * removed blocks form a span). Greedy in score order; skips protected blocks and neighbours of chosen ones.
 * Throws INFEASIBLE_BUDGET when N non-adjacent unprotected blocks do not exist.
 */
export function createNonAdjacentSelector(): Selector {
  return {
    name: 'non-adjacent-lowest-change',
    settings: { kind: 'non-adjacent' },
    select(context: SelectionContext, n: number): Selection {
      const { numBlocks: T, scorer, protectedBlocks = [] } = context
      if (!scorer)
        throw new PruneError(
          'INVALID_INPUT',
          '[@mi-prun/examples] non-adjacent selector needs context.scorer',
        )
      const t0 = performance.now()
      const before = scorer.evaluations
      const sign = scorer.higherMeansRemovable ? -1 : 1
      const order = Array.from({ length: T }, (_, j) => j)
        .map((j) => ({ j, key: sign * scorer.score(j, 1) }))
        .sort((a, b) => a.key - b.key || a.j - b.j)
      const chosen: number[] = []
      const blocked = new Set(protectedBlocks)
      for (const { j } of order) {
        if (chosen.length === n) break
        if (blocked.has(j)) continue
        chosen.push(j)
        blocked
          .add(j - 1)
          .add(j)
          .add(j + 1)
      }
      if (chosen.length < n)
        throw new PruneError(
          'INFEASIBLE_BUDGET',
          `[@mi-prun/examples] only ${chosen.length} non-adjacent unprotected blocks of ${T} exist, asked for ${n}: remove fewer blocks`,
        )
      return {
        selector: 'non-adjacent-lowest-change',
        selected: [...chosen].sort((a, b) => a - b),
        order: chosen,
        settings: this.settings,
        cost: {
          forwardPasses: 0,
          miEvaluations: scorer.evaluations - before,
          wallMs: performance.now() - t0,
        },
      }
    },
  }
}

export interface CustomSelectorResult {
  readonly numBlocks: number
  /** Single-block activation change of blocks 0..T−1. */
  readonly change: number[]
  readonly custom: readonly number[]
  readonly fbs: readonly number[]
  /** Held-out perplexity (nats → exp) of the dense model and with each selection skipped. */
  readonly ppl: { dense: number; custom: number; fbs: number }
  readonly tokens: number
}

export async function customSelector(options: { remove?: number } = {}): Promise<CustomSelectorResult> {
  const { remove = 2 } = options
  const { model, calibration, heldOut } = await loadReference()
  try {
    const store = await collectActivations(model, [calibration], { maxTokens: 200, seed: 0, maxSpan: 1 })
    const change = createActivationChangeScorer(store)
    const T = store.numBlocks
    const custom = createNonAdjacentSelector().select({ numBlocks: T, scorer: change }, remove) as Selection
    // MI-PRUN's Fast-Block-Select on Gaussian MI for comparison, as `mi-prun select` runs it
    const mi = createMiSpanScorer({
      store,
      estimator: createGaussianEstimator(),
      reducer: createPcaReducer({ rank: 16 }),
    })
    const fbs = createFastBlockSelectSelector().select({ numBlocks: T, scorer: mi }, remove)
    const eval_ = (skip: readonly number[]) =>
      perplexity(model, heldOut, { windowLength: 64, maxWindows: 4, skip })
    const dense = await eval_([])
    return {
      numBlocks: T,
      change: Array.from({ length: T }, (_, j) => change.score(j, 1)),
      custom: custom.selected,
      fbs: fbs.selected,
      ppl: {
        dense: dense.perplexity,
        custom: (await eval_(custom.selected)).perplexity,
        fbs: (await eval_(fbs.selected)).perplexity,
      },
      tokens: dense.tokens,
    }
  } finally {
    await model.dispose()
  }
}

if (isMain(import.meta.url)) {
  const r = await customSelector()
  console.log(`activation change per block: ${r.change.map((v) => v.toFixed(3)).join(' ')}`)
  console.log(`held-out perplexity over ${r.tokens} tokens: dense ${r.ppl.dense.toFixed(2)}`)
  console.log(`  custom non-adjacent [${r.custom.join(', ')}]: ${r.ppl.custom.toFixed(2)}`)
  console.log(`  Fast-Block-Select (Gaussian MI) [${r.fbs.join(', ')}]: ${r.ppl.fbs.toFixed(2)}`)
}
