import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bundledHeldout } from '../calibration.js'
import type { CommandSpec } from '../command.js'
import { runComparison } from '../compare.js'
import type { MethodSpec } from '../compare.js'
import { CliError, exitCodes } from '../errors.js'
import { intOption, listOption, stringOption } from '../options.js'
import { stageOutput } from '../output.js'
import { readEchartsSource, renderReportHtml } from '../report/html.js'
import { budgetFrom, openSession, parseSelectorName, selectorRegistry, sessionSettings } from '../session.js'
import type { SelectorName } from '../session.js'
import { selectionOptions } from './select.js'
import { enterPhase } from '../phase.js'
import { defaultOf, numberDefault } from '../defaults.js'

const defaultSelectors = String(defaultOf('compare', 'selector')).split(',') as SelectorName[]

export const compareCommand: CommandSpec = {
  name: 'compare',
  summary: 'MI-PRUN (each estimator) vs every baseline on the same cached states → report',
  usage:
    'mi-prun compare MODEL --out DIR (--remove N | --ratio R) [--estimator NAME ...] [--selector NAME ...] [--subsets K]',
  description: `Scores every span, selects with Fast-Block-Select for each --estimator and with each baseline (default: ${String(defaultOf('compare', 'selector')).replace(/,/g, ', ')}; add exact-ppl explicitly), evaluates held-out perplexity of every selection for budgets 1..N, measures stability (Jaccard) across K disjoint calibration subsets, and writes report.json and report.html to DIR.`,
  positionals: [{ name: 'MODEL', description: 'model folder or .onnx file', required: true }],
  options: [...selectionOptions, 'subsets', 'text', 'max-windows', 'max-span', 'out', 'force'],
  jsonKeys: ['out', 'report', 'html', 'methods', 'dense'],
  async run(ctx) {
    const out = stringOption(ctx.values, 'out')
    if (!out)
      throw new CliError(
        exitCodes.usage,
        '[@mi-prun/cli] compare needs --out DIR (the folder for report.json and report.html)',
      )
    const settings = sessionSettings(ctx)
    const names = listOption(ctx.values, 'selector').map(parseSelectorName)
    const staged = await stageOutput(out, ctx.values.force === true, { log: ctx.log })
    try {
      const session = await openSession(ctx, ctx.positionals[0]!, settings)
      try {
        const T = session.adapter.info.numBlocks
        const budget = budgetFrom(ctx, T)
        const methods: MethodSpec[] = []
        for (const name of names.length ? names : defaultSelectors) {
          if (selectorRegistry[name].input === 'mi')
            for (const e of settings.estimators)
              methods.push({ selector: name, estimator: e, label: `${name}:${e}` })
          else methods.push({ selector: name, label: name })
        }
        const { report } = await runComparison(ctx, session, {
          methods,
          budget,
          text: listOption(ctx.values, 'text').length ? listOption(ctx.values, 'text') : [bundledHeldout],
          windowLength: settings.seqLen,
          maxWindows: intOption(ctx.values, 'max-windows', numberDefault('compare', 'max-windows'), 1),
          maxSpan: intOption(ctx.values, 'max-span', T, 1, T),
          stability: true,
        })
        await enterPhase('write')
        await writeFile(join(staged.dir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`)
        await writeFile(join(staged.dir, 'report.html'), renderReportHtml(report, await readEchartsSource()))
        await staged.commit()
        const ppl = new Map(
          report.perplexity!.curves.map((c) => [c.selector, c.points[c.points.length - 1]!.perplexity]),
        )
        const stab = new Map((report.stability?.rows ?? []).map((r) => [r.selector, r.meanJaccard]))
        const rows = report.methods.map((m) => ({
          method: m.selector,
          selector: m.selector,
          selected: m.selected,
          perplexity: ppl.get(m.selector)!,
          meanJaccard: stab.get(m.selector) ?? null,
          forwardPasses: m.cost.forwardPasses,
          miEvaluations: m.cost.miEvaluations,
          wallMs: m.cost.wallMs,
        }))
        const table = [
          `dense perplexity ${report.perplexity!.dense.perplexity.toFixed(3)}; removing ${budget} of ${T} blocks:`,
          `${'method'.padEnd(18)} ${'blocks'.padEnd(14)} ${'PPL'.padStart(10)} ${'Jaccard'.padStart(8)} ${'passes'.padStart(7)} ${'MI evals'.padStart(9)} ${'ms'.padStart(8)}`,
          ...rows.map(
            (r) =>
              `${r.selector.padEnd(18)} ${r.selected.join(',').padEnd(14)} ${r.perplexity.toFixed(3).padStart(10)} ${(r.meanJaccard === null ? '–' : r.meanJaccard.toFixed(2)).padStart(8)} ${String(r.forwardPasses).padStart(7)} ${(selectorRegistry[r.selector.split(':')[0] as SelectorName]?.input === 'mi' ? String(r.miEvaluations) : '–').padStart(9)} ${r.wallMs.toFixed(0).padStart(8)}`,
          ),
          `report: ${join(staged.target, 'report.html')}`,
        ]
        return {
          json: {
            out: staged.target,
            report: join(staged.target, 'report.json'),
            html: join(staged.target, 'report.html'),
            budget,
            numBlocks: T,
            dense: report.perplexity!.dense,
            methods: rows,
          },
          text: table.join('\n'),
        }
      } finally {
        await session.dispose()
      }
    } catch (e) {
      await staged.abort()
      throw e
    }
  },
}
