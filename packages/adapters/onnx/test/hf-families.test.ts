import { existsSync, readFileSync } from 'node:fs'
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
describe.skipIf(names.length === 0)('family fixtures on ONNX Runtime', () => {
  it.each(names)('%s: mean NLL and logits, dense and with each block skipped', async (name) => {
    const m = manifest!
    const g = JSON.parse(readFileSync(join(dir, name, 'golden.json'), 'utf8')) as FamilyGolden
    const model = await loadHfOnOrt(join(dir, name), { intraOpNumThreads: 1 })
    try {
      const batch = { ids: Int32Array.from(m.ids), batch: m.batch, seqLen: m.seqLen }
      const V = model.info.vocabSize
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
        expect(err / scale, `logits, skip [${skip}]`).toBeLessThanOrEqual(TOL)
        const nll = await model.nll(batch, { skip })
        const mean = nll.sumNll / nll.tokens
        expect(Math.abs(mean - want.meanNll) / want.meanNll, `NLL, skip [${skip}]`).toBeLessThanOrEqual(TOL)
      }
      await check([], g.dense)
      for (const s of g.skips) await check([s.skip], s)
    } finally {
      await model.dispose()
    }
  })
})
