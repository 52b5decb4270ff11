import { existsSync } from 'node:fs'
import { writeMergekitConfig } from '../interop.js'
import { writeFile } from 'node:fs/promises'
import { basename, join, relative } from 'node:path'
import { inspectModel } from '../model.js'
import { fileURLToPath } from 'node:url'
import { bundledCalibration, bundledHeldout } from '../calibration.js'
import type { CommandSpec } from '../command.js'
import { runComparison } from '../compare.js'
import { CliError, exitCodes } from '../errors.js'
import { floatOption, intOption, stringOption } from '../options.js'
import { stageOutput } from '../output.js'
import { readEchartsSource, renderReportHtml } from '../report/html.js'
import { openSession, sessionSettings } from '../session.js'
import { blocksForRatio, checkBudget } from '@mi-prun/core'
import { cliVersion } from '../version.js'
import { enterPhase } from '../phase.js'
import { defaultOf, numberDefault } from '../defaults.js'

/** The bundled reference model (models/llama-kjv at the repository root). */
export const referenceModel: string = fileURLToPath(new URL('../../../../models/llama-kjv', import.meta.url))

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary: 'prune ~25% of the reference model with MI-PRUN and ShortGPT, evaluate, write models + report',
  usage: 'mi-prun demo [MODEL] [--out DIR] [--ratio 0.25]',
  description:
    'On the bundled reference model and KJV text: one calibration pass, Fast-Block-Select (Gaussian MI after the default reducer, rp:32) and ShortGPT Block Influence remove ⌈T·ratio⌉ blocks, both are evaluated against the dense model on held-out text, and the pruned models and the report are written to DIR (default ./mi-prun-out; a previous demo output there is replaced).',
  positionals: [
    { name: 'MODEL', description: 'model folder (default: the bundled models/llama-kjv)', required: false },
  ],
  options: ['out', 'force', 'ratio', 'samples', 'seq-len', 'tokens', 'seed', 'backend', 'max-windows'],
  jsonKeys: ['out', 'dense', 'methods', 'report', 'html'],
  async run(ctx) {
    const model = ctx.positionals[0] ?? referenceModel
    if (!existsSync(model)) {
      throw new CliError(
        exitCodes.input,
        `[@mi-prun/cli] the reference model is missing at ${model}: pass a model folder (mi-prun demo path/to/model) or restore models/llama-kjv`,
      )
    }
    const out = stringOption(ctx.values, 'out') ?? String(defaultOf('demo', 'out'))
    const ratio = floatOption(ctx.values, 'ratio') ?? numberDefault('demo', 'ratio')
    const settings = sessionSettings(ctx, {
      calib: [bundledCalibration],
      estimators: ['gaussian'],
      subsets: 1,
    })
    // a previous mi-prun output there (it holds the marker file) is replaced without --force
    const staged = await stageOutput(out, ctx.values.force === true, { log: ctx.log, replaceOwn: true })
    try {
      const session = await openSession(ctx, model, settings)
      try {
        const T = session.adapter.info.numBlocks
        const budget = blocksForRatio(T, ratio)
        checkBudget(T, budget)
        const { report, selections } = await runComparison(ctx, session, {
          methods: [
            { selector: 'fbs', estimator: 'gaussian', label: 'mi-prun' },
            { selector: 'shortgpt', label: 'shortgpt' },
          ],
          budget,
          text: [bundledHeldout],
          windowLength: settings.seqLen,
          maxWindows: intOption(ctx.values, 'max-windows', numberDefault('demo', 'max-windows'), 1),
          maxSpan: T,
          stability: false,
        })
        for (const [label, sel] of selections) {
          ctx.log(`writing the ${label} model`)
          await session.adapter.exportPruned(sel.selected, join(staged.dir, label), {
            tool: '@mi-prun/cli',
            version: cliVersion,
            command: `mi-prun ${ctx.argv.join(' ')}`,
            selector: label,
            selected: [...sel.selected],
            settings: sel.settings,
            calibration: session.calibrationReport(),
          })
          if (session.location.format === 'hf-safetensors')
            await writeMergekitConfig(join(staged.dir, label), session.location.path, T, sel.selected)
        }
        await enterPhase('write')
        await writeFile(join(staged.dir, 'report.json'), `${JSON.stringify(report, null, 1)}\n`)
        await writeFile(join(staged.dir, 'report.html'), renderReportHtml(report, await readEchartsSource()))
        await staged.commit()
        const dense = report.perplexity!.dense
        const rows = report.perplexity!.curves.map((c) => {
          const p = c.points[c.points.length - 1]!
          const m = report.methods.find((x) => x.selector === c.selector)!
          return {
            method: c.selector,
            selected: p.selected,
            perplexity: p.perplexity,
            meanNll: p.meanNll,
            ratioToDense: p.perplexity / dense.perplexity,
            wallMs: m.cost.wallMs,
            model: join(staged.target, c.selector),
          }
        })
        const ps = report.perplexity!.settings
        const protocol = {
          text: ps.text.map((t) => basename(t)),
          windows: Math.round(dense.tokens / (ps.windowLength - 1)),
          windowLength: ps.windowLength,
          tokens: dense.tokens,
        }
        const prunedParameters = Number((await inspectModel(join(staged.target, 'mi-prun')))['parameters'])
        const removedParameterShare = 1 - prunedParameters / report.model.parameters
        const relPath = relative(process.cwd(), staged.target)
        const rel = relPath === '' ? '.' : relPath.startsWith('..') ? staged.target : relPath
        const text = [
          `${report.model.architecture}, ${T} blocks; removed ${budget} of ${T} blocks (${((100 * budget) / T).toFixed(0)}% of blocks, ${(100 * removedParameterShare).toFixed(1)}% of parameters)`,
          `held-out perplexity of ${protocol.text.join(', ')}: ${protocol.windows} windows of ${protocol.windowLength} tokens, ${protocol.tokens} tokens scored:`,
          `${'model'.padEnd(10)} ${'removed blocks'.padEnd(16)} ${'PPL'.padStart(10)} ${'× dense'.padStart(8)}`,
          `${'dense'.padEnd(10)} ${'–'.padEnd(16)} ${dense.perplexity.toFixed(3).padStart(10)} ${'1.00'.padStart(8)}`,
          ...rows.map(
            (r) =>
              `${r.method.padEnd(10)} ${r.selected.join(', ').padEnd(16)} ${r.perplexity.toFixed(3).padStart(10)} ${r.ratioToDense.toFixed(2).padStart(8)}`,
          ),
          `wrote ${rel}/mi-prun, ${rel}/shortgpt (pruned models) and ${rel}/report.html`,
        ]
        return {
          json: {
            out: staged.target,
            budget,
            numBlocks: T,
            dense: { ...dense, protocol },
            removedBlockShare: budget / T,
            removedParameterShare,
            methods: rows,
            report: join(staged.target, 'report.json'),
            html: join(staged.target, 'report.html'),
          },
          text: text.join('\n'),
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
