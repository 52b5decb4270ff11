import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { floatPaths, prunedConfig, serializeConfig } from '@mi-prun/families'

// The pruned configs that `make_families.py --check-export` loads in transformers (with the
// checkpoint cut the same way) to check the export reloads with the skipped model's NLL. They are
// prunedConfig's output, committed; this test fails when they go stale. Regenerate with
// UPDATE_PRUNED=1 npx vitest run packages/families/test/pruned-export.test.ts
const dir = join(import.meta.dirname, '..', '..', 'testkit', 'fixtures', 'families')

describe('committed pruned configs are prunedConfig output', () => {
  for (const fx of readdirSync(dir).filter((f) => !f.endsWith('.json'))) {
    it(fx, () => {
      const text = readFileSync(join(dir, fx, 'config.json'), 'utf8')
      const cfg = JSON.parse(text) as Record<string, unknown>
      const n = (cfg['num_hidden_layers'] ?? cfg['n_layer']) as number
      const out = join(dir, fx, 'pruned')
      for (let i = 0; i < n; i++) {
        const want = serializeConfig(prunedConfig(cfg, [i]), text)
        const file = join(out, `without-block-${i}.config.json`)
        if (process.env['UPDATE_PRUNED'] === '1') {
          mkdirSync(out, { recursive: true })
          writeFileSync(`${file}.tmp`, want)
          renameSync(`${file}.tmp`, file)
        }
        expect(existsSync(file), file).toBe(true)
        expect(readFileSync(file, 'utf8')).toBe(want)
      }
    })
  }
})

describe('serializeConfig', () => {
  it('writes back as floats the numbers the original wrote as floats (transformers 5 refuses 30 for a float field)', () => {
    const text = '{"a": 30.0, "b": 30, "c": {"d": [1.0, 2, 1e6]}, "s": "1.0", "e": []}'
    const out = serializeConfig(JSON.parse(text), text)
    expect(out).toContain('"a": 30.0')
    expect(out).toContain('"b": 30,')
    expect(out.replace(/\s+/g, '')).toContain('"d":[1.0,2,1000000.0]')
    expect(JSON.parse(out)).toEqual(JSON.parse(text))
  })
  it('the transformers fixture configs round-trip with every float still a float', () => {
    for (const fx of readdirSync(dir).filter((f) => !f.endsWith('.json'))) {
      const text = readFileSync(join(dir, fx, 'config.json'), 'utf8')
      const out = serializeConfig(JSON.parse(text), text)
      expect(JSON.parse(out), fx).toEqual(JSON.parse(text))
      expect([...floatPaths(out)].sort(), fx).toEqual([...floatPaths(text)].sort())
      expect(floatPaths(text).size, fx).toBeGreaterThan(0)
    }
  })
})

describe('export-check.json (make_families.py --check-export, run with transformers)', () => {
  it('every fixture, every removed block: the reloaded pruned export has the skipped model NLL', () => {
    const r = JSON.parse(readFileSync(join(dir, 'export-check.json'), 'utf8')) as {
      families: Record<string, { removed: number; relErr: number }[]>
    }
    const fxs = readdirSync(dir).filter((f) => !f.endsWith('.json'))
    expect(Object.keys(r.families).sort()).toEqual(fxs.sort())
    for (const fx of fxs) {
      const cfg = JSON.parse(readFileSync(join(dir, fx, 'config.json'), 'utf8')) as Record<string, unknown>
      expect(r.families[fx]!.map((x) => x.removed)).toEqual([
        ...Array(cfg['num_hidden_layers'] as number).keys(),
      ])
      for (const row of r.families[fx]!) expect(row.relErr).toBeLessThan(1e-9)
    }
  })
})
