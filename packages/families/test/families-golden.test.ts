import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openCheckpoint } from '@mi-prun/safetensors'
import { parseModel, runReference, sumNextTokenNll } from '@mi-prun/families'

// transformers-5 checkpoints and float64 goldens written by scripts/fixtures/make_families.py
const dir = join(import.meta.dirname, '..', '..', 'testkit', 'fixtures', 'families')
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  batch: number
  seqLen: number
  logitCols: number
  ids: number[]
  families: Record<string, { modelType: string; dtype: string; sharded: boolean; numBlocks: number }>
}

interface Run {
  meanNll: number
  logits: number[]
}
interface Golden {
  dense: Run
  skips: (Run & { skip: number })[]
}

/** Every family in the manifest must be listed here: a new fixture without a test fails. */
const FAMILIES = [
  'gemma2',
  'gemma3',
  'gpt_neox',
  'granite',
  'llama3',
  'llama_dynamic',
  'llama_yarn',
  'mixtral',
  'olmo2',
  'phi3',
  'phi3_longrope',
  'qwen2',
  'qwen3',
  'qwen3_moe',
  'smollm3',
] as const

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b)

/** Largest relative error per family (printed once, for the issue notes). */
const worst: Record<string, number> = {}

describe('float64 reference engine vs transformers (float64) goldens', () => {
  it('every fixture family is tested', () => {
    expect(Object.keys(manifest.families).sort()).toEqual([...FAMILIES])
  })
  for (const name of FAMILIES) {
    it(`${name}: mean NLL and logits, dense and with each block skipped`, () => {
      const d = join(dir, name)
      const ckpt = openCheckpoint(d)
      const arch = parseModel(ckpt.config, new Set(ckpt.tensors.keys()))
      const g = JSON.parse(readFileSync(join(d, 'golden.json'), 'utf8')) as Golden
      const { batch: B, seqLen: S, logitCols: C, ids } = manifest
      const load = (n: string) => {
        const t = ckpt.tensors.get(n)
        if (t === undefined) throw new Error(`${name}: no tensor ${n}`)
        return { data: ckpt.readF32(n), shape: t.shape }
      }
      expect(g.skips.length).toBe(arch.numBlocks)
      let w = 0
      for (const run of [{ skip: -1, ...g.dense }, ...g.skips]) {
        const r = runReference(arch, load, ids, B, S, { skip: new Set(run.skip < 0 ? [] : [run.skip]) })
        const nll = sumNextTokenNll(r.logits, ids, B, S, arch.vocabSize)
        const e = rel(nll.sumNll / nll.tokens, run.meanNll)
        let scale = 0
        let diff = 0
        for (let p = 0; p < S; p++)
          for (let c = 0; c < C; c++) {
            scale = Math.max(scale, Math.abs(run.logits[p * C + c]!))
            diff = Math.max(diff, Math.abs(r.logits[p * arch.vocabSize + c]! - run.logits[p * C + c]!))
          }
        w = Math.max(w, e, diff / scale)
        expect(e, `skip ${run.skip}: NLL`).toBeLessThan(1e-4)
        expect(diff / scale, `skip ${run.skip}: logits`).toBeLessThan(1e-4)
      }
      worst[name] = w
      if (Object.keys(worst).length === FAMILIES.length) console.log('largest relative error', worst)
    })
  }
})
