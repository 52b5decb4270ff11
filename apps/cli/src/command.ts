import type { OptionName, OptionValues } from './options.js'
import type { Progress, ProgressStream } from './progress.js'

export interface CliIo {
  readonly stdout: { write(chunk: string): unknown }
  readonly stderr: ProgressStream
}

export interface CommandContext {
  readonly command: string
  readonly values: OptionValues
  readonly positionals: readonly string[]
  readonly io: CliIo
  readonly progress: Progress
  /** A log line on stderr (silent with --quiet). */
  log(message: string): void
  readonly json: boolean
  /** The full command line, for provenance. */
  readonly argv: readonly string[]
}

/** What a command returns: the --json object and the human-readable text. */
export interface CommandOutput {
  readonly json: Record<string, unknown>
  readonly text: string
}

export interface CommandSpec {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly description: string
  readonly positionals: readonly {
    readonly name: string
    readonly description: string
    readonly required: boolean
  }[]
  readonly options: readonly OptionName[]
  /** Keys always present in the --json object (a stable scripting interface). */
  readonly jsonKeys: readonly string[]
  run(ctx: CommandContext): Promise<CommandOutput>
}
