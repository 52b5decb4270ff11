import type { Selection } from '@mi-prun/core'
import { evalPerplexity, heldoutIds } from './commands/eval.js'
import { computeScores } from './commands/score.js'
import type { CommandContext } from './command.js'
import { pairwiseJaccard, REPORT_SCHEMA, REPORT_VERSION } from './report/schema.js'
import type { MethodResult, PerplexityPoint, RunReport } from './report/schema.js'
import type { Session, SelectorName } from './session.js'
import { cliVersion } from './version.js'

/** One method of a comparison: a selector and, for MI selectors, the estimator spec. */
export interface MethodSpec {
  readonly selector: SelectorName
  readonly estimator?: string
  /** Label in the report (`fbs:gaussian`, `shortgpt`, ...). */
  readonly label: string
}

/** Selectors whose selection at n is the first n entries of their order (greedy or one-shot ranking). */
const prefixable: ReadonlySet<SelectorName> = new Set(['sleb', 'ppl-rank', 'shortgpt'])

export interface ComparisonOptions {
  readonly methods: readonly MethodSpec[]
  readonly budget: number
  readonly text: readonly string[]
  readonly windowLength: number
  readonly maxWindows: number
  readonly maxSpan: number
  /** Measure stability on every calibration subset of the session (needs settings.subsets ≥ 2). */
  readonly stability: boolean
}

/**
 * MI-PRUN (each estimator) and the baselines on the same cached states: selections at every budget
 * 1..N, held-out perplexity of each, stability across the session's disjoint calibration subsets,
 * and the cost of each method. Returns a complete report (schema version 1).
 */
export async function runComparison(
  ctx: CommandContext,
  session: Session,
  o: ComparisonOptions,
): Promise<{ report: RunReport; selections: Map<string, Selection> }> {
  const info = session.adapter.info
  const t0 = performance.now()
  await session.store(0)
  const calibrationPassMs = performance.now() - t0
  const selections = new Map<string, Selection>()
  const methods: MethodResult[] = []
  const curves: { selector: string; points: PerplexityPoint[] }[] = []
  const ids = await heldoutIds(o.text, session.tokenizer, info.vocabSize)
  const pplCache = new Map<string, { meanNll: number; perplexity: number; tokens: number }>()
  const pplOf = async (
    skip: readonly number[],
  ): Promise<{ meanNll: number; perplexity: number; tokens: number }> => {
    const key = skip.join(',')
    let r = pplCache.get(key)
    if (!r) {
      const p = await evalPerplexity(ctx, session.adapter, ids, {
        windowLength: o.windowLength,
        maxWindows: o.maxWindows,
        skip,
        label: `perplexity [${key || 'dense'}]`,
      })
      r = { meanNll: p.meanNll, perplexity: p.perplexity, tokens: p.tokens }
      pplCache.set(key, r)
    }
    return r
  }
  const dense = await pplOf([])
  let pplSettings: NonNullable<RunReport['perplexity']>['settings'] | undefined
  for (const m of o.methods) {
    ctx.log(`${m.label}: selecting ${o.budget} of ${info.numBlocks} blocks`)
    const sel = await session.select(m.selector, o.budget, 0, m.estimator, { fresh: true })
    selections.set(m.label, sel)
    methods.push({
      selector: m.label,
      settings: sel.settings,
      selected: [...sel.selected],
      ...(sel.order ? { order: [...sel.order] } : {}),
      // score-based methods include the one calibration pass that filled the store (Session.select)
      cost: sel.cost,
      trace: sel.trace ?? null,
    })
    const points: PerplexityPoint[] = []
    for (let n = 1; n <= o.budget; n++) {
      let selected: number[]
      if (n === o.budget) selected = [...sel.selected]
      else if (prefixable.has(m.selector) && sel.order && sel.order.length >= n)
        selected = sel.order.slice(0, n).sort((a, b) => a - b)
      else selected = [...(await session.select(m.selector, n, 0, m.estimator)).selected]
      const p = await pplOf(selected)
      points.push({ removed: n, selected, meanNll: p.meanNll, perplexity: p.perplexity })
    }
    curves.push({ selector: m.label, points })
  }
  // score tables after the main selections, so each method's MI evaluations and time are its own
  const { blockScores, spanScores } = await computeScores(ctx, session, o.maxSpan)
  pplSettings = {
    kind: 'perplexity',
    unit: 'nats',
    windowLength: o.windowLength,
    stride: o.windowLength,
    streamTokens: ids.length,
    text: [...o.text],
  }
  let stability: RunReport['stability']
  if (o.stability && session.settings.subsets > 1) {
    const rows = []
    for (const m of o.methods) {
      const sets: number[][] = [[...selections.get(m.label)!.selected]]
      for (let s = 1; s < session.settings.subsets; s++) {
        ctx.log(`${m.label}: stability subset ${s + 1}/${session.settings.subsets}`)
        sets.push([...(await session.select(m.selector, o.budget, s, m.estimator)).selected])
      }
      const j = pairwiseJaccard(sets)
      rows.push({ selector: m.label, meanJaccard: j.mean, minJaccard: j.min, selections: sets })
    }
    stability = { subsets: session.settings.subsets, samplesPerSubset: session.settings.samples, rows }
  }
  const report: RunReport = {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    createdBy: { tool: '@mi-prun/cli', version: cliVersion, command: `mi-prun ${ctx.argv.join(' ')}` },
    model: {
      path: session.location.path,
      architecture: info.architecture,
      format: info.format,
      numBlocks: info.numBlocks,
      hiddenSize: info.hiddenSize,
      parameters: info.parameters,
      dtype: info.dtype,
      backend: info.backend,
    },
    calibration: session.calibrationReport(),
    budget: o.budget,
    blockScores,
    spanScores: spanScores.filter((s) => s.scorer.startsWith('mi:')),
    methods,
    perplexity: { settings: pplSettings, dense, curves },
    ...(stability ? { stability } : {}),
    extra: {
      calibrationPassMs,
      forwardCallsTotal: session.calls,
      indices: '0-based; block i maps h_i to h_{i+1}',
    },
  }
  return { report, selections }
}
