import type { EstimatorSettings } from '@mi-prun/core'
import { CliError, exitCodes } from '../errors.js'

/** Tag and version of `report.json`; `version` changes whenever a field changes meaning or is removed. */
export const REPORT_SCHEMA = 'mi-prun/report'
export const REPORT_VERSION = 1

/** A per-block score vector (block i maps h_i to h_{i+1}) with everything needed to reproduce it. */
export interface BlockScoreSeries {
  readonly scorer: string
  readonly settings: EstimatorSettings
  /** true: the highest values are removed first (MI); false: the lowest (ShortGPT BI, angular distance). */
  readonly higherMeansRemovable: boolean
  /** 'nats' for MI scores; 'bi' / 'angular' for the baselines' dimensionless scores. */
  readonly unit: string
  /** Number of token samples the scores were computed from. */
  readonly samples: number
  readonly values: readonly number[]
}

/** Scores of contiguous spans [start, start + length). */
export interface SpanScoreSeries {
  readonly scorer: string
  readonly settings: EstimatorSettings
  readonly higherMeansRemovable: boolean
  readonly unit: string
  readonly samples: number
  readonly spans: readonly { readonly start: number; readonly length: number; readonly value: number }[]
}

export interface MethodResult {
  readonly selector: string
  readonly settings: EstimatorSettings
  /** Sorted 0-based blocks removed at the main budget. */
  readonly selected: readonly number[]
  readonly order?: readonly number[]
  readonly cost: { readonly forwardPasses: number; readonly miEvaluations: number; readonly wallMs: number }
  readonly trace?: unknown
}

export interface PerplexityPoint {
  readonly removed: number
  readonly selected: readonly number[]
  readonly meanNll: number
  readonly perplexity: number
}

export interface RunReport {
  readonly schema: typeof REPORT_SCHEMA
  readonly version: typeof REPORT_VERSION
  readonly createdBy: { readonly tool: string; readonly version: string; readonly command: string }
  readonly model: {
    readonly path: string
    readonly architecture: string
    readonly format: string
    readonly numBlocks: number
    readonly hiddenSize: number
    readonly parameters: number
    readonly dtype: string
    readonly backend: string
  }
  readonly calibration: {
    readonly sources: readonly string[]
    readonly samples: number
    readonly seqLen: number
    readonly tokenCap: number
    readonly seed: number
  }
  /** The main budget N (blocks removed by every method). */
  readonly budget: number
  readonly blockScores: readonly BlockScoreSeries[]
  readonly spanScores: readonly SpanScoreSeries[]
  readonly methods: readonly MethodResult[]
  readonly perplexity?: {
    readonly settings: {
      readonly kind: 'perplexity'
      readonly unit: 'nats'
      readonly windowLength: number
      readonly stride: number
      readonly streamTokens: number
      readonly text: readonly string[]
    }
    readonly dense: { readonly meanNll: number; readonly perplexity: number; readonly tokens: number }
    readonly curves: readonly { readonly selector: string; readonly points: readonly PerplexityPoint[] }[]
  }
  readonly stability?: {
    readonly subsets: number
    readonly samplesPerSubset: number
    readonly rows: readonly {
      readonly selector: string
      readonly meanJaccard: number
      readonly minJaccard: number
      readonly selections: readonly (readonly number[])[]
    }[]
  }
  readonly extra?: Readonly<Record<string, unknown>>
}

/** Jaccard index |A ∩ B| / |A ∪ B| of two block sets (1 for two empty sets). */
export function jaccard(a: readonly number[], b: readonly number[]): number {
  const sa = new Set(a)
  const sb = new Set(b)
  let inter = 0
  for (const x of sa) if (sb.has(x)) inter++
  const union = sa.size + sb.size - inter
  return union === 0 ? 1 : inter / union
}

/** Mean and minimum Jaccard index over all pairs of selections. */
export function pairwiseJaccard(selections: readonly (readonly number[])[]): { mean: number; min: number } {
  let sum = 0
  let n = 0
  let min = 1
  for (let i = 0; i < selections.length; i++) {
    for (let j = i + 1; j < selections.length; j++) {
      const v = jaccard(selections[i]!, selections[j]!)
      sum += v
      n++
      if (v < min) min = v
    }
  }
  return { mean: n ? sum / n : 1, min }
}

/** Checks the tag, the version and the required fields of a parsed report.json. */
export function validateReport(value: unknown, path: string): RunReport {
  const fail = (what: string): never => {
    throw new CliError(
      exitCodes.input,
      `[@mi-prun/cli] ${path} is not a mi-prun run: ${what}. Produce one with \`mi-prun compare MODEL --out DIR\``,
    )
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail('it is not a JSON object')
  const o = value as Record<string, unknown>
  if (o['schema'] !== REPORT_SCHEMA)
    return fail(`"schema" is ${JSON.stringify(o['schema'])}, expected "${REPORT_SCHEMA}"`)
  if (o['version'] !== REPORT_VERSION) {
    return fail(
      `schema version ${JSON.stringify(o['version'])} is not supported (this mi-prun reads version ${REPORT_VERSION})`,
    )
  }
  const model = o['model'] as Record<string, unknown> | undefined
  if (
    !model ||
    typeof model['numBlocks'] !== 'number' ||
    !Number.isInteger(model['numBlocks']) ||
    model['numBlocks'] < 1
  ) {
    return fail('"model.numBlocks" must be a positive integer')
  }
  for (const key of ['blockScores', 'spanScores', 'methods'] as const)
    if (!Array.isArray(o[key])) fail(`"${key}" must be an array`)
  const T = model['numBlocks']
  for (const m of o['methods'] as Record<string, unknown>[]) {
    const sel = m?.['selected']
    if (
      typeof m?.['selector'] !== 'string' ||
      !Array.isArray(sel) ||
      !sel.every((b) => Number.isInteger(b) && b >= 0 && b < T)
    ) {
      fail(`every method needs "selector" and "selected" blocks in 0..${T - 1}`)
    }
  }
  for (const s of o['blockScores'] as Record<string, unknown>[]) {
    if (
      typeof s?.['scorer'] !== 'string' ||
      !Array.isArray(s['values']) ||
      s['values'].length !== T ||
      typeof s['settings'] !== 'object'
    ) {
      fail(`every block score needs "scorer", "settings" and ${T} "values"`)
    }
  }
  return value as RunReport
}
