import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { SpanScorer } from '@mi-prun/core'
import type { CommandContext, CommandSpec } from '../command.js'
import { CliError, exitCodes } from '../errors.js'
import { intOption, stringOption } from '../options.js'
import type { BlockScoreSeries, SpanScoreSeries } from '../report/schema.js'
import { openSession, sessionSettings } from '../session.js'
import { writeFileAtomic } from './report.js'
import type { Session } from '../session.js'

/**
 * PruneMe's layer-distance table: one row per (start layer l, span n), the mean over calibration sequences of
 * the last token's angular distance arccos(cos(h_l, h_{l+n}))/π (hidden-state indices: 0 is the embedding
 * output). Sorted by n, then l, as PruneMe writes one n at a time.
 */
export function pruneMeCsv(spans: readonly { start: number; length: number; value: number }[]): string {
  const rows = [...spans].sort((a, b) => a.length - b.length || a.start - b.start)
  return (
    'block_start,block_end,n,average_distance\n' +
    rows.map((s) => `${s.start},${s.start + s.length},${s.length},${s.value}`).join('\n') +
    '\n'
  )
}

/** Unit label of a scorer's values. */
function unitOf(s: SpanScorer): string {
  return s.name.startsWith('block-influence') ? 'bi' : s.name.startsWith('angular') ? 'angular' : 'nats'
}

/** Every scorer of a run: one per --estimator, plus ShortGPT BI and angular distance. */
export async function scorersOf(session: Session, s = 0): Promise<{ label: string; scorer: SpanScorer }[]> {
  const out: { label: string; scorer: SpanScorer }[] = []
  for (const spec of session.settings.estimators)
    out.push({ label: `mi:${spec}`, scorer: await session.miScorer(spec, s) })
  out.push({ label: 'shortgpt-bi', scorer: (await session.scorerFor('bi', s))! })
  out.push({ label: 'angular', scorer: (await session.scorerFor('angular', s))! })
  return out
}

/** Block scores and span scores (lengths ≤ maxSpan) of each scorer, with MI-evaluation progress. */
export async function computeScores(
  ctx: CommandContext,
  session: Session,
  maxSpan: number,
): Promise<{ blockScores: BlockScoreSeries[]; spanScores: SpanScoreSeries[] }> {
  const T = session.adapter.info.numBlocks
  const scorers = await scorersOf(session)
  const store = await session.store()
  const spansPer = Array.from({ length: maxSpan }, (_, l) => T - l).reduce((a, b) => a + b, 0)
  const bar = ctx.progress.start('span scores', scorers.length * spansPer)
  let done = 0
  const blockScores: BlockScoreSeries[] = []
  const spanScores: SpanScoreSeries[] = []
  try {
    for (const { label, scorer } of scorers) {
      const samples = label.startsWith('mi:')
        ? store.samples
        : label === 'angular'
          ? store.lastToken[0]!.rows
          : store.stats.tokens
      const spans: { start: number; length: number; value: number }[] = []
      for (let L = 1; L <= maxSpan; L++) {
        for (let j = 0; j + L <= T; j++) {
          spans.push({ start: j, length: L, value: scorer.score(j, L) })
          bar.update(++done)
        }
      }
      const base = {
        scorer: label,
        settings: scorer.settings,
        higherMeansRemovable: scorer.higherMeansRemovable,
        unit: unitOf(scorer),
        samples,
      }
      blockScores.push({ ...base, values: spans.filter((s) => s.length === 1).map((s) => s.value) })
      spanScores.push({ ...base, spans })
    }
  } finally {
    bar.finish()
  }
  return { blockScores, spanScores }
}

export const scoreCommand: CommandSpec = {
  name: 'score',
  summary: 'per-block and span scores for one or more estimators and scorers',
  usage: 'mi-prun score MODEL [--estimator ksg --estimator gaussian ...] [--reducer pca:64] [--max-span L]',
  description:
    'One calibration forward pass, then MI(h_j; h_{j+L}) in nats for each --estimator, ShortGPT Block Influence and angular distance, for every span [j, j+L) with L ≤ --max-span. Every series carries its settings.',
  positionals: [{ name: 'MODEL', description: 'model folder or .onnx file', required: true }],
  options: [
    'calib',
    'samples',
    'seq-len',
    'tokens',
    'estimator',
    'reducer',
    'k',
    'seed',
    'backend',
    'max-span',
    'prune-me-csv',
  ],
  jsonKeys: ['blockScores', 'spanScores', 'numBlocks', 'calibration'],
  async run(ctx) {
    const csvPath = stringOption(ctx.values, 'prune-me-csv')
    if (csvPath !== undefined && existsSync(csvPath))
      throw new CliError(
        exitCodes.usage,
        `[@mi-prun/cli] --prune-me-csv ${csvPath} already exists: choose another file or delete it first`,
      )
    const session = await openSession(ctx, ctx.positionals[0]!, sessionSettings(ctx))
    try {
      const T = session.adapter.info.numBlocks
      const maxSpan = intOption(ctx.values, 'max-span', T, 1, T)
      const { blockScores, spanScores } = await computeScores(ctx, session, maxSpan)
      if (csvPath !== undefined) {
        const angular = spanScores.find((s) => s.scorer === 'angular')!
        await mkdir(dirname(resolve(csvPath)), { recursive: true })
        await writeFileAtomic(resolve(csvPath), pruneMeCsv(angular.spans))
        ctx.log(`wrote ${csvPath} (PruneMe-style angular distances, ${angular.spans.length} rows)`)
      }
      const json = {
        numBlocks: T,
        model: session.location.path,
        unitNote: 'MI in nats; bi and angular are dimensionless',
        calibration: session.calibrationReport(),
        blockScores,
        spanScores,
      }
      const text = blockScores
        .map((s) => `${s.scorer.padEnd(16)} ${s.values.map((v) => v.toFixed(3)).join(' ')}`)
        .join('\n')
      return { json, text: `per-block scores (blocks 0..${T - 1}):\n${text}` }
    } finally {
      await session.dispose()
    }
  },
}
