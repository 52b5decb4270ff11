import type { CommandSpec } from './command.js'
import { compareCommand } from './commands/compare.js'
import { demoCommand } from './commands/demo.js'
import { evalCommand } from './commands/eval.js'
import { inspectCommand } from './commands/inspect.js'
import { pruneCommand } from './commands/prune.js'
import { reportCommand } from './commands/report.js'
import { scoreCommand } from './commands/score.js'
import { selectCommand } from './commands/select.js'

/**
 * The command table of `mi-prun`, frozen; its keys are the command names. The docs build the CLI
 * reference from it (with `optionSpecs` and `exitCodes`).
 */
export const commands = Object.freeze({
  inspect: inspectCommand,
  score: scoreCommand,
  select: selectCommand,
  prune: pruneCommand,
  eval: evalCommand,
  compare: compareCommand,
  report: reportCommand,
  demo: demoCommand,
} satisfies Record<string, CommandSpec>)
export type CommandName = keyof typeof commands
