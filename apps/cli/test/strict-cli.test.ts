import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { exitCodes, parseCommandLine, runCli } from '@mi-prun/cli'
import { runMiPrun } from './helpers.js'

const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
const sel = ['remove', 'ratio', 'selector', 'calib', 'estimator', 'samples', 'reducer'] as const
const one = { required: 1, max: 1 }

/** Runs the CLI in this process; a usage error never loads a model, so this is quick. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const code = await runCli(args, {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (stderr += s) },
  })
  return { code, stderr }
}

describe('a strict, friendly command line', () => {
  it('accepts a list as a repeated flag, after one flag, or with commas; a list never swallows MODEL', () => {
    for (const argv of [
      ['m', '--selector', 'fbs', '--selector', 'shortgpt'],
      ['m', '--selector', 'fbs', 'shortgpt'],
      ['m', '--selector', 'fbs,shortgpt'],
      ['--selector', 'fbs', 'shortgpt', 'm'],
      ['--selector=fbs,shortgpt', 'm'],
    ]) {
      const r = parseCommandLine('compare', argv, [...sel], one)
      expect(r.values.selector, argv.join(' ')).toEqual(['fbs', 'shortgpt'])
      expect(r.positionals).toEqual(['m'])
    }
    const c = parseCommandLine('score', ['--calib', 'a.txt', 'b.txt', 'm'], [...sel], one)
    expect(c.values.calib).toEqual(['a.txt', 'b.txt'])
    expect(c.positionals).toEqual(['m'])
    // an ensemble keeps its commas
    const e = parseCommandLine(
      'score',
      ['m', '--estimator', 'ensemble:ksg,gaussian', 'binning'],
      [...sel],
      one,
    )
    expect(e.values.estimator).toEqual(['ensemble:ksg,gaussian', 'binning'])
    // --skip-blocks with spaces or commas
    for (const argv of [
      ['m', '--skip-blocks', '5', '7'],
      ['m', '--skip-blocks', '5,7'],
    ])
      expect(parseCommandLine('eval', argv, ['skip-blocks'], one).values['skip-blocks']!.toString()).toMatch(
        /5.?7/,
      )
  })

  it('refuses a single-value flag given twice or given a list', () => {
    expect(() => parseCommandLine('select', ['m', '--remove', '1', '--remove', '2'], [...sel], one)).toThrow(
      /--remove is given twice \(1 and 2\): pass it once/,
    )
    expect(() => parseCommandLine('select', ['m', '--remove', '1', '2'], [...sel], one)).toThrow(
      /--remove takes one value, got 1 2/,
    )
  })

  it('suggests the flag, selector or estimator meant', async () => {
    expect(() => parseCommandLine('select', ['m', '--selectr', 'fbs'], [...sel], one)).toThrow(
      /unknown flag --selectr \(did you mean --selector\?\)/,
    )
    const s = await cli(['select', model, '--remove', '1', '--selector', 'shortgtp'])
    expect(s.code).toBe(exitCodes.usage)
    expect(s.stderr).toContain('(did you mean "shortgpt"?)')
    const e = await cli(['score', model, '--estimator', 'gausian'])
    expect(e.code).toBe(exitCodes.usage)
    expect(e.stderr).toContain('(did you mean "gaussian"?)')
  })

  it('select refuses two selectors instead of silently running the last', async () => {
    const r = await cli(['select', model, '--remove', '1', '--selector', 'fbs', 'shortgpt'])
    expect(r.code).toBe(exitCodes.usage)
    expect(r.stderr).toContain('select runs one --selector, got fbs, shortgpt')
  })

  it('every malformed value is refused before a model loads, exit 2, one line', async () => {
    const missing = '/nonexistent/model' // a load would fail with exit 3: exit 2 proves nothing loaded
    for (const [args, msg] of [
      [['--remove', '-1'], '--remove must be in [1, ∞], got -1'],
      [['--ratio', '1.5'], '--ratio must be a fraction in (0, 1), got 1.5'],
      [['--remove', '1', '--samples', 'x'], '--samples must be an integer, got "x"'],
      [['--remove', '1', '--reducer', 'pca'], '--reducer pca: use pca:R'],
      [['--remove', '1', '--ratio', '0.5'], 'not both'],
    ] as const) {
      const r = await cli(['select', missing, ...args])
      expect(r.code, r.stderr).toBe(exitCodes.usage)
      expect(r.stderr).toContain(msg)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('the real process: --remove -1 is one line and exit 2', async () => {
    const r = await runMiPrun(['select', model, '--remove', '-1'])
    expect(r.code).toBe(exitCodes.usage)
    expect(r.stderr.trim().split('\n')).toEqual(['error: [@mi-prun/cli] --remove must be in [1, ∞], got -1'])
  })
})
