import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commandHelp, commands } from '@mi-prun/cli'
import { runMiPrun } from './helpers.js'

const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
// the tiny model has 64 positions, so the one flag given is --seq-len (below the 128 default); every
// other setting is the command's default
const seq = ['--seq-len', '32']

/** The defaults a command's --help prints, by flag. */
function helpDefaults(name: keyof typeof commands): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of commandHelp(commands[name]).split('\n')) {
    const m = /^\s+(?:-\w, )?--([\w-]+)\b.*\(default: ([^)]*)\)$/.exec(line)
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

describe('one source of truth for defaults: what --help says is what runs', { timeout: 300_000 }, () => {
  let tmp = ''
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mi-prun-defaults-'))
  })
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('the help of demo and compare no longer disagrees with the run', () => {
    expect(commands.demo.description).not.toContain('PCA 64')
    expect(helpDefaults('demo')).toMatchObject({ samples: '16', tokens: '1024', 'max-windows': '16' })
    expect(helpDefaults('compare')).toMatchObject({ samples: '16', 'max-windows': '16', subsets: '3' })
    expect(helpDefaults('compare')['selector']).toBe('fbs,shortgpt,angular,sleb,ppl-rank,random,exact-mi')
    expect(commandHelp(commands.select)).toMatch(/--backend NAME.*tensorflow.*auto/)
  })

  it('select --json records the defaults select --help prints', async () => {
    const h = helpDefaults('select')
    const r = await runMiPrun(['select', model, '--remove', '1', ...seq, '--json', '--quiet'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as {
      selector: string
      settings: {
        estimator: string
        k: number
        fbsK: number
        seed: number
        calibration: Record<string, number>
      }
    }
    expect(j.selector).toBe(h['selector'])
    expect(j.settings.estimator).toBe(h['estimator'])
    expect(String(j.settings.k)).toBe(h['k'])
    expect(String(j.settings.fbsK)).toBe(h['fbs-k'])
    expect(String(j.settings.seed)).toBe(h['seed'])
    expect(String(j.settings.calibration['samples'])).toBe(h['samples'])
    expect(h['seq-len']).toBe('128')
    expect(j.settings.calibration['seqLen']).toBe(32)
    expect(String(j.settings.calibration['tokenCap'])).toBe(h['tokens'])
  })

  it('eval --json records the defaults eval --help prints', async () => {
    const h = helpDefaults('eval')
    const r = await runMiPrun(['eval', model, '--tasks', 'none', ...seq, '--json', '--quiet'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as { windows: number; tokens: number }
    expect(j.windows).toBeLessThanOrEqual(Number(h['max-windows']))
    expect(j.windows).toBe(Number(h['max-windows']))
    expect(j.tokens).toBe(j.windows * 31)
  })

  it('demo and compare record the defaults their --help prints', async () => {
    for (const name of ['demo', 'compare'] as const) {
      const h = helpDefaults(name)
      const out = join(tmp, name)
      const args =
        name === 'demo'
          ? ['demo', model, '--out', out, ...seq, '--json', '--quiet']
          : ['compare', model, '--out', out, '--remove', '1', ...seq, '--json', '--quiet']
      const r = await runMiPrun(args)
      expect(r.code, r.stderr).toBe(0)
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as {
        calibration: Record<string, number>
        methods: { selector: string }[]
        stability?: { subsets: number }
        perplexity: { settings: { windowLength: number }; dense: { tokens: number } }
      }
      expect(String(report.calibration['samples']), name).toBe(h['samples'])
      expect(String(report.calibration['tokenCap']), name).toBe(h['tokens'])
      expect(report.calibration['seqLen'], name).toBe(32)
      expect(report.perplexity.settings.windowLength).toBe(32)
      expect(report.perplexity.dense.tokens).toBe(Number(h['max-windows']) * 31)
      if (name === 'compare') {
        expect(String(report.stability!.subsets)).toBe(h['subsets'])
        expect(report.methods.map((m) => m.selector.split(':')[0]).join(',')).toBe(h['selector'])
      }
    }
  })
})
