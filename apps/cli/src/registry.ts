import type { CommandSpec } from './command.js'
import { reportCommand } from './commands/report.js'

/**
 * The command table of `mi-prun`, frozen; its keys are the command names. The docs build the CLI
 * reference from it (with `optionSpecs` and `exitCodes`).
 */
export const commands = Object.freeze({
  report: reportCommand,
} satisfies Record<string, CommandSpec>)
export type CommandName = keyof typeof commands
