import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadHfOnOrt } from '@mi-prun/adapter-onnx'

// Every family fixture of packages/testkit/fixtures/families (written by transformers itself with
// scripts/fixtures/make_families.py, goldens in float64 by transformers, dense and with each block
// skipped) run through the ONNX Runtime engine: mean NLL and the logits slice must match.
const root = join(import.meta.dirname, '..', '..', '..', '..')
const dir = join(root, 'packages/testkit/fixtures/families')
const manifestPath = join(dir, 'manifest.json')
const manifest = existsSync(manifestPath)
  ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as {
      batch: number
      seqLen: number
      logitCols: number
      ids: number[]
      families: Record<string, unknown>
    })
  : undefined
interface FamilyGolden {
  dense: { meanNll: number; logits: number[] }
  skips: { skip: number; meanNll: number; logits: number[] }[]
}
const TOL = 1e-4

const names = manifest === undefined ? [] : Object.keys(manifest.families)
const measured: Record<string, number> = {}
describe.skipIf(names.length === 0)('family fixtures on ONNX Runtime', () => {
  it.each(names)('%s: mean NLL and logits, dense and with each block skipped', async (name) => {
    const m = manifest!
    const g = JSON.parse(readFileSync(join(dir, name, 'golden.json'), 'utf8')) as FamilyGolden
    const model = await loadHfOnOrt(join(dir, name), { intraOpNumThreads: 1 })
    try {
      const batch = { ids: Int32Array.from(m.ids), batch: m.batch, seqLen: m.seqLen }
      const V = model.info.vocabSize
      const worst = { logits: 0, nll: 0 }
      const check = async (skip: number[], want: { meanNll: number; logits: number[] }) => {
        const { logits } = await model.forward(batch, { skip })
        let err = 0
        let scale = 0
        for (let t = 0; t < m.seqLen; t++)
          for (let c = 0; c < m.logitCols; c++) {
            const w = want.logits[t * m.logitCols + c]!
            err = Math.max(err, Math.abs(logits!.data[t * V + c]! - w))
            scale = Math.max(scale, Math.abs(w))
          }
        worst.logits = Math.max(worst.logits, err / scale)
        expect(err / scale, `logits, skip [${skip}]`).toBeLessThanOrEqual(TOL)
        const nll = await model.nll(batch, { skip })
        const mean = nll.sumNll / nll.tokens
        const en = Math.abs(mean - want.meanNll) / want.meanNll
        worst.nll = Math.max(worst.nll, en)
        expect(en, `NLL, skip [${skip}]`).toBeLessThanOrEqual(TOL)
      }
      await check([], g.dense)
      for (const s of g.skips) await check([s.skip], s)
      console.log(
        `${name}: max rel err logits ${worst.logits.toExponential(2)}, mean NLL ${worst.nll.toExponential(2)}`,
      )
      measured[name] = Math.max(worst.logits, worst.nll)
    } finally {
      await model.dispose()
    }
  })
  // What the compatibility table (scripts/compat-table.mjs) shows for this engine comes from here: written
  // with MI_PRUN_UPDATE_RESULTS=1, otherwise every recorded verdict must be what this run found.
  it('the recorded results (test/results/hf-families.json) are what this run measured', () => {
    if (Object.keys(measured).length !== names.length) return // a filtered run: nothing to compare
    const file = join(import.meta.dirname, 'results', 'hf-families.json')
    const families = Object.fromEntries(
      names.map((n) => [
        n,
        { forward: measured[n]! <= TOL, skip: measured[n]! <= TOL, maxRelError: measured[n]! },
      ]),
    )
    if (process.env.MI_PRUN_UPDATE_RESULTS === '1')
      writeFileSync(file, JSON.stringify({ tolerance: TOL, families }, null, 2) + '\n')
    const recorded = JSON.parse(readFileSync(file, 'utf8')) as {
      families: Record<string, { forward: boolean; skip: boolean; maxRelError: number }>
    }
    for (const n of names) {
      const r = recorded.families[n]
      expect(r, `${n} missing from ${file}: run with MI_PRUN_UPDATE_RESULTS=1`).toBeDefined()
      expect([r!.forward, r!.skip], n).toEqual([families[n]!.forward, families[n]!.skip])
      expect(r!.maxRelError, n).toBeLessThanOrEqual(TOL)
    }
  })
})
