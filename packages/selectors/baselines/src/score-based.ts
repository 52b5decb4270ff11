import { PruneError, type Selection, type SelectionContext, createRng } from '@mi-prun/core'
import {
  type CommonSelectorOptions,
  type SyncSelector,
  assertSelectorOptions,
  removability,
  requireScorer,
} from '@mi-prun/span-scoring'
import { PKG, prepare } from './common.js'

/**
 * Top-N by single-block score: ShortGPT's one-shot ranking [1] (with a Block Influence scorer, lowest BI first)
 * and MI-PRUN's greedy ablation (with an MI scorer, highest MI first). The scorer's direction is applied;
 * ties go to the lower index. `order` is the ranking. Cost: T scorer evaluations, no forward pass beyond
 * the scorer's own.
 * [1] X. Men et al., "ShortGPT: Layers in Large Language Models are More Redundant Than You Expect", arXiv 2403.03853 (2024).
 */
export function createTopNSelector(options: CommonSelectorOptions = {}): SyncSelector {
  assertSelectorOptions(PKG, options)
  const settings = {
    kind: 'top-n',
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'top-n',
    settings,
    select(context: SelectionContext, numToRemove?: number): Selection {
      const t0 = performance.now()
      const { T, N, candidates } = prepare(context, numToRemove, options.ratio, options.protect)
      const scorer = requireScorer(PKG, T, context.scorer)
      const ev0 = scorer.evaluations
      const r = new Map(candidates.map((i) => [i, removability(scorer, i, 1)]))
      const ranked = [...candidates].sort((a, b) => r.get(b)! - r.get(a)! || a - b)
      const order = ranked.slice(0, N)
      return {
        selector: 'top-n',
        selected: [...order].sort((a, b) => a - b),
        order,
        settings: { ...settings, scorer: scorer.name, scorerSettings: scorer.settings },
        cost: { forwardPasses: 0, miEvaluations: scorer.evaluations - ev0, wallMs: performance.now() - t0 },
        trace: {
          kind: 'top-n-trace',
          scores: candidates.map((i) => ({ block: i, score: scorer.score(i, 1) })),
          ranking: ranked,
        },
      }
    },
  }
}

/**
 * Best contiguous window of N blocks by span score: Gromov et al.'s angular distance [1] (argmin) or
 * LLM-Streamline's window cosine [2] (argmax), or any span scorer with its direction applied. Windows that
 * contain a protected block are skipped; ties go to the lower start. Cost: T−N+1 span evaluations.
 * [1] A. Gromov et al., "The Unreasonable Ineffectiveness of the Deeper Layers", ICLR 2025.
 * [2] X. Chen et al., "Streamlining Redundant Layers to Compress Large Language Models", ICLR 2025.
 */
export function createBestWindowSelector(options: CommonSelectorOptions = {}): SyncSelector {
  assertSelectorOptions(PKG, options)
  const settings = {
    kind: 'best-window',
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'best-window',
    settings,
    select(context: SelectionContext, numToRemove?: number): Selection {
      const t0 = performance.now()
      const { T, N, protectedBlocks } = prepare(context, numToRemove, options.ratio, options.protect)
      const scorer = requireScorer(PKG, T, context.scorer)
      const ev0 = scorer.evaluations
      const prot = new Set(protectedBlocks)
      let best = -1
      let bestValue = Number.NEGATIVE_INFINITY
      const windows: Array<{ start: number; score: number }> = []
      for (let l = 0; l + N <= T; l++) {
        let blocked = false
        for (let b = l; b < l + N; b++) if (prot.has(b)) blocked = true
        if (blocked) continue
        const score = scorer.score(l, N)
        windows.push({ start: l, score })
        const v = scorer.higherMeansRemovable ? score : -score
        if (v > bestValue) {
          bestValue = v
          best = l
        }
      }
      if (best < 0) {
        throw new PruneError(
          'INFEASIBLE_BUDGET',
          `[${PKG}] no window of ${N} contiguous blocks avoids the protected blocks ${JSON.stringify(protectedBlocks)}: lower N or protect fewer blocks`,
        )
      }
      const selected = Array.from({ length: N }, (_, i) => best + i)
      return {
        selector: 'best-window',
        selected,
        settings: { ...settings, scorer: scorer.name, scorerSettings: scorer.settings },
        cost: { forwardPasses: 0, miEvaluations: scorer.evaluations - ev0, wallMs: performance.now() - t0 },
        trace: { kind: 'best-window-trace', length: N, windows, best },
      }
    },
  }
}

/** Options of {@link createRandomSelector}. */
export interface RandomSelectorOptions extends CommonSelectorOptions {
  /** Seed of the draw; the same seed gives the same set. Default 0. */
  readonly seed?: number
  /** Draw one uniform contiguous window (among windows free of protected blocks) instead of a uniform N-subset. */
  readonly contiguous?: boolean
}

/**
 * The floor every metric must beat (baselines.md §8): a uniform random N-subset of the unprotected blocks,
 * or a uniform random contiguous window, from a seeded generator. Cost: nothing.
 */
export function createRandomSelector(options: RandomSelectorOptions = {}): SyncSelector {
  assertSelectorOptions(PKG, options, ['seed', 'contiguous'])
  const { seed = 0, contiguous = false } = options
  const settings = {
    kind: 'random',
    seed,
    contiguous,
    ratio: options.ratio ?? null,
    protect: options.protect ? { ...options.protect } : null,
  }
  return {
    name: 'random',
    settings,
    select(context: SelectionContext, numToRemove?: number): Selection {
      const t0 = performance.now()
      const { T, N, candidates, protectedBlocks } = prepare(
        context,
        numToRemove,
        options.ratio,
        options.protect,
      )
      const rng = createRng(seed)
      let selected: number[]
      if (contiguous) {
        const prot = new Set(protectedBlocks)
        const starts: number[] = []
        for (let l = 0; l + N <= T; l++) {
          let ok = true
          for (let b = l; b < l + N; b++) if (prot.has(b)) ok = false
          if (ok) starts.push(l)
        }
        if (starts.length === 0)
          throw new PruneError(
            'INFEASIBLE_BUDGET',
            `[${PKG}] no window of ${N} contiguous unprotected blocks exists: lower N`,
          )
        const l = starts[rng.nextInt(starts.length)]!
        selected = Array.from({ length: N }, (_, i) => l + i)
      } else {
        selected = Array.from(rng.sample(candidates.length, N), (i) => candidates[i]!)
      }
      return {
        selector: 'random',
        selected,
        settings,
        cost: { forwardPasses: 0, miEvaluations: 0, wallMs: performance.now() - t0 },
      }
    },
  }
}
