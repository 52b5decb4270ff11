import type { CliIo, CommandSpec } from './command.js'
import { CliError, describeError, exitCodes } from './errors.js'
import { listOption, optionSpecs, parseCommandLine, prevalidate } from './options.js'
import { parseEstimatorSpec } from './scoring.js'
import { parseSelectorName } from './session.js'
import type { OptionSpec } from './options.js'
import { createProgress } from './progress.js'
import { commands } from './registry.js'
import { cliVersion } from './version.js'
import { defaultOf } from './defaults.js'

function flagLine(command: string, name: string, s: OptionSpec): string {
  const flag = `${s.short ? `-${s.short}, ` : ''}--${name}${s.type === 'string' ? ` ${s.valueName ?? 'VALUE'}` : ''}`
  const d = defaultOf(command, name) ?? s.defaultText
  return `  ${flag.padEnd(28)} ${s.description}${d !== undefined ? ` (default: ${d})` : ''}`
}

/** Help text of one command, generated from the registry. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`usage: ${spec.usage}`, '', spec.summary, '', spec.description, '']
  if (spec.positionals.length) {
    lines.push('arguments:')
    for (const p of spec.positionals)
      lines.push(`  ${p.name.padEnd(28)} ${p.description}${p.required ? '' : ' (optional)'}`)
    lines.push('')
  }
  lines.push('flags:')
  for (const n of [...spec.options, 'json', 'quiet', 'help'] as const)
    lines.push(flagLine(spec.name, n, optionSpecs[n]))
  return `${lines.join('\n')}\n`
}

/** Top-level help text. */
export function mainHelp(): string {
  const lines = [
    `mi-prun ${cliVersion}: block pruning of LLMs by mutual information (MI-PRUN)`,
    '',
    'usage: mi-prun COMMAND [ARGS] [FLAGS]',
    '',
    'commands:',
  ]
  for (const spec of Object.values(commands) as CommandSpec[])
    lines.push(`  ${spec.name.padEnd(10)} ${spec.summary}`)
  lines.push(
    '',
    'Run `mi-prun COMMAND --help` for its flags. Block indices are 0-based everywhere: block i maps h_i to h_{i+1}.',
  )
  lines.push(
    'Exit codes: ' +
      Object.entries(exitCodes)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') +
      ' (see apps/cli/README.md).',
  )
  return `${lines.join('\n')}\n`
}

/**
 * Runs one command line and returns the exit code. With --json exactly one JSON object is written
 * to stdout (on failure: `{ "error": { "message", "exitCode" } }`); everything else goes to stderr.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv
  const wantsJson = rest.includes('--json')
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const spec = rest[0] ? (commands as Record<string, CommandSpec>)[rest[0]] : undefined
    io.stdout.write(spec ? commandHelp(spec) : mainHelp())
    return exitCodes.ok
  }
  if (name === '--version' || name === 'version') {
    io.stdout.write(`${cliVersion}\n`)
    return exitCodes.ok
  }
  try {
    const spec = (commands as Record<string, CommandSpec>)[name]
    if (!spec) {
      throw new CliError(
        exitCodes.usage,
        `[@mi-prun/cli] unknown command "${name}": choose one of ${Object.keys(commands).join(', ')} (mi-prun --help)`,
      )
    }
    const { values, positionals } = parseCommandLine(name, rest, spec.options, {
      required: spec.positionals.filter((p) => p.required).length,
      max: spec.positionals.length,
    })
    if (values.help) {
      io.stdout.write(commandHelp(spec))
      return exitCodes.ok
    }
    prevalidate(values)
    for (const n of listOption(values, 'selector')) parseSelectorName(n)
    for (const e of listOption(values, 'estimator')) parseEstimatorSpec(e)
    const required = spec.positionals.filter((p) => p.required).length
    if (positionals.length < required || positionals.length > spec.positionals.length) {
      throw new CliError(
        exitCodes.usage,
        `[@mi-prun/cli] ${name} takes ${spec.positionals.map((p) => (p.required ? p.name : `[${p.name}]`)).join(' ') || 'no arguments'}, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}: usage: ${spec.usage}`,
      )
    }
    const quiet = values.quiet === true
    const json = values.json === true
    const out = await spec.run({
      command: name,
      values,
      positionals,
      io,
      json,
      argv,
      progress: createProgress(io.stderr, !quiet),
      log: (m) => {
        if (!quiet) io.stderr.write(`${m}\n`)
      },
    })
    io.stdout.write(json ? `${JSON.stringify(out.json)}\n` : `${out.text}\n`)
    return exitCodes.ok
  } catch (e) {
    const { exitCode, message } = describeError(e)
    io.stderr.write(`error: ${message}\n`)
    if (wantsJson) io.stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`)
    return exitCode
  }
}
