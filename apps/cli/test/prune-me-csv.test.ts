import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { runMiPrun } from './helpers.js'

const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-prune-me-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const small = [
  '--samples',
  '8',
  '--seq-len',
  '16',
  '--tokens',
  '256',
  '--estimator',
  'gaussian',
  '--reducer',
  'rp:4',
]

describe('score --prune-me-csv', () => {
  it('writes one row per (l, n) with the angular distances score reports', async () => {
    const csv = join(tmp, 'sub', 'layer_distances.csv')
    const r = await runMiPrun(['score', model, ...small, '--prune-me-csv', csv, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as {
      numBlocks: number
      spanScores: { scorer: string; spans: { start: number; length: number; value: number }[] }[]
    }
    const T = j.numBlocks
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n')
    expect(lines[0]).toBe('block_start,block_end,n,average_distance')
    expect(lines.length - 1).toBe((T * (T + 1)) / 2)
    const angular = j.spanScores.find((s) => s.scorer === 'angular')!
    for (const line of lines.slice(1)) {
      const [l, e, n, d] = line.split(',').map(Number) as [number, number, number, number]
      expect(e).toBe(l + n)
      const want = angular.spans.find((s) => s.start === l && s.length === n)!
      expect(d).toBe(want.value)
      expect(d).toBeGreaterThanOrEqual(0)
      expect(d).toBeLessThanOrEqual(1)
    }
  })
  it('refuses an existing file before loading the model (exit 2), leaving it untouched', async () => {
    const csv = join(tmp, 'mine.csv')
    writeFileSync(csv, 'my data\n')
    const r = await runMiPrun(['score', join(tmp, 'no-such-model'), '--prune-me-csv', csv])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/already exists/)
    expect(readFileSync(csv, 'utf8')).toBe('my data\n')
  })
})
