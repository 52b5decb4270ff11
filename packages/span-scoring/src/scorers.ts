import {
  type EstimateOptions,
  type MIEstimator,
  PruneError,
  type Reducer,
  assertKnownOptions,
} from '@mi-prun/core'
import { type MemoisedSpanScorer, createSpanScorer } from './memo.js'
import type { ActivationStore } from './store.js'
import { spanStatIndex } from './stats.js'

const PKG = '@mi-prun/span-scoring'
const P = `[${PKG}]`

const storeCaches = new WeakMap<ActivationStore, Map<string, Map<number, number>>>()

/**
 * The span cache of `store` for scorers with exactly these settings, so that every span is computed at most once
 * per store, however many scorer objects are created over it. Settings must describe everything that changes a
 * value (the EstimatorSettings contract), which is what makes sharing safe.
 */
function storeCache(store: ActivationStore, settings: object): Map<number, number> {
  let byKey = storeCaches.get(store)
  if (!byKey) storeCaches.set(store, (byKey = new Map()))
  const key = JSON.stringify(settings)
  let cache = byKey.get(key)
  if (!cache) byKey.set(key, (cache = new Map()))
  return cache
}

/** Options of {@link createMiSpanScorer}. */
export interface MiSpanScorerOptions {
  readonly store: ActivationStore
  /** Any MIEstimator (KSG, Gaussian, binning); its raw nats are used as they are (no clamp). */
  readonly estimator: MIEstimator
  /** Optional reduction of each (h_j, h_{j+L}) pair before estimation (PCA, random projection). */
  readonly reducer?: Reducer
  /** Pass the store's sequence ids and positions to the estimator (KSG's Theiler window). Default true. */
  readonly passTags?: boolean
  /**
   * Share the span cache with every MI scorer of the same settings on the same store (default true: each span's
   * MI is estimated at most once per store). false gives this scorer a private cache, e.g. to measure one
   * selector's own evaluation count.
   */
  readonly shareCache?: boolean
}

/**
 * MI-PRUN's span score [1]: `MI(h_j ; h_{j+L})` in nats over the store's sampled tokens (row r of h_j paired
 * with row r of h_{j+L}), after the optional pair reducer. Higher means more removable (the span mostly
 * copies its input). Because a block is deterministic, the true MI is infinite: every value is relative
 * to the estimator and its settings, which `settings` records
 * (`{ kind: 'mi', estimator, reducer, samples, dims, unit: 'nats', store }`). Memoised per store: MI scorers with
 * the same settings on the same store share one cache, so each span's MI is estimated at most once;
 * `evaluations` counts this scorer's real estimator calls.
 * [1] H. Zhang et al., "MI-PRUN: Optimize Large Language Model Pruning via Mutual Information", arXiv 2601.07212 (2026).
 */
export function createMiSpanScorer(options: MiSpanScorerOptions): MemoisedSpanScorer {
  assertKnownOptions(PKG, options, [
    'store',
    'estimator',
    'reducer',
    'passTags',
    'shareCache',
  ] satisfies (keyof MiSpanScorerOptions)[])
  const { store, estimator, reducer, passTags = true, shareCache = true } = options
  if (store.samples < 2)
    throw new PruneError(
      'INSUFFICIENT_SAMPLES',
      `${P} the store holds ${store.samples} samples; MI needs at least 2`,
    )
  const est: EstimateOptions = passTags ? { tags: store.tags } : {}
  const settings = {
    kind: 'mi',
    estimator: estimator.settings,
    reducer: reducer?.settings ?? null,
    samples: store.samples,
    dims: store.dims,
    unit: 'nats',
    tags: passTags,
    store: store.settings,
  }
  return createSpanScorer({
    name: 'mi',
    numBlocks: store.numBlocks,
    higherMeansRemovable: true,
    settings,
    ...(shareCache ? { cache: storeCache(store, settings) } : {}),
    evaluate(start, length) {
      let x = store.states[start]!
      let y = store.states[start + length]!
      if (reducer) ({ x, y } = reducer.reducePair(x, y))
      return estimator.estimate(x, y, est)
    },
  })
}

/** What a NaN cosine contributes: ShortGPT's 0.5 ('half', the official code's choice), or nothing ('skip'). */
export type NanPolicy = 'half' | 'skip'

function requireStats(store: ActivationStore, who: string): void {
  if (store.stats.tokens === 0)
    throw new PruneError('INSUFFICIENT_SAMPLES', `${P} ${who}: the store has no all-token statistics`)
}

function tokenMean(
  store: ActivationStore,
  start: number,
  length: number,
  sums: Float64Array,
  nanPolicy: NanPolicy,
  nanValue: number,
): number {
  const st = store.stats
  const k = spanStatIndex(st, start, length)
  const fin = st.finite[k]!
  const nan = st.tokens - fin
  if (nanPolicy === 'half') return (sums[k]! + nanValue * nan) / st.tokens
  return fin > 0 ? sums[k]! / fin : Number.NaN
}

/** Options of {@link createBlockInfluenceScorer}. */
export interface BlockInfluenceOptions {
  readonly store: ActivationStore
  /** Per token `arccos(cos)/π` instead of `1 − cos` (the official code's angular option). Default false. */
  readonly angular?: boolean
  /** Default 'half' (parity with the official code). */
  readonly nanPolicy?: NanPolicy
}

/**
 * ShortGPT Block Influence [1] of the span [j, j+L): `BI = 1 − (1/N_tok) Σ_t cos(h_{j,t}, h_{j+L,t})` over every
 * token of the calibration pass (a mean, not the official code's sum), range [0, 2]. For L = 1 this is the
 * paper's per-block BI. Lower means more removable. With `angular`, each token contributes arccos(cos)/π.
 * A NaN cosine contributes 0.5 under 'half', or is dropped under 'skip'; `settings.nanTokens` counts them
 * for block spans.
 * [1] X. Men et al., "ShortGPT: Layers in Large Language Models are More Redundant Than You Expect", arXiv 2403.03853 (2024).
 */
export function createBlockInfluenceScorer(options: BlockInfluenceOptions): MemoisedSpanScorer {
  assertKnownOptions(PKG, options, [
    'store',
    'angular',
    'nanPolicy',
  ] satisfies (keyof BlockInfluenceOptions)[])
  const { store, angular = false, nanPolicy = 'half' } = options
  requireStats(store, 'block influence')
  const st = store.stats
  let nanTokens = 0
  for (let j = 0; j < store.numBlocks; j++) nanTokens += st.tokens - st.finite[spanStatIndex(st, j, 1)]!
  return createSpanScorer({
    name: angular ? 'block-influence-angular' : 'block-influence',
    numBlocks: store.numBlocks,
    higherMeansRemovable: false,
    maxLength: st.maxSpan,
    settings: {
      kind: 'block-influence',
      angular,
      nanPolicy,
      aggregate: 'mean',
      tokens: st.tokens,
      nanTokens,
      store: store.settings,
    },
    evaluate: (start, length) =>
      angular
        ? tokenMean(store, start, length, st.angleSum, nanPolicy, 0.5)
        : 1 - tokenMean(store, start, length, st.cosSum, nanPolicy, 0.5),
  })
}

/** Options of {@link createAngularDistanceScorer}. */
export interface AngularDistanceOptions {
  readonly store: ActivationStore
  /** 'last': each sequence's last token (Gromov et al.'s variant, default); 'all': every token. */
  readonly tokens?: 'last' | 'all'
}

/**
 * Gromov et al.'s angular distance [1] of the span [l, l+n): `d = mean_s arccos(cos(h_{l,s}, h_{l+n,s}))/π`,
 * range [0, 1], over the last token of every sequence ('last', the paper's variant) or over every token
 * ('all'). Cosines are accumulated in float64 and clamped to [−1, 1] before arccos; a zero-norm token is
 * skipped. Lower means more removable.
 * [1] A. Gromov et al., "The Unreasonable Ineffectiveness of the Deeper Layers", ICLR 2025.
 */
export function createAngularDistanceScorer(options: AngularDistanceOptions): MemoisedSpanScorer {
  assertKnownOptions(PKG, options, ['store', 'tokens'] satisfies (keyof AngularDistanceOptions)[])
  const { store, tokens = 'last' } = options
  if (tokens === 'all') requireStats(store, 'all-token angular distance')
  else if (store.lastToken[0]!.rows === 0)
    throw new PruneError('INSUFFICIENT_SAMPLES', `${P} the store has no last-token rows`)
  return createSpanScorer({
    name: tokens === 'last' ? 'angular-last' : 'angular-all',
    numBlocks: store.numBlocks,
    higherMeansRemovable: false,
    ...(tokens === 'all' ? { maxLength: store.stats.maxSpan } : {}),
    settings: {
      kind: 'angular-distance',
      tokens,
      count: tokens === 'last' ? store.lastToken[0]!.rows : store.stats.tokens,
      store: store.settings,
    },
    evaluate(start, length) {
      if (tokens === 'all') return tokenMean(store, start, length, store.stats.angleSum, 'skip', 0)
      const a = store.lastToken[start]!
      const b = store.lastToken[start + length]!
      const d = a.cols
      let sum = 0
      let count = 0
      for (let s = 0; s < a.rows; s++) {
        let dot = 0
        let na = 0
        let nb = 0
        for (let c = 0; c < d; c++) {
          const u = a.data[s * d + c]!
          const v = b.data[s * d + c]!
          dot += u * v
          na += u * u
          nb += v * v
        }
        const cos = dot / Math.sqrt(na * nb)
        if (!Number.isFinite(cos)) continue
        sum += Math.acos(Math.min(1, Math.max(-1, cos))) / Math.PI
        count++
      }
      return count > 0 ? sum / count : Number.NaN
    },
  })
}

/**
 * LLM-Streamline's window similarity [1] of the span [l, l+n): `s = mean over sequences of [mean over tokens of
 * (0.5 + 0.5·cos(h_{l,t}, h_{l+n,t}))]`, range [0, 1]. Higher means more removable. Only the selection
 * metric is reproduced; the paper's trained replacement layer is not.
 * [1] X. Chen et al., "Streamlining Redundant Layers to Compress Large Language Models", ICLR 2025.
 */
export function createWindowCosineScorer(options: { readonly store: ActivationStore }): MemoisedSpanScorer {
  assertKnownOptions(PKG, options, ['store'])
  const { store } = options
  requireStats(store, 'window cosine')
  const st = store.stats
  return createSpanScorer({
    name: 'window-cosine',
    numBlocks: store.numBlocks,
    higherMeansRemovable: true,
    maxLength: st.maxSpan,
    settings: {
      kind: 'window-cosine',
      aggregate: 'mean-of-sequence-means',
      sequences: st.sequences,
      store: store.settings,
    },
    evaluate(start, length) {
      const k = spanStatIndex(st, start, length)
      const c = st.seqCount[k]!
      return c > 0 ? 0.5 + 0.5 * (st.seqMeanCosSum[k]! / c) : Number.NaN
    },
  })
}
