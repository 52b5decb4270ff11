import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMiPrun } from './helpers.js'

const corpus = fileURLToPath(new URL('./fixtures/hostile/', import.meta.url))
const cases = readdirSync(corpus)
  .filter((d) => !d.startsWith('_'))
  .sort()

interface HostileCase {
  description: string
  args: string[]
  exitCode: number
  message: string
}

describe('hostile inputs through the CLI', { timeout: 300_000 }, () => {
  let tmp = ''
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mi-prun-hostile-'))
  })
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('covers every case of the issue', () => {
    expect(cases).toEqual([
      'broken-onnx',
      'budget-too-large',
      'empty-calibration',
      'k-too-large',
      'malformed-config',
      'missing-model',
      'nan-weights',
      'oversized-safetensors',
      'path-escaping-shard-index',
      'truncated-safetensors',
      'unsupported-architecture',
    ])
  })

  for (const name of cases) {
    it(`${name}: exits non-zero with a clear message and writes nothing`, async () => {
      const c = JSON.parse(readFileSync(join(corpus, name, 'case.json'), 'utf8')) as HostileCase
      const parent = join(tmp, name)
      const out = join(parent, 'out')
      const args = c.args.map((a) =>
        a
          .replaceAll('{fixtures}', corpus.replace(/\/$/, ''))
          .replaceAll('{model}', join(corpus, '_model'))
          .replaceAll('{out}', out),
      )
      const r = await runMiPrun([...args, '--json'])
      expect(r.code, `${c.description}\n${r.stderr}`).toBe(c.exitCode)
      // one line on stderr starting with "error:", naming the problem; no stack trace
      expect(r.stderr).toMatch(/^(.*\n)*error: \[@mi-prun\//)
      expect(r.stderr.toLowerCase()).toContain(c.message.toLowerCase())
      expect(r.stderr).not.toMatch(/\n\s+at /)
      // --json still prints exactly one JSON object, the error
      const json = JSON.parse(r.stdout) as { error: { exitCode: number; message: string } }
      expect(json.error.exitCode).toBe(c.exitCode)
      // nothing written: no output folder, no staging leftovers
      expect(existsSync(out)).toBe(false)
      expect(existsSync(parent) ? readdirSync(parent) : []).toEqual([])
    })
  }
})
