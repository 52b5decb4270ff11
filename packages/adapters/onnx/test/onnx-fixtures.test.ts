// The ONNX files the ecosystem writes today (scripts/fixtures/make_onnx.py: torch's TorchScript and dynamo
// exporters, the optimum KV-cache signature, onnxruntime's float16 converter and quantizers, both external-data
// conventions), each checked against its golden: dense, every block skipped, and every block pruned (the
// exported folder reloaded). Results go to test/results/onnx-fixtures.json when MI_PRUN_UPDATE_RESULTS=1 and
// are checked against it otherwise, so a variant that stops working fails here.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Matrix, TokenBatch } from '@mi-prun/core'
import { loadOnnxModel, nllFromLogits } from '@mi-prun/adapter-onnx'

const ort = () => import('onnxruntime-node')
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'testkit', 'fixtures', 'onnx-eco')
const RESULTS = join(import.meta.dirname, 'results', 'onnx-fixtures.json')
const UPDATE = process.env.MI_PRUN_UPDATE_RESULTS === '1'
/** fp32 files against transformers / ORT: 1e-4 relative (the bound). */
const TOL_F32 = 1e-4
/** int8 / q4 files against ORT running the unpruned file with the block bypassed (same kernels). */
const TOL_QUANT = 1e-4
/**
 * fp16 files against the same ORT reference: 5e-3 relative. The pruned graph has fewer nodes, so ORT
 * fuses it differently; the bypassed reference itself moves by ~1e-3 of the logits between ORT's
 * basic and full optimisation levels (about 2 fp16 ulps).
 */
const TOL_FP16 = 5e-3
const tolerance = (variant: string): number =>
  variant.startsWith('fp16') ? TOL_FP16 : variant === 'int8' || variant === 'q4' ? TOL_QUANT : TOL_F32

interface Summary {
  readonly nll: number
  readonly lastLogits: readonly (readonly number[])[]
}
interface Golden {
  readonly batch: number
  readonly seqLen: number
  readonly ids: readonly number[]
  readonly numBlocks: number
  readonly dense: Summary
  readonly skip: readonly Summary[]
}
interface Result {
  forward: boolean
  skip: boolean
  prune: boolean
  maxRelError: number
}

const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-onnx-eco-'))
const results: Record<string, Result> = {}
const committed: { fixtures: Record<string, Result> } = existsSync(RESULTS)
  ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as { fixtures: Record<string, Result> })
  : { fixtures: {} }

/** Relative error of (nll, last-position logits) against a golden summary. */
function errorOf(logits: Matrix, b: TokenBatch, g: Summary): number {
  const { sumNll } = nllFromLogits(logits, b)
  let num = 0
  let den = 1e-30
  for (let r = 0; r < b.batch; r++) {
    const row = (r * b.seqLen + b.seqLen - 1) * logits.cols
    g.lastLogits[r]!.forEach((v, k) => {
      num = Math.max(num, Math.abs(logits.data[row + k]! - v))
      den = Math.max(den, Math.abs(v))
    })
  }
  return Math.max(Math.abs(sumNll - g.nll) / Math.abs(g.nll), num / den)
}

const cases: [string, string][] = []
if (existsSync(FIXTURES)) {
  for (const fam of readdirSync(FIXTURES).sort()) {
    const d = join(FIXTURES, fam)
    if (!existsSync(join(d, 'ts'))) continue
    for (const v of readdirSync(d).sort()) if (existsSync(join(d, v, 'golden.json'))) cases.push([fam, v])
  }
}

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
  if (UPDATE && cases.length > 0) {
    const sorted = Object.fromEntries(Object.entries(results).sort(([a], [b]) => (a < b ? -1 : 1)))
    writeFileSync(RESULTS, JSON.stringify({ fixtures: sorted }, null, 2) + '\n')
  }
})

describe.each(cases)('onnx-eco %s/%s', (fam, variant) => {
  const key = `${fam}/${variant}`
  const dir = join(FIXTURES, fam, variant)
  const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as Golden
  const b: TokenBatch = { batch: golden.batch, seqLen: golden.seqLen, ids: Int32Array.from(golden.ids) }
  const tol = tolerance(variant)
  const res: Result = { forward: false, skip: false, prune: false, maxRelError: 0 }
  results[key] = res
  const note = (e: number): void => {
    res.maxRelError = Math.max(res.maxRelError, e)
  }

  let failure: string | undefined

  it('forward, every block skipped, every block pruned: compared with the golden', async () => {
    let adapter: Awaited<ReturnType<typeof loadOnnxModel>> | undefined
    try {
      adapter = await loadOnnxModel(dir, { ort, intraOpNumThreads: 1 })
      expect(adapter.info.numBlocks).toBe(golden.numBlocks)
      const dense = await adapter.forward(b, { hiddenStates: true })
      expect(dense.hiddenStates).toHaveLength(golden.numBlocks + 1)
      const e0 = errorOf(dense.logits!, b, golden.dense)
      note(e0)
      res.forward = e0 <= tol
      let skipOk = true
      for (let i = 0; i < golden.numBlocks; i++) {
        const { logits } = await adapter.forward(b, { skip: [i] })
        const e = errorOf(logits!, b, golden.skip[i]!)
        note(e)
        skipOk &&= e <= tol
      }
      res.skip = skipOk
      let pruneOk = true
      for (let i = 0; i < golden.numBlocks; i++) {
        const out = join(tmp, `${fam}-${variant}-${i}`)
        await adapter.exportPruned([i], out)
        // External data keeps the input's own file-name convention (model.onnx.data / model.onnx_data).
        expect(
          readdirSync(out)
            .filter((f) => f.startsWith('model.onnx'))
            .sort(),
        ).toEqual(
          readdirSync(dir)
            .filter((f) => f.startsWith('model.onnx'))
            .sort(),
        )
        const pruned = await loadOnnxModel(out, { ort, intraOpNumThreads: 1 })
        try {
          expect(pruned.info.numBlocks).toBe(golden.numBlocks - 1)
          const { logits } = await pruned.forward(b)
          const e = errorOf(logits!, b, golden.skip[i]!)
          note(e)
          pruneOk &&= e <= tol
        } finally {
          await pruned.dispose()
        }
      }
      res.prune = pruneOk
    } catch (e) {
      // Recorded, not thrown: the committed results say which variants work; the next test compares.
      failure = (e as Error).message
      if (UPDATE) console.warn(`${key}: ${failure}`)
    } finally {
      await adapter?.dispose()
    }
  })

  it.skipIf(UPDATE)('matches the committed results', () => {
    const want = committed.fixtures[key]
    expect(want, `${key} is missing from ${RESULTS}: run with MI_PRUN_UPDATE_RESULTS=1`).toBeDefined()
    expect(failure === undefined || !want!.forward, `${key} failed: ${failure}`).toBe(true)
    expect({ forward: res.forward, skip: res.skip, prune: res.prune }).toEqual({
      forward: want!.forward,
      skip: want!.skip,
      prune: want!.prune,
    })
    expect(res.maxRelError).toBeLessThanOrEqual(Math.max(want!.maxRelError * 2, 1e-6))
  })
})
