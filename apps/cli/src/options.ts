import { parseArgs } from 'node:util'
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
  samples: { type: 'string', valueName: 'N', defaultText: '32', description: 'calibration sequences' },
  'seq-len': {
    type: 'string',
    valueName: 'L',
    defaultText: '128',
    description: 'tokens per calibration or evaluation sequence',
  },
  tokens: {
    type: 'string',
    valueName: 'N',
    defaultText: '2048',
    description: 'token cap: MI samples drawn (seeded) from the calibration tokens',
  },
  estimator: {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'NAME...',
    defaultText: 'gaussian',
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
  k: { type: 'string', valueName: 'K', defaultText: '3', description: 'KSG neighbours (must be < samples)' },
  'fbs-k': {
    type: 'string',
    valueName: 'K',
    defaultText: '5',
    description: 'Fast-Block-Select window budget K = ⌊ln L⌋ + k',
  },
  seed: {
    type: 'string',
    valueName: 'S',
    defaultText: '0',
    description: 'seed of every random choice (token sampling, projections, random selector)',
  },
  backend: {
    type: 'string',
    valueName: 'NAME',
    defaultText: 'ort (HF folders) / cpu (ONNX)',
    description: 'compute backend: ort (ONNX Runtime) | wasm | cpu | tensorflow for HF folders; cpu for ONNX',
  },
  remove: { type: 'string', valueName: 'N', description: 'number of blocks to remove' },
  ratio: { type: 'string', valueName: 'R', description: 'fraction of blocks to remove, N = ⌈T·R⌉' },
  selector: {
    type: 'string',
    multiple: true,
    variadic: true,
    valueName: 'NAME...',
    defaultText: 'fbs',
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
    valueName: 'LIST',
    description: 'comma-separated 0-based blocks to skip while evaluating (no files written)',
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
    defaultText: '64',
    description: 'evaluate at most N perplexity windows',
  },
  'mc-limit': {
    type: 'string',
    valueName: 'N',
    defaultText: '100',
    description: 'evaluate at most N multiple-choice items',
  },
  subsets: {
    type: 'string',
    valueName: 'K',
    defaultText: '3',
    description: 'disjoint calibration subsets for the stability (Jaccard) table',
  },
  'max-span': {
    type: 'string',
    valueName: 'L',
    defaultText: 'T',
    description: 'longest span scored by `score`',
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

/**
 * Parses `argv` (after the command name) for a command that accepts `allowed`. Variadic flags
 * (`--calib a.txt b.txt`) are expanded to repeated flags before node:util parseArgs runs strictly.
 */
export function parseCommandLine(
  command: string,
  argv: readonly string[],
  allowed: readonly OptionName[],
): { values: OptionValues; positionals: string[] } {
  const names = new Set<string>([...allowed, 'json', 'quiet', 'help'])
  const expanded: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : ''
    const spec = (optionSpecs as Record<string, OptionSpec>)[name]
    if (spec?.variadic && !a.includes('=') && names.has(name)) {
      let j = i + 1
      while (j < argv.length && !argv[j]!.startsWith('-')) expanded.push(`--${name}`, argv[j++]!)
      if (j === i + 1) expanded.push(a) // let parseArgs report the missing value
      i = j - 1
    } else expanded.push(a)
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const n of names) {
    const s = (optionSpecs as Record<string, OptionSpec>)[n]!
    options[n] = {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
    }
  }
  try {
    const { values, positionals } = parseArgs({
      args: expanded,
      options,
      strict: true,
      allowPositionals: true,
    })
    return { values: values as OptionValues, positionals }
  } catch (cause) {
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] ${command}: ${(cause as Error).message}. Run \`mi-prun ${command} --help\` for its flags`,
      {
        cause,
      },
    )
  }
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
  const v = stringOption(values, flag)
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
