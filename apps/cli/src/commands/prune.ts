import { writeFile } from 'node:fs/promises'
import { writeMergekitConfig } from '../interop.js'
import { join } from 'node:path'
import type { CommandSpec } from '../command.js'
import { CliError, exitCodes } from '../errors.js'
import { stringOption } from '../options.js'
import { stageOutput } from '../output.js'
import { cliVersion } from '../version.js'
import { enterPhase } from '../phase.js'
import { runSelection, selectionOptions } from './select.js'

/** File written next to the pruned model with the selection and how it was made. */
export const SELECTION_FILE = 'mi_prun_selection.json'

export const pruneCommand: CommandSpec = {
  name: 'prune',
  summary: 'select blocks and write the pruned model in the input format (+ provenance)',
  usage: 'mi-prun prune MODEL --out DIR (--remove N | --ratio R) [--selector NAME] [--force]',
  description:
    'Runs `select`, then exports the model without the chosen blocks (kept blocks renumbered, config updated) into a staging folder that is renamed to DIR only when everything succeeded.',
  positionals: [{ name: 'MODEL', description: 'model folder or .onnx file', required: true }],
  options: [...selectionOptions, 'out', 'force'],
  jsonKeys: ['selected', 'selector', 'settings', 'trace', 'out', 'numBlocks'],
  async run(ctx) {
    const out = stringOption(ctx.values, 'out')
    if (!out)
      throw new CliError(
        exitCodes.usage,
        '[@mi-prun/cli] prune needs --out DIR (the folder for the pruned model)',
      )
    const staged = await stageOutput(out, ctx.values.force === true, { create: false, log: ctx.log })
    try {
      const { session, selection, json } = await runSelection(ctx)
      try {
        const provenance = {
          tool: '@mi-prun/cli',
          version: cliVersion,
          command: ctx.argv.join(' '),
          ...json,
          trace: undefined,
        }
        ctx.log(`writing the pruned model to ${staged.target}`)
        const res = await session.adapter.exportPruned(selection.selected, staged.dir, provenance)
        await enterPhase('write')
        if (session.location.format === 'hf-safetensors')
          await writeMergekitConfig(
            staged.dir,
            session.location.path,
            session.adapter.info.numBlocks,
            selection.selected,
          )
        await writeFile(
          join(staged.dir, SELECTION_FILE),
          `${JSON.stringify({ ...json, export: { numBlocks: res.numBlocks, removed: res.removed } }, null, 2)}\n`,
        )
        await staged.commit()
        return {
          json: { ...json, out: staged.target, keptBlocks: res.numBlocks },
          text: `${json.selector}: removed blocks [${selection.selected.join(', ')}]; wrote ${res.numBlocks}-block model to ${staged.target}`,
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
