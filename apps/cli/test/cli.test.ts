import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commands, createProgress, exitCodes, mainHelp, parseCommandLine, validateReport } from '@mi-prun/cli'
import { loadTokenizer } from '@mi-prun/eval'
import { TOL_F32_REL } from '@mi-prun/testkit'
import { runMiPrun } from './helpers.js'

const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
const small = ['--seq-len', '32', '--samples', '4', '--tokens', '96']

/** Parameter count straight from the safetensors header: Σ over tensors of Π shape. */
function headerParameters(file: string): number {
  const buf = readFileSync(file)
  const header = JSON.parse(buf.subarray(8, 8 + Number(buf.readBigUInt64LE(0))).toString('utf8')) as Record<
    string,
    { shape?: number[] }
  >
  let n = 0
  for (const [k, v] of Object.entries(header))
    if (k !== '__metadata__') n += v.shape!.reduce((a, b) => a * b, 1)
  return n
}

describe('command line framework', () => {
  it('expands variadic flags and rejects unknown ones with exit code 2', () => {
    const r = parseCommandLine(
      'select',
      ['m', '--calib', 'a.txt', 'b.txt', '--remove', '2'],
      ['calib', 'remove'],
    )
    expect(r.values.calib).toEqual(['a.txt', 'b.txt'])
    expect(r.positionals).toEqual(['m'])
    expect(() => parseCommandLine('select', ['--nope'], ['remove'])).toThrow(
      /unknown flag --nope.*mi-prun select --help/,
    )
  })
  it('has a frozen registry that the help is generated from', () => {
    expect(Object.isFrozen(commands)).toBe(true)
    expect(Object.keys(commands)).toEqual([
      'inspect',
      'score',
      'select',
      'prune',
      'eval',
      'compare',
      'report',
      'demo',
    ])
    for (const name of Object.keys(commands)) expect(mainHelp()).toContain(`  ${name}`)
  })
  it('draws progress bars with an ETA on a TTY and nothing otherwise', () => {
    let tty = ''
    let t = 0
    const p = createProgress({ isTTY: true, write: (s: string) => (tty += s) }, true, () => t)
    const task = p.start('forward pass', 4)
    t = 1000
    task.update(1)
    t = 2000
    task.update(2)
    expect(tty).toContain('forward pass [############------------] 2/4 50% 0:02 ETA 0:02')
    let pipe = ''
    createProgress({ isTTY: false, write: (s: string) => (pipe += s) }, true)
      .start('x', 2)
      .update(1)
    expect(pipe).toBe('')
  })
})

describe('mi-prun on a tiny 4-block model', { timeout: 300_000 }, () => {
  let tmp = ''
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mi-prun-cli-'))
  })
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('inspect --json reports the model read from its files', async () => {
    const r = await runMiPrun(['inspect', model, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as Record<string, unknown>
    expect(j).toMatchObject({
      blocks: 4,
      hiddenSize: 16,
      architecture: 'LlamaForCausalLM',
      format: 'hf-safetensors',
      dtype: 'F32',
    })
    expect(j['parameters']).toBe(headerParameters(join(model, 'model.safetensors')))
  })

  it('select agrees with score: ShortGPT removes the lowest BI, FBS at N = 1 the highest MI; same seed, same bytes', async () => {
    const score = await runMiPrun(['score', model, ...small, '--json', '--quiet'])
    expect(score.code, score.stderr).toBe(0)
    const s = JSON.parse(score.stdout) as {
      blockScores: { scorer: string; values: number[]; settings: { kind: string } }[]
      spanScores: { spans: unknown[] }[]
    }
    expect(s.blockScores.map((b) => b.scorer)).toEqual(['mi:gaussian', 'shortgpt-bi', 'angular'])
    expect(s.spanScores[0]!.spans).toHaveLength(10) // T(T+1)/2
    const bi = s.blockScores[1]!.values
    const lowest2 = bi
      .map((v, i) => [v, i] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .slice(0, 2)
      .map((x) => x[1])
      .sort()
    const mi = s.blockScores[0]!.values
    const argmaxMi = mi.indexOf(Math.max(...mi))

    const sg = await runMiPrun([
      'select',
      model,
      '--remove',
      '2',
      '--selector',
      'shortgpt',
      ...small,
      '--json',
    ])
    expect(sg.code, sg.stderr).toBe(0)
    const sgj = JSON.parse(sg.stdout) as {
      selected: number[]
      selector: string
      settings: object
      trace: unknown
    }
    expect(sgj.selected).toEqual(lowest2)
    expect(sgj.selector).toBe('shortgpt')
    expect(sgj).toHaveProperty('settings')
    expect(sgj).toHaveProperty('trace')
    expect(sg.stderr).not.toContain('\r') // not a TTY: no progress bars

    const f1 = await runMiPrun(['select', model, '--remove', '1', ...small, '--json'])
    const f2 = await runMiPrun(['select', model, '--remove', '1', ...small, '--json'])
    expect(f1.code, f1.stderr).toBe(0)
    const fj = JSON.parse(f1.stdout) as { selected: number[]; selector: string }
    expect(fj.selector).toBe('fbs')
    expect(fj.selected).toEqual([argmaxMi])
    const strip = (o: string): string => o.replace(/"wallMs":[0-9.e+-]+/g, '"wallMs":0')
    expect(strip(f2.stdout)).toBe(strip(f1.stdout))
  })

  it('prune writes a model with T − N blocks whose perplexity equals eval --skip-blocks on the dense model', async () => {
    const out = join(tmp, 'pruned')
    const p = await runMiPrun([
      'prune',
      model,
      '--out',
      out,
      '--remove',
      '1',
      '--selector',
      'shortgpt',
      ...small,
      '--json',
    ])
    expect(p.code, p.stderr).toBe(0)
    const pj = JSON.parse(p.stdout) as { selected: number[]; out: string }
    expect(pj.out).toBe(out)
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).num_hidden_layers).toBe(3)
    expect(JSON.parse(readFileSync(join(out, 'mi_prun_selection.json'), 'utf8')).selected).toEqual(
      pj.selected,
    )
    // mergekit passthrough config beside the pruned model: the kept layer ranges of the 4-block source
    const kept = [0, 1, 2, 3].filter((i) => !pj.selected.includes(i))
    const yaml = readFileSync(join(out, 'mergekit.yaml'), 'utf8')
    expect(yaml).toContain('merge_method: passthrough')
    const ranges = [...yaml.matchAll(/layer_range: \[(\d+), (\d+)\]/g)].flatMap((m) => {
      const a = Number(m[1])
      return Array.from({ length: Number(m[2]) - a }, (_, i) => a + i)
    })
    expect(ranges).toEqual(kept)

    const evalArgs = ['--seq-len', '32', '--max-windows', '4', '--tasks', 'none', '--json']
    const pruned = await runMiPrun(['eval', out, ...evalArgs])
    const skipped = await runMiPrun(['eval', model, '--skip-blocks', pj.selected.join(','), ...evalArgs])
    expect(pruned.code, pruned.stderr).toBe(0)
    expect(skipped.code, skipped.stderr).toBe(0)
    const a = JSON.parse(pruned.stdout) as {
      perplexity: number
      meanNll: number
      tokens: number
      windows: number
    }
    const b = JSON.parse(skipped.stdout) as { perplexity: number; meanNll: number; tokens: number }
    expect(a.tokens).toBe(4 * 31)
    expect(a.windows).toBe(4)
    expect(a.perplexity).toBeCloseTo(Math.exp(a.meanNll), 9)
    expect(Math.abs(a.meanNll - b.meanNll) / b.meanNll).toBeLessThan(TOL_F32_REL)

    // an existing, non-empty output folder is refused (exit 7) and left alone
    const again = await runMiPrun(['prune', model, '--out', out, '--remove', '1', ...small])
    expect(again.code).toBe(exitCodes.io)
    expect(again.stderr).toMatch(/already exists and is not empty: choose another --out or pass --force/)
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).num_hidden_layers).toBe(3)
  })

  it('eval scores the bundled multiple-choice task', async () => {
    const r = await runMiPrun([
      'eval',
      model,
      '--seq-len',
      '32',
      '--max-windows',
      '2',
      '--mc-limit',
      '8',
      '--json',
    ])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as {
      multipleChoice: { items: number; acc: number; accNorm: number; task: string }
    }
    expect(j.multipleChoice.items).toBe(8)
    expect(j.multipleChoice.task).toMatch(/kjv-cloze\.jsonl$/)
    // acc is a multiple of 1/8
    expect(Number.isInteger(j.multipleChoice.acc * 8)).toBe(true)
  })

  it('compare writes a valid report with every method, PPL curves and stability', async () => {
    const out = join(tmp, 'compare')
    const r = await runMiPrun([
      'compare',
      model,
      '--out',
      out,
      '--remove',
      '2',
      '--selector',
      'fbs',
      'shortgpt',
      'random',
      'ppl-rank',
      '--subsets',
      '2',
      ...small,
      '--max-windows',
      '2',
      '--json',
    ])
    expect(r.code, r.stderr).toBe(0)
    const report = validateReport(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')), 'report.json')
    expect(report.methods.map((m) => m.selector)).toEqual(['fbs:gaussian', 'shortgpt', 'random', 'ppl-rank'])
    expect(report.perplexity!.curves.every((c) => c.points.map((p) => p.removed).join() === '1,2')).toBe(true)
    expect(report.stability!.rows).toHaveLength(4)
    for (const row of report.stability!.rows) expect(row.selections).toHaveLength(2)
    // ppl-rank on 4 blocks: one pass per block (4 candidates) at N = 2
    expect(report.methods[3]!.cost.forwardPasses).toBe(4)
    // each score-based method counts its own MI evaluations (fresh memo), plus the one calibration pass
    expect(report.methods[0]!.cost.miEvaluations).toBeGreaterThan(0)
    expect(report.methods[0]!.cost.forwardPasses).toBe(1)
    expect(report.methods[1]!.cost.miEvaluations).toBe(4) // ShortGPT: T block scores
    for (const s of report.blockScores) expect(s.settings).toBeTypeOf('object')
    expect(existsSync(join(out, 'report.html'))).toBe(true)
    // a second demo replaces its own previous output without --force
    const again = await runMiPrun([
      'demo',
      model,
      '--out',
      out,
      '--samples',
      '4',
      '--seq-len',
      '32',
      '--max-windows',
      '2',
      '--json',
    ])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain('replacing the previous mi-prun output')
  })

  it('demo writes both pruned models and the report, and prints the table', async () => {
    const out = join(tmp, 'demo')
    const r = await runMiPrun([
      'demo',
      model,
      '--out',
      out,
      '--samples',
      '4',
      '--seq-len',
      '32',
      '--max-windows',
      '2',
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/dense\s+–\s+[0-9.]+\s+1\.00/)
    for (const m of ['mi-prun', 'shortgpt'])
      expect(JSON.parse(readFileSync(join(out, m, 'config.json'), 'utf8')).num_hidden_layers).toBe(3)
    expect(existsSync(join(out, 'report.html'))).toBe(true)
  })

  it('pre-tokenised ids (.json, .jsonl) give the same scores as the text they came from', async () => {
    const text = readFileSync(
      fileURLToPath(new URL('../assets/kjv-calib.txt', import.meta.url)),
      'utf8',
    ).slice(0, 4000)
    const tok = await loadTokenizer(model)
    const ids = Array.from(tok.encode(text))
    await writeFile(join(tmp, 'calib.txt'), text)
    await writeFile(join(tmp, 'calib.json'), JSON.stringify([ids]))
    await writeFile(join(tmp, 'calib.jsonl'), `${JSON.stringify({ ids })}\n`)
    const args = ['score', model, ...small, '--max-span', '1', '--json', '--quiet']
    const runs = await Promise.all(
      ['calib.txt', 'calib.json', 'calib.jsonl'].map((f) => runMiPrun([...args, '--calib', join(tmp, f)])),
    )
    for (const r of runs) expect(r.code, r.stderr).toBe(0)
    const values = runs.map((r) =>
      (JSON.parse(r.stdout) as { blockScores: { values: number[] }[] }).blockScores.map((b) => b.values),
    )
    expect(values[1]).toEqual(values[0])
    expect(values[2]).toEqual(values[0])
    // ids outside the vocabulary are refused with the range
    await writeFile(join(tmp, 'bad.json'), JSON.stringify([[1, 2, 999]]))
    const bad = await runMiPrun([...args, '--calib', join(tmp, 'bad.json')])
    expect(bad.code).toBe(exitCodes.input)
    expect(bad.stderr).toContain('token ids must be an array of integers in [0, 128)')
  })

  it('usage errors exit 2 and say how to fix them', async () => {
    const r1 = await runMiPrun(['prune', model, '--remove', '1'])
    expect(r1.code).toBe(exitCodes.usage)
    expect(r1.stderr).toContain('prune needs --out DIR')
    const r2 = await runMiPrun(['frobnicate'])
    expect(r2.code).toBe(exitCodes.usage)
    expect(r2.stderr).toMatch(/unknown command "frobnicate": choose one of inspect, score/)
  })
})
