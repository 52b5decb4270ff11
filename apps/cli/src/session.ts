import { checkBudget, blocksForRatio, suggestion } from '@mi-prun/core'
import type {
  ModelAdapter,
  Reducer,
  Selection,
  SelectionContext,
  Selector,
  SpanScorer,
  TokenBatch,
} from '@mi-prun/core'
import { loadTokenizer } from '@mi-prun/eval'
import type { TextTokenizer } from '@mi-prun/eval'
import {
  createBestWindowSelector,
  createExactMiSelector,
  createExactPerplexitySelector,
  createPerplexityRankSelector,
  createRandomSelector,
  createSlebSelector,
  createTopNSelector,
} from '@mi-prun/selector-baselines'
import { createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'
import {
  collectActivations,
  createAngularDistanceScorer,
  createBlockInfluenceScorer,
} from '@mi-prun/span-scoring'
import type { ActivationStore, MemoisedSpanScorer } from '@mi-prun/span-scoring'
import {
  bundledCalibration,
  drawCalibration,
  readTokenStreams,
  toBatches,
  windowPool,
} from './calibration.js'
import type { CommandContext } from './command.js'
import { CliError, exitCodes } from './errors.js'
import { countingAdapter, openModel } from './model.js'
import type { ModelLocation } from './model.js'
import { floatOption, intOption, listOption, stringOption } from './options.js'
import { enterPhase } from './phase.js'
import { defaultOf, numberDefault } from './defaults.js'
import { createMiScorer, parseEstimatorSpec, parseReducerSpec } from './scoring.js'

/** What a selector reads: an MI span scorer, ShortGPT BI, angular distance, the calibration loss, or nothing. */
export type SelectorInput = 'mi' | 'bi' | 'angular' | 'objective' | 'none'

export interface SelectorParams {
  readonly seed: number
  readonly fbsK: number
}

/**
 * Selection methods by CLI name (frozen; `--selector` values derive from it), each with the input
 * it reads. MI-PRUN's Fast-Block-Select is `fbs`; the rest are the baselines of baselines.md.
 */
export const selectorRegistry = Object.freeze({
  fbs: { input: 'mi', create: (p: SelectorParams): Selector => createFastBlockSelectSelector({ k: p.fbsK }) },
  shortgpt: { input: 'bi', create: (_p: SelectorParams): Selector => createTopNSelector() },
  angular: { input: 'angular', create: (_p: SelectorParams): Selector => createBestWindowSelector() },
  // `passes(T, N)`: exactly how many objective evaluations the selector makes (the progress bar's total).
  // SLEB's default barriers keep block 0 and block T−1: greedy step i tries the T − 2 − i blocks left.
  sleb: {
    input: 'objective',
    create: (_p: SelectorParams): Selector => createSlebSelector(),
    passes: (T: number, N: number): number => {
      let total = 0
      for (let i = 0; i < N; i++) total += Math.max(0, T - 2 - i)
      return total
    },
  },
  'ppl-rank': {
    input: 'objective',
    create: (_p: SelectorParams): Selector => createPerplexityRankSelector(),
    passes: (T: number): number => T,
  },
  random: { input: 'none', create: (p: SelectorParams): Selector => createRandomSelector({ seed: p.seed }) },
  'exact-mi': { input: 'mi', create: (_p: SelectorParams): Selector => createExactMiSelector() },
  'exact-ppl': {
    input: 'objective',
    create: (_p: SelectorParams): Selector => createExactPerplexitySelector(),
    passes: (T: number, N: number): number => binomialCount(T, N),
  },
} as const satisfies Record<
  string,
  {
    input: SelectorInput
    create: (p: SelectorParams) => Selector
    passes?: (T: number, N: number) => number
  }
>)

/** C(n, k) as a float (exact for the sizes a progress bar meets). */
function binomialCount(n: number, k: number): number {
  let c = 1
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i
  return Math.round(c)
}
export type SelectorName = keyof typeof selectorRegistry

export function parseSelectorName(name: string): SelectorName {
  if (!(name in selectorRegistry)) {
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] --selector ${name} is unknown ${suggestion(name, Object.keys(selectorRegistry))}: choose ${Object.keys(selectorRegistry).join(', ')}`,
    )
  }
  return name as SelectorName
}

/** Calibration and scoring settings shared by score/select/prune/compare/demo. */
export interface SessionSettings {
  readonly calib: readonly string[]
  readonly samples: number
  readonly seqLen: number
  readonly tokenCap: number
  readonly seed: number
  readonly k: number
  readonly fbsK: number
  readonly estimators: readonly string[]
  readonly reducer: string
  readonly backend: string | undefined
  readonly subsets: number
}

/** Reads the shared flags (defaults documented in options.ts). */
export function sessionSettings(
  ctx: CommandContext,
  defaults: Partial<SessionSettings> = {},
): SessionSettings {
  const v = ctx.values
  const estimators = listOption(v, 'estimator')
  const c = ctx.command
  const settings: SessionSettings = {
    calib: listOption(v, 'calib').length ? listOption(v, 'calib') : (defaults.calib ?? [bundledCalibration]),
    samples: intOption(v, 'samples', defaults.samples ?? numberDefault(c, 'samples'), 1),
    seqLen: intOption(v, 'seq-len', defaults.seqLen ?? numberDefault(c, 'seq-len'), 2),
    tokenCap: intOption(v, 'tokens', defaults.tokenCap ?? numberDefault(c, 'tokens'), 2),
    seed: intOption(v, 'seed', defaults.seed ?? numberDefault(c, 'seed'), 0, 2 ** 32 - 1),
    k: intOption(v, 'k', defaults.k ?? numberDefault(c, 'k'), 1),
    fbsK: intOption(v, 'fbs-k', defaults.fbsK ?? numberDefault(c, 'fbs-k'), 0),
    estimators: estimators.length ? estimators : (defaults.estimators ?? [String(defaultOf(c, 'estimator'))]),
    reducer: stringOption(v, 'reducer') ?? defaults.reducer ?? 'auto',
    backend: stringOption(v, 'backend') ?? defaults.backend,
    subsets: intOption(v, 'subsets', defaults.subsets ?? numberDefault(c, 'subsets'), 1, 16),
  }
  for (const e of settings.estimators) parseEstimatorSpec(e)
  // MI samples = min(token cap, eligible tokens: position 0 of each sequence is excluded)
  const miSamples = Math.min(settings.tokenCap, settings.samples * (settings.seqLen - 1))
  if (settings.estimators.some((e) => parseEstimatorSpec(e).includes('ksg')) && settings.k >= miSamples) {
    throw new CliError(
      exitCodes.infeasible,
      `[@mi-prun/cli] --k ${settings.k} must be smaller than the number of MI samples (${miSamples} = min(--tokens, samples × (seq-len − 1))): lower --k or raise --tokens/--samples`,
    )
  }
  return settings
}

/** The budget N from --remove or --ratio, checked against T. */
export function budgetFrom(ctx: CommandContext, numBlocks: number, fallbackRatio?: number): number {
  const remove = ctx.values.remove === undefined ? undefined : intOption(ctx.values, 'remove', 0, 0)
  const ratio = floatOption(ctx.values, 'ratio') ?? (remove === undefined ? fallbackRatio : undefined)
  if (remove !== undefined && ctx.values.ratio !== undefined)
    throw new CliError(exitCodes.usage, '[@mi-prun/cli] pass --remove N or --ratio R, not both')
  if (remove === undefined && ratio === undefined)
    throw new CliError(
      exitCodes.usage,
      '[@mi-prun/cli] say how many blocks to remove: --remove N or --ratio R',
    )
  const n = remove ?? blocksForRatio(numBlocks, ratio!)
  checkBudget(numBlocks, n)
  return n
}

/** A loaded model with its calibration data and lazily built stores, scorers and objective. */
export interface Session {
  readonly adapter: ModelAdapter
  readonly location: ModelLocation
  readonly tokenizer: TextTokenizer
  readonly settings: SessionSettings
  /** Calibration batches of subset `s` (0 = main). */
  batches(s?: number): TokenBatch[]
  store(s?: number): Promise<ActivationStore>
  miScorer(spec: string, s?: number): Promise<MemoisedSpanScorer>
  scorerFor(input: SelectorInput, s?: number): Promise<SpanScorer | undefined>
  objective(s?: number): (removed: readonly number[]) => Promise<number>
  /**
   * Runs a selector at budget n on subset s; MI selectors use `estimator` (default: the first
   * --estimator). `cost.forwardPasses` includes the calibration pass for score-based selectors.
   */
  select(
    name: SelectorName,
    n: number,
    s?: number,
    estimator?: string,
    options?: { fresh?: boolean },
  ): Promise<Selection>
  readonly reducer: Reducer | undefined
  /** Forward/nll calls (batches) made so far. */
  readonly calls: number
  calibrationReport(): { sources: string[]; samples: number; seqLen: number; tokenCap: number; seed: number }
  dispose(): Promise<void>
}

/** Throws a numeric CliError naming the first hidden state with a NaN or ±∞ (the block that produced it). */
export function checkFiniteStates(store: ActivationStore, where: string): void {
  for (let i = 0; i < store.states.length; i++) {
    const d = store.states[i]!.data
    for (let j = 0; j < d.length; j++) {
      if (!Number.isFinite(d[j]!)) {
        const culprit = i === 0 ? 'the embedding' : `block ${i - 1}`
        throw new CliError(
          exitCodes.numeric,
          `[@mi-prun/cli] hidden state h_${i} of ${where} holds ${d[j]} for calibration tokens, so ${culprit} produces NaN/Inf: check the weights of ${culprit} for NaN/Inf values or overflow (re-export the checkpoint in float32)`,
        )
      }
    }
  }
}

export async function openSession(
  ctx: CommandContext,
  modelPath: string,
  settings: SessionSettings,
): Promise<Session> {
  ctx.log(`loading ${modelPath}`)
  const { adapter: raw, location } = await openModel(modelPath, settings.backend)
  try {
    await enterPhase('load')
    const adapter = countingAdapter(raw)
    const tokenizer = await loadTokenizer(location.root)
    const streams = await readTokenStreams(settings.calib, tokenizer, adapter.info.vocabSize)
    const pool = windowPool(streams, settings.seqLen)
    const drawn = drawCalibration(pool, {
      samples: settings.samples,
      seqLen: settings.seqLen,
      seed: settings.seed,
      subsets: settings.subsets,
      sources: settings.calib,
    })
    const batchSets = drawn.subsets.map((seqs) => toBatches(seqs, settings.seqLen))
    const reducerSpec =
      settings.reducer === 'auto' ? defaultReducerSpec(adapter.info.hiddenSize) : settings.reducer
    const reducer = parseReducerSpec(reducerSpec, adapter.info.hiddenSize, settings.seed)
    const stores = new Map<number, Promise<ActivationStore>>()
    const scorers = new Map<string, Promise<MemoisedSpanScorer>>()
    const T = adapter.info.numBlocks
    const session: Session = {
      adapter,
      location,
      tokenizer,
      settings,
      reducer,
      get calls() {
        return adapter.calls
      },
      batches: (s = 0) => batchSets[s]!,
      store(s = 0) {
        let p = stores.get(s)
        if (!p) {
          const batches = batchSets[s]!
          const bar = ctx.progress.start(
            `forward pass${settings.subsets > 1 ? ` (subset ${s + 1}/${settings.subsets})` : ''}`,
            batches.length,
          )
          const start = adapter.calls
          const watched = countingAdapter(adapter, () => bar.update(adapter.calls - start))
          p = collectActivations(watched, batches, { maxTokens: settings.tokenCap, seed: settings.seed })
            .then((store) => {
              checkFiniteStates(store, session.location.path)
              return store
            })
            .finally(() => bar.finish())
          stores.set(s, p)
        }
        return p
      },
      async miScorer(spec, s = 0) {
        const key = `${spec}#${s}`
        let p = scorers.get(key)
        if (!p) {
          p = session
            .store(s)
            .then((store) => createMiScorer(store, spec, reducer, { k: settings.k, seed: settings.seed }))
          scorers.set(key, p)
        }
        return p
      },
      async scorerFor(input, s = 0) {
        if (input === 'mi') return session.miScorer(settings.estimators[0]!, s)
        if (input === 'bi') {
          const key = `bi#${s}`
          if (!scorers.has(key))
            scorers.set(
              key,
              session.store(s).then((store) => createBlockInfluenceScorer({ store })),
            )
          return scorers.get(key)!
        }
        if (input === 'angular') {
          const key = `angular#${s}`
          if (!scorers.has(key))
            scorers.set(
              key,
              session.store(s).then((store) => createAngularDistanceScorer({ store })),
            )
          return scorers.get(key)!
        }
        return undefined
      },
      objective(s = 0) {
        const batches = batchSets[s]!
        return async (removed) => {
          let sum = 0
          let tokens = 0
          for (const b of batches) {
            const r = await adapter.nll(b, { skip: removed })
            sum += r.sumNll
            tokens += r.tokens
          }
          const mean = sum / tokens
          if (!Number.isFinite(mean)) {
            throw new CliError(
              exitCodes.numeric,
              `[@mi-prun/cli] the calibration loss is ${mean} with blocks [${removed.join(', ')}] skipped: the model produces NaN/Inf; check its weights for NaN/Inf (mi-prun eval ${session.location.path})`,
            )
          }
          return mean
        }
      },
      async select(name, n, s = 0, estimator, options = {}) {
        const entry = selectorRegistry[name]
        const selector = entry.create({ seed: settings.seed, fbsK: settings.fbsK })
        let scorer: SpanScorer | undefined
        if (options.fresh) {
          // a scorer with an empty memo, so cost.miEvaluations and wallMs are this method's own
          const store = await session.store(s)
          if (entry.input === 'mi')
            scorer = createMiScorer(store, estimator ?? settings.estimators[0]!, reducer, {
              k: settings.k,
              seed: settings.seed,
            })
          else if (entry.input === 'bi') scorer = createBlockInfluenceScorer({ store })
          else if (entry.input === 'angular') scorer = createAngularDistanceScorer({ store })
        } else {
          scorer =
            entry.input === 'mi' && estimator !== undefined
              ? await session.miScorer(estimator, s)
              : await session.scorerFor(entry.input, s)
        }
        let context: SelectionContext = { numBlocks: T }
        if (scorer) context = { ...context, scorer }
        if (entry.input === 'objective') {
          const total = 'passes' in entry ? entry.passes(T, n) : T * n
          const bar = ctx.progress.start(
            `${name}: calibration pass${total === 1 ? '' : 'es'}`,
            Math.max(1, total),
          )
          let passes = 0
          const f = session.objective(s)
          context = {
            ...context,
            objective: async (removed) => {
              const v = await f(removed)
              bar.update(++passes, Math.max(passes, total))
              return v
            },
          }
          try {
            return await selector.select(context, n)
          } finally {
            bar.finish()
          }
        }
        let sel: Selection
        if (scorer && entry.input === 'mi') {
          // MI evaluations are the slow part of an MI selection: show them. The total is the number of
          // contiguous spans, T(T+1)/2, an upper bound on the distinct evaluations any selector can make.
          const bar = ctx.progress.start(`${name}: MI evaluations (at most)`, (T * (T + 1)) / 2)
          const watched = scorer
          const before = watched.evaluations
          const proxy = new Proxy(watched, {
            get(target, prop) {
              if (prop === 'score')
                return (start: number, length: number) => {
                  const v = target.score(start, length)
                  bar.update(target.evaluations - before)
                  return v
                }
              const value: unknown = Reflect.get(target, prop, target)
              return typeof value === 'function'
                ? (value as (...a: unknown[]) => unknown).bind(target)
                : value
            },
          })
          try {
            sel = await selector.select({ ...context, scorer: proxy }, n)
          } finally {
            bar.finish()
          }
        } else {
          sel = await selector.select(context, n)
        }
        // score-based selectors read the store that one calibration forward pass filled: count it
        if (entry.input === 'mi' || entry.input === 'bi' || entry.input === 'angular') {
          return { ...sel, cost: { ...sel.cost, forwardPasses: sel.cost.forwardPasses + 1 } }
        }
        return sel
      },
      calibrationReport: () => ({
        sources: [...settings.calib],
        samples: settings.samples,
        seqLen: settings.seqLen,
        tokenCap: settings.tokenCap,
        seed: settings.seed,
      }),
      async dispose() {
        await raw.dispose()
      },
    }
    return session
  } catch (e) {
    await raw.dispose()
    throw e
  }
}

/**
 * The default reducer: a seeded random projection to 32 dimensions (rp:d when d < 32). Chosen by the
 * evidence run (bench/results/evidence-summary.md): with the Gaussian estimator it tied PCA-64 on
 * held-out perplexity of the pruned reference models (geometric mean pruned/dense 1.1377 vs 1.1363),
 * was as stable across disjoint calibration subsets (Jaccard 1.0), and was the only reducer whose whole
 * selection stayed within 1.25 calibration passes (1.22 vs 1.43): it needs no eigen-decomposition.
 */
export function defaultReducerSpec(hiddenSize: number): string {
  return `rp:${Math.min(32, hiddenSize)}`
}
