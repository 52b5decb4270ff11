import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exitCodes, OUTPUT_MARKER } from '@mi-prun/cli'
import { repoRoot, runMiPrun, syntheticReport } from './helpers.js'

const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
const small = ['--seq-len', '32', '--samples', '4', '--tokens', '96']

/** Spawns the real CLI held in `phase`; resolves once it says it is there, with a way to signal it. */
function spawnHeld(args: readonly string[], phase: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions', '@mi-prun/source', bin, ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, FORCE_COLOR: '0', MI_PRUN_HOLD_PHASE: phase },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  const closed = new Promise<{ code: number | null; signal: string | null; stderr: string }>((res) =>
    child.on('close', (code, signal) => res({ code, signal, stderr })),
  )
  const held = new Promise<void>((res, rej) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes(`holding in the ${phase} phase`)) res()
    })
    void closed.then((r) => rej(new Error(`exited ${r.code} before the ${phase} phase: ${r.stderr}`)))
  })
  return { child, held, closed }
}

describe('interrupts and --force lose nothing and leave nothing', { timeout: 300_000 }, () => {
  let tmp = ''
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mi-prun-int-'))
  })
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  const cases = [
    ['prune', 'load', 'SIGINT', 130],
    ['prune', 'select', 'SIGTERM', 143],
    ['prune', 'write', 'SIGINT', 130],
    ['demo', 'write', 'SIGTERM', 143],
    ['compare', 'load', 'SIGINT', 130],
  ] as const
  for (const [cmd, phase, signal, code] of cases) {
    it(`${cmd}: ${signal} in the ${phase} phase exits ${code} with one line and leaves nothing beside --out`, async () => {
      const dir = join(tmp, `${cmd}-${phase}`)
      await mkdir(dir)
      const out = join(dir, 'out')
      const args =
        cmd === 'demo'
          ? ['demo', model, '--out', out, '--samples', '4', '--seq-len', '32', '--max-windows', '2']
          : cmd === 'compare'
            ? [
                'compare',
                model,
                '--out',
                out,
                '--remove',
                '1',
                '--selector',
                'shortgpt',
                '--subsets',
                '1',
                ...small,
              ]
            : ['prune', model, '--out', out, '--remove', '1', '--selector', 'fbs', ...small]
      const run = spawnHeld(args, phase)
      await run.held
      if (phase === 'write') {
        // the staging folder holds the unfinished model right now
        const staging = readdirSync(dir).filter((e) => e.startsWith('.out.staging-'))
        expect(staging.length).toBeGreaterThan(0)
        expect(readdirSync(join(dir, staging[0]!)).length).toBeGreaterThan(0)
      }
      run.child.kill(signal)
      const r = await run.closed
      expect(r.code).toBe(code)
      const lines = r.stderr.trim().split('\n')
      expect(lines[lines.length - 1]).toMatch(new RegExp(`^mi-prun: interrupted by ${signal}; `))
      if (phase === 'write') expect(lines[lines.length - 1]).toContain('removed the unfinished output')
      expect(readdirSync(dir)).toEqual([])
    })
  }

  it('a run killed with SIGKILL leaves a staging folder; the next run removes it and names it', async () => {
    const dir = join(tmp, 'killed')
    await mkdir(dir)
    const out = join(dir, 'out')
    const run = spawnHeld(['prune', model, '--out', out, '--remove', '1', ...small], 'write')
    await run.held
    run.child.kill('SIGKILL')
    await run.closed
    const left = readdirSync(dir).filter((e) => e.startsWith('.out.staging-'))
    expect(left.length).toBeGreaterThan(0)
    // a hidden folder of another naming scheme is not ours and stays
    await mkdir(join(dir, '.out.staging-notours'))
    const r = await runMiPrun(['prune', model, '--out', out, '--remove', '1', ...small])
    expect(r.code, r.stderr).toBe(0)
    for (const l of left)
      expect(r.stderr).toContain(`removed ${join(dir, l)}, left by an interrupted mi-prun run`)
    expect(readdirSync(dir).sort()).toEqual(['.out.staging-notours', 'out'])
    expect(existsSync(join(out, OUTPUT_MARKER))).toBe(true)
  })

  it('an error after staging removes the staging folder', async () => {
    const dir = join(tmp, 'error')
    await mkdir(dir)
    const r = await runMiPrun([
      'compare',
      model,
      '--out',
      join(dir, 'out'),
      '--remove',
      '1',
      '--calib',
      join(dir, 'missing.txt'),
      ...small,
    ])
    expect(r.code).toBe(exitCodes.io)
    expect(readdirSync(dir)).toEqual([])
  })

  it('--force replaces only a folder mi-prun wrote; never a plain file; other folders are refused by name', async () => {
    const dir = join(tmp, 'force')
    await mkdir(join(dir, 'thesis', 'sub'), { recursive: true })
    await writeFile(join(dir, 'thesis', 'thesis.tex'), 'my thesis')
    await writeFile(join(dir, 'thesis', 'sub', 'data.csv'), '1,2')
    const r1 = await runMiPrun([
      'prune',
      model,
      '--out',
      join(dir, 'thesis'),
      '--remove',
      '1',
      '--force',
      ...small,
    ])
    expect(r1.code).toBe(exitCodes.io)
    expect(r1.stderr).toMatch(
      /holds files mi-prun did not write \(sub, thesis\.tex; no \.mi-prun-output\.json\)/,
    )
    expect(readFileSync(join(dir, 'thesis', 'thesis.tex'), 'utf8')).toBe('my thesis')
    expect(readFileSync(join(dir, 'thesis', 'sub', 'data.csv'), 'utf8')).toBe('1,2')
    await writeFile(join(dir, 'plain'), 'a file')
    const r2 = await runMiPrun([
      'prune',
      model,
      '--out',
      join(dir, 'plain'),
      '--remove',
      '1',
      '--force',
      ...small,
    ])
    expect(r2.code).toBe(exitCodes.io)
    expect(r2.stderr).toContain('is a file, not a folder')
    expect(readFileSync(join(dir, 'plain'), 'utf8')).toBe('a file')
    const out = join(dir, 'ours')
    const p1 = await runMiPrun(['prune', model, '--out', out, '--remove', '1', ...small])
    expect(p1.code, p1.stderr).toBe(0)
    const p2 = await runMiPrun(['prune', model, '--out', out, '--remove', '2', '--force', ...small])
    expect(p2.code, p2.stderr).toBe(0)
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).num_hidden_layers).toBe(2)
    expect(readdirSync(dir).sort()).toEqual(['ours', 'plain', 'thesis'])
  })

  it('report --out X/ writes X/report.html; an existing foreign file needs --force', async () => {
    const dir = join(tmp, 'report')
    await mkdir(dir)
    const run = join(dir, 'run.json')
    await writeFile(run, JSON.stringify(syntheticReport()))
    const r1 = await runMiPrun(['report', run, '--out', `${join(dir, 'X')}/`])
    expect(r1.code, r1.stderr).toBe(0)
    expect(existsSync(join(dir, 'X', 'report.html'))).toBe(true)
    // its own earlier report is replaced; a file it did not write is not, unless --force
    expect((await runMiPrun(['report', run, '--out', `${join(dir, 'X')}/`])).code).toBe(0)
    await writeFile(join(dir, 'notes.html'), 'mine')
    const r2 = await runMiPrun(['report', run, '--out', join(dir, 'notes.html')])
    expect(r2.code).toBe(exitCodes.io)
    expect(r2.stderr).toContain('already exists and is not a report mi-prun wrote')
    expect(readFileSync(join(dir, 'notes.html'), 'utf8')).toBe('mine')
    const r3 = await runMiPrun(['report', run, '--out', join(dir, 'notes.html'), '--force'])
    expect(r3.code, r3.stderr).toBe(0)
    expect(readFileSync(join(dir, 'notes.html'), 'utf8')).toContain(
      '<meta name="generator" content="mi-prun">',
    )
  })
})
