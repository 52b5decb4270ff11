import type { Selection } from '@mi-prun/core'
import type { CommandContext, CommandSpec } from '../command.js'
import { CliError, exitCodes } from '../errors.js'
import { listOption } from '../options.js'
import type { OptionName } from '../options.js'
import { budgetFrom, openSession, parseSelectorName, selectorRegistry, sessionSettings } from '../session.js'
import type { Session, SelectorName } from '../session.js'
import { enterPhase } from '../phase.js'
import { defaultOf } from '../defaults.js'

export const selectionOptions: readonly OptionName[] = [
  'remove',
  'ratio',
  'selector',
  'calib',
  'samples',
  'seq-len',
  'tokens',
  'estimator',
  'reducer',
  'k',
  'fbs-k',
  'seed',
  'backend',
]

/** Runs the selection of `select` and `prune`; returns the --json object. */
export async function runSelection(
  ctx: CommandContext,
): Promise<{ session: Session; selection: Selection; json: Record<string, unknown> }> {
  const names = listOption(ctx.values, 'selector')
  if (names.length > 1)
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] ${ctx.command} runs one --selector, got ${names.join(', ')}: pass one, or use \`mi-prun compare\` for several`,
    )
  const name: SelectorName = parseSelectorName(
    names[names.length - 1] ?? String(defaultOf(ctx.command, 'selector')),
  )
  const settings = sessionSettings(ctx)
  const session = await openSession(ctx, ctx.positionals[0]!, settings)
  try {
    const T = session.adapter.info.numBlocks
    const n = budgetFrom(ctx, T)
    ctx.log(`selecting ${n} of ${T} blocks with ${name}`)
    await enterPhase('select')
    const selection = await session.select(name, n)
    const json = {
      selected: [...selection.selected],
      selector: name,
      order: selection.order ? [...selection.order] : null,
      budget: n,
      numBlocks: T,
      model: session.location.path,
      cost: selection.cost,
      settings: {
        selector: selection.settings,
        estimator: settings.estimators[0],
        reducer: session.reducer?.settings ?? null,
        k: settings.k,
        fbsK: settings.fbsK,
        seed: settings.seed,
        calibration: session.calibrationReport(),
        indices: '0-based; block i maps h_i to h_{i+1}',
      },
      trace: selection.trace ?? null,
    }
    return { session, selection, json }
  } catch (e) {
    await session.dispose()
    throw e
  }
}

/** "1 forward pass, 12 MI evaluations, 40 ms": plural only when not 1; MI evaluations only for MI methods. */
export function costText(
  name: SelectorName,
  cost: { forwardPasses: number; miEvaluations: number; wallMs: number },
): string {
  const parts = [`${cost.forwardPasses} forward pass${cost.forwardPasses === 1 ? '' : 'es'}`]
  if (selectorRegistry[name].input === 'mi')
    parts.push(`${cost.miEvaluations} MI evaluation${cost.miEvaluations === 1 ? '' : 's'}`)
  parts.push(`${cost.wallMs.toFixed(0)} ms`)
  return parts.join(', ')
}

export const selectCommand: CommandSpec = {
  name: 'select',
  summary: 'choose the blocks to remove (MI-PRUN Fast-Block-Select or a baseline)',
  usage:
    'mi-prun select MODEL (--remove N | --ratio R) [--selector fbs|shortgpt|angular|sleb|ppl-rank|random|exact-mi|exact-ppl]',
  description:
    'One calibration forward pass caches the hidden states; score-based selectors read span scores from it, loss-based ones (sleb, ppl-rank, exact-ppl) run the model with blocks skipped. Prints the sorted 0-based blocks.',
  positionals: [{ name: 'MODEL', description: 'model folder or .onnx file', required: true }],
  options: selectionOptions,
  jsonKeys: ['selected', 'selector', 'settings', 'trace'],
  async run(ctx) {
    const { session, selection, json } = await runSelection(ctx)
    await session.dispose()
    return {
      json,
      text: `${json.selector}: remove blocks [${selection.selected.join(', ')}] of ${json.numBlocks} (${costText(json.selector as SelectorName, selection.cost)})`,
    }
  },
}
