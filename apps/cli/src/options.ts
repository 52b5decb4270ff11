import { parseArgs } from 'node:util'
import { closestName } from '@mi-prun/core'
import { CliError, exitCodes } from './errors.js'

/** One flag of the command line. `variadic` flags take every following value up to the next flag. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
  readonly multiple?: boolean
  readonly variadic?: boolean
  readonly valueName?: string
  readonly defaultText?: string
  readonly description: string
}

/**
 * Every flag the CLI knows, frozen; each command lists the ones it accepts. The docs generate the
 * CLI reference from this table and from `commands`.
 */
export const optionSpecs = Object.freeze({
  calib: {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'FILE...',
    defaultText: 'the bundled KJV calibration text',
    description:
      'calibration input: text files (.txt), JSONL ({"text"} or {"ids"} per line), or pre-tokenised ids (.json: number[][])',
  },
  samples: { type: 'string', valueName: 'N', description: 'calibration sequences' },
  'seq-len': {
    type: 'string',
    valueName: 'L',
    description: 'tokens per calibration or evaluation sequence',
  },
  tokens: {
    type: 'string',
    valueName: 'N',
    description: 'token cap: MI samples drawn (seeded) from the calibration tokens',
  },
  estimator: {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'NAME...',
    description:
      'MI estimator: ksg | gaussian | binning | ensemble:ksg,gaussian (repeatable for score/compare)',
  },
  reducer: {
    type: 'string',
    valueName: 'SPEC',
    defaultText:
      'rp:32 (rp:d when the hidden size d < 32; chosen by the evidence run, see the docs Results page)',
    description: 'dimension reducer before MI: pca:R | rp:R | none',
  },
  k: {
    type: 'string',
    valueName: 'K',
    description: 'KSG neighbours (must be < the number of MI samples, see --tokens)',
  },
  'fbs-k': {
    type: 'string',
    valueName: 'K',
    description: 'Fast-Block-Select window budget K = ⌊ln L⌋ + k',
  },
  seed: {
    type: 'string',
    valueName: 'S',
    description: 'seed of every random choice (token sampling, projections, random selector)',
  },
  backend: {
    type: 'string',
    valueName: 'NAME',
    defaultText: 'ort (HF folders) / cpu (ONNX)',
    description:
      'compute backend: ort (ONNX Runtime) | wasm | cpu | tensorflow | auto (TF.js) for HF folders; cpu | cuda for ONNX',
  },
  remove: { type: 'string', valueName: 'N', description: 'number of blocks to remove' },
  ratio: { type: 'string', valueName: 'R', description: 'fraction of blocks to remove, N = ⌈T·R⌉' },
  selector: {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'NAME...',
    description:
      'selection method: fbs | shortgpt | angular | sleb | ppl-rank | random | exact-mi | exact-ppl',
  },
  out: {
    type: 'string',
    valueName: 'DIR',
    description: 'output folder (written atomically; must not exist unless --force)',
  },
  force: { type: 'boolean', description: 'replace an existing output folder' },
  text: {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'FILE...',
    defaultText: 'the bundled KJV test split',
    description: 'held-out text for perplexity',
  },
  'skip-blocks': {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'LIST',
    description: '0-based blocks to skip while evaluating, comma- or space-separated (no files written)',
  },
  tasks: {
    type: 'string',
    valueName: 'FILE',
    defaultText: 'kjv-cloze (bundled)',
    description: 'multiple-choice JSONL {context, choices, gold}; "none" to skip',
  },
  latency: { type: 'boolean', description: 'also measure prefill tokens/s and decode ms/token' },
  'max-windows': {
    type: 'string',
    valueName: 'N',
    description: 'evaluate at most N perplexity windows',
  },
  'mc-limit': {
    type: 'string',
    valueName: 'N',
    description: 'evaluate at most N multiple-choice items',
  },
  subsets: {
    type: 'string',
    valueName: 'K',
    description: 'disjoint calibration subsets for the stability (Jaccard) table',
  },
  'max-span': {
    type: 'string',
    valueName: 'L',
    defaultText: 'T',
    description: 'longest span scored by `score`',
  },
  'prune-me-csv': {
    type: 'string',
    valueName: 'FILE',
    description:
      'also write the PruneMe-style CSV (block_start, block_end, n, average_distance) of the last-token angular distance between h_l and h_{l+n}; refuses an existing file',
  },
  json: {
    type: 'boolean',
    description: 'print exactly one JSON object on stdout (logs and progress go to stderr)',
  },
  quiet: { type: 'boolean', short: 'q', description: 'no progress bars or logs' },
  help: { type: 'boolean', short: 'h', description: 'show help for the command' },
} as const satisfies Record<string, OptionSpec>)
export type OptionName = keyof typeof optionSpecs

/** Parsed flag values of one command. */
export type OptionValues = Partial<Record<OptionName, string | boolean | string[]>>

/** Flags whose values may also be given comma-separated (`--selector fbs,shortgpt`). */
const commaLists: ReadonlySet<string> = new Set(['selector', 'estimator'])

function usageError(command: string, message: string): CliError {
  return new CliError(
    exitCodes.usage,
    `[@mi-prun/cli] ${command}: ${message}. Run \`mi-prun ${command} --help\` for its flags`,
  )
}

/**
 * Parses `argv` (after the command name) for a command that accepts `allowed`, strictly:
 * an unknown flag is refused with the closest known one; a single-value flag given twice or given a
 * list is refused; list flags take a list after the flag (`--calib a.txt b.txt`), repeated flags, or
 * (for --selector/--estimator) commas, and never swallow the positional MODEL (`--selector fbs shortgpt
 * MODEL` and `--calib a.txt MODEL` leave MODEL positional). Negative numbers are values, not flags.
 */
export function parseCommandLine(
  command: string,
  argv: readonly string[],
  allowed: readonly OptionName[],
  arity: { required: number; max: number } = { required: 0, max: Number.MAX_SAFE_INTEGER },
): { values: OptionValues; positionals: string[] } {
  const names = new Set<string>([...allowed, 'json', 'quiet', 'help'])
  const specs = optionSpecs as Record<string, OptionSpec>
  const shorts = new Map<string, string>()
  for (const n of names) if (specs[n]!.short) shorts.set(specs[n]!.short!, n)
  const expanded: string[] = []
  const groups: { name: string; values: string[]; at: number }[] = []
  const seen = new Map<string, string[]>()
  let positionalsBefore = 0
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--') {
      expanded.push(...argv.slice(i))
      break
    }
    const isNumber = /^-\d/.test(a)
    if (!a.startsWith('-') || isNumber) {
      expanded.push(a)
      positionalsBefore++
      continue
    }
    let name = a.startsWith('--') ? a.slice(2).split('=')[0]! : (shorts.get(a.slice(1)) ?? '')
    if (!a.startsWith('--') && name === '') {
      throw usageError(command, `unknown flag ${a}`)
    }
    if (!names.has(name)) {
      const near = closestName(name, [...names])
      throw usageError(command, `unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}`)
    }
    const spec = specs[name]!
    if (spec.type === 'boolean') {
      if (a.includes('=')) throw usageError(command, `--${name} takes no value`)
      if (seen.has(name)) throw usageError(command, `--${name} is given twice: pass it once`)
      seen.set(name, [])
      expanded.push(`--${name}`)
      continue
    }
    const inline = a.includes('=') ? a.slice(a.indexOf('=') + 1) : undefined
    const values: string[] = []
    let j = i + 1
    if (inline !== undefined) values.push(inline)
    else if (spec.variadic) {
      while (j < argv.length && (!argv[j]!.startsWith('-') || /^-\d/.test(argv[j]!))) values.push(argv[j++]!)
    } else if (j < argv.length && (!argv[j]!.startsWith('-') || /^-\d/.test(argv[j]!)))
      values.push(argv[j++]!)
    if (values.length === 0)
      throw usageError(command, `--${name} needs a value (${spec.valueName ?? 'VALUE'})`)
    const split = commaLists.has(name)
      ? values.flatMap((v) => (v.startsWith('ensemble:') ? [v] : v.split(',').filter((x) => x !== '')))
      : values
    if (!spec.multiple) {
      const prev = seen.get(name)
      if (prev)
        throw usageError(command, `--${name} is given twice (${prev[0]} and ${split[0]}): pass it once`)
    }
    seen.set(name, [...(seen.get(name) ?? []), ...split])
    if (spec.variadic) groups.push({ name, values: split, at: expanded.length })
    for (const v of split) expanded.push(`--${name}=${v}`)
    i = j - 1
    // a single-value flag followed by a second bare value: a list where one value is expected
    if (!spec.variadic && inline === undefined && j < argv.length && !argv[j]!.startsWith('-')) {
      const positionalsAfter = argv.slice(j).filter((x) => !x.startsWith('-')).length
      if (positionalsBefore >= arity.max || positionalsBefore + positionalsAfter > arity.max)
        throw usageError(command, `--${name} takes one value, got ${values[0]} ${argv[j]}`)
    }
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const n of names) {
    const s = specs[n]!
    options[n] = {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
    }
  }
  let parsed
  try {
    parsed = parseArgs({ args: expanded, options, strict: true, allowPositionals: true })
  } catch (cause) {
    throw usageError(command, (cause as Error).message.split('\n')[0]!.replace(/\.$/, ''))
  }
  const values = parsed.values as OptionValues
  const positionals = [...parsed.positionals]
  // a list flag before MODEL took MODEL as its last value: give it back
  for (let g = groups.length - 1; g >= 0 && positionals.length < arity.required; g--) {
    const group = groups[g]!
    if (group.values.length < 2) continue
    const last = group.values[group.values.length - 1]!
    const list = values[group.name as OptionName] as string[]
    list.splice(list.lastIndexOf(last), 1)
    positionals.unshift(last)
  }
  return { values, positionals }
}

function usage(flag: string, msg: string): CliError {
  return new CliError(exitCodes.usage, `[@mi-prun/cli] --${flag} ${msg}`)
}

/** Integer flag value with bounds, or the default. */
export function intOption(
  values: OptionValues,
  flag: OptionName,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const v = values[flag]
  if (v === undefined) return fallback
  const s = String(v)
  if (!/^-?\d+$/.test(s)) throw usage(flag, `must be an integer, got "${s}"`)
  const n = Number(s)
  if (n < min || n > max)
    throw usage(flag, `must be in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${n}`)
  return n
}

/** Float flag value, or undefined. */
export function floatOption(values: OptionValues, flag: OptionName): number | undefined {
  const v = values[flag]
  if (v === undefined) return undefined
  const n = Number(v)
  if (String(v).trim() === '' || !Number.isFinite(n))
    throw usage(flag, `must be a number, got "${String(v)}"`)
  return n
}

export function stringOption(values: OptionValues, flag: OptionName): string | undefined {
  const v = values[flag]
  return v === undefined ? undefined : Array.isArray(v) ? v[v.length - 1] : String(v)
}

export function listOption(values: OptionValues, flag: OptionName): string[] {
  const v = values[flag]
  return v === undefined ? [] : Array.isArray(v) ? v : [String(v)]
}

/** "1,2,5" → [1, 2, 5] (sorted, unique, each in [0, numBlocks)). */
export function blockListOption(values: OptionValues, flag: OptionName, numBlocks: number): number[] {
  const v = values[flag] === undefined ? undefined : listOption(values, flag).join(',')
  if (v === undefined || v.trim() === '') return []
  const out = new Set<number>()
  for (const part of v.split(',')) {
    const p = part.trim()
    if (!/^\d+$/.test(p)) throw usage(flag, `must be comma-separated 0-based block indices, got "${v}"`)
    const n = Number(p)
    if (n >= numBlocks) throw usage(flag, `has block ${n}, but the model has blocks 0..${numBlocks - 1}`)
    out.add(n)
  }
  return [...out].sort((a, b) => a - b)
}

/** Integer flags and their smallest value, checked before any model loads. */
const integerFlags: Readonly<Partial<Record<OptionName, number>>> = {
  samples: 1,
  'seq-len': 2,
  tokens: 2,
  seed: 0,
  k: 1,
  'fbs-k': 0,
  remove: 1,
  'max-windows': 1,
  'mc-limit': 1,
  subsets: 1,
  'max-span': 1,
}

/**
 * Checks every value that needs no model (numbers, ratio, --remove/--ratio together, reducer syntax),
 * so a malformed value is a usage error (exit 2) before anything loads.
 */
export function prevalidate(values: OptionValues): void {
  for (const [flag, min] of Object.entries(integerFlags) as [OptionName, number][])
    if (values[flag] !== undefined) intOption(values, flag, 0, min, flag === 'seed' ? 2 ** 32 - 1 : undefined)
  const ratio = floatOption(values, 'ratio')
  if (ratio !== undefined && !(ratio > 0 && ratio < 1))
    throw usage('ratio', `must be a fraction in (0, 1), got ${ratio}`)
  if (values.remove !== undefined && values.ratio !== undefined)
    throw new CliError(exitCodes.usage, '[@mi-prun/cli] pass --remove N or --ratio R, not both')
  const reducer = stringOption(values, 'reducer')
  if (
    reducer !== undefined &&
    reducer !== 'none' &&
    reducer !== 'auto' &&
    !/^(pca|rp):[1-9]\d*$/.test(reducer)
  )
    throw usage('reducer', `${reducer}: use pca:R, rp:R (R a positive integer) or none`)
}
