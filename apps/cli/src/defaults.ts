/**
 * The one table of default values: the commands read their defaults from here, `--help` prints them
 * from here, and the report records the values that ran. A change of a default is one line here.
 * `base` holds the defaults every command shares; a command's entry overrides some of them.
 */
export const defaults = Object.freeze({
  base: Object.freeze({
    samples: 32,
    'seq-len': 128,
    tokens: 2048,
    seed: 0,
    k: 3,
    'fbs-k': 5,
    estimator: 'gaussian',
    selector: 'fbs',
    'max-windows': 64,
    'mc-limit': 100,
    subsets: 1,
  }),
  compare: Object.freeze({
    samples: 16,
    subsets: 3,
    'max-windows': 16,
    selector: 'fbs,shortgpt,angular,sleb,ppl-rank,random,exact-mi',
  }),
  demo: Object.freeze({
    samples: 16,
    tokens: 1024,
    'max-windows': 16,
    ratio: 0.25,
    out: 'mi-prun-out',
  }),
})

export type DefaultKey = keyof typeof defaults.base | 'ratio' | 'out'

/** The default of `flag` for `command` (undefined when the table has none). */
export function defaultOf(command: string, flag: string): number | string | undefined {
  const own = (defaults as Record<string, Record<string, number | string> | undefined>)[command]
  if (own && flag in own) return own[flag]
  return (defaults.base as Record<string, number | string>)[flag]
}

/** A numeric default of `command` (throws if the table has none: a programming error). */
export function numberDefault(command: string, flag: DefaultKey): number {
  const v = defaultOf(command, flag)
  if (typeof v !== 'number') throw new Error(`[@mi-prun/cli] no numeric default for --${flag} of ${command}`)
  return v
}
