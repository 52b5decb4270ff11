import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')

describe('compatibility table', () => {
  it('is the current output of scripts/compat-table.mjs (fixture manifests + recorded test results)', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts', 'compat-table.mjs'), '--check'], {
      encoding: 'utf8',
    })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
  })
  it('lists every family fixture and every ONNX fixture family', () => {
    const page = readFileSync(join(root, 'docs', 'guide', 'compatibility.md'), 'utf8')
    const fam = JSON.parse(
      readFileSync(join(root, 'packages/testkit/fixtures/families/manifest.json'), 'utf8'),
    ) as { families: Record<string, unknown> }
    const onnx = JSON.parse(
      readFileSync(join(root, 'packages/testkit/fixtures/onnx-eco/manifest.json'), 'utf8'),
    ) as { families: Record<string, unknown> }
    for (const name of [...Object.keys(fam.families), ...Object.keys(onnx.families)])
      expect(page).toMatch(new RegExp(`^\\| ${name} +\\|`, 'm'))
  })
})
