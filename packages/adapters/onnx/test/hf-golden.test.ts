import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openCheckpoint } from '@mi-prun/safetensors'
import { runReference } from '@mi-prun/families'
import { loadHfOnOrt } from '@mi-prun/adapter-onnx'

// HF folders run on ONNX Runtime from a graph built from config.json, against the numpy float64
// goldens of scripts/goldens/hf_forward.py (the same files the TF.js adapter and the float64
// reference engine are checked against), and against the reference engine for skipped blocks.
const repo = join(import.meta.dirname, '..', '..', '..', '..')
const fixtures = join(repo, 'packages/adapters/tfjs/test/fixtures')
const TOL = 1e-4

interface Golden {
  batch: number
  seqLen: number
  ids: Int32Array
  sumNll: number
  logits: Float64Array
  hidden: Float64Array[]
}
function readGolden(dir: string): Golden {
  const meta = JSON.parse(readFileSync(join(dir, 'golden-forward.json'), 'utf8')) as {
    batch: number
    seqLen: number
    ids: number[]
    vocabSize: number
    hiddenSize: number
    numHiddenStates: number
    sumNll: number
    binary: string
  }
  const buf = readFileSync(join(dir, meta.binary))
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
  const N = meta.batch * meta.seqLen
  const hidden = Array.from({ length: meta.numHiddenStates }, (_, i) => {
    const o = N * meta.vocabSize + i * N * meta.hiddenSize
    return all.subarray(o, o + N * meta.hiddenSize)
  })
  return {
    batch: meta.batch,
    seqLen: meta.seqLen,
    ids: Int32Array.from(meta.ids.slice(0, N)),
    sumNll: meta.sumNll,
    logits: all.subarray(0, N * meta.vocabSize),
    hidden,
  }
}
/** max|a − b| / max|b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  let s = 0
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!))
    s = Math.max(s, Math.abs(b[i]!))
  }
  return m / Math.max(s, 1e-30)
}

const cases = [
  ...['llama-gqa', 'mistral-bf16', 'qwen2-f16', 'gpt2-sharded'].map((n) => [n, join(fixtures, n)] as const),
  ['llama-kjv', join(repo, 'models/llama-kjv')] as const,
].filter(([, d]) => existsSync(join(d, 'golden-forward.json')))

export const worst = { hidden: 0, logits: 0, nll: 0, skip: 0 }

describe.each(cases)('HF on ONNX Runtime: %s', (name, dir) => {
  const g = readGolden(dir)
  const batch = { ids: g.ids, batch: g.batch, seqLen: g.seqLen }
  it('logits, h_0..h_T and NLL equal the numpy float64 golden', async () => {
    const model = await loadHfOnOrt(dir, { intraOpNumThreads: 1 })
    try {
      expect(model.info.numBlocks + 1).toBe(g.hidden.length)
      expect(model.info.backend).toBe('onnxruntime-cpu')
      const r = await model.forward(batch, { hiddenStates: true })
      const el = relErr(r.logits!.data, g.logits)
      expect(el).toBeLessThanOrEqual(TOL)
      r.hiddenStates!.forEach((h, i) => {
        const e = relErr(h.data, g.hidden[i]!)
        worst.hidden = Math.max(worst.hidden, e)
        expect(e, `h_${i}`).toBeLessThanOrEqual(TOL)
      })
      const nll = await model.nll(batch)
      const en = Math.abs(nll.sumNll - g.sumNll) / g.sumNll
      expect(en).toBeLessThanOrEqual(TOL)
      expect(nll.tokens).toBe(g.batch * (g.seqLen - 1))
      worst.logits = Math.max(worst.logits, el)
      worst.nll = Math.max(worst.nll, en)
      console.log(`${name}: max rel err logits ${el.toExponential(2)}, nll ${en.toExponential(2)}`)
    } finally {
      await model.dispose()
    }
  })
  it('skipped blocks and a start block equal the float64 reference engine', async () => {
    const model = await loadHfOnOrt(dir, { intraOpNumThreads: 1 })
    try {
      const T = model.info.numBlocks
      const ckpt = openCheckpoint(dir)
      const load = (n: string) => ({ data: ckpt.readF32(n), shape: ckpt.tensors.get(n)!.shape })
      for (const skip of [[1], [0, T - 1]]) {
        const ref = runReference(model.arch, load, g.ids, g.batch, g.seqLen, {
          skip: new Set(skip),
          hiddenStates: true,
        })
        const r = await model.forward(batch, { hiddenStates: true, skip })
        const e = relErr(r.logits!.data, ref.logits)
        worst.skip = Math.max(worst.skip, e)
        expect(e, `skip ${skip}`).toBeLessThanOrEqual(TOL)
        r.hiddenStates!.forEach((h, i) =>
          expect(relErr(h.data, ref.hiddenStates![i]!)).toBeLessThanOrEqual(TOL),
        )
        // a skipped block passes its input through exactly
        for (const s of skip)
          expect(
            Buffer.from(r.hiddenStates![s + 1]!.data.buffer).equals(
              Buffer.from(r.hiddenStates![s]!.data.buffer),
            ),
          ).toBe(true)
      }
      // starting at block 1 from h_1 gives the dense logits
      const dense = await model.forward(batch, { hiddenStates: true })
      const fromOne = await model.forward(batch, { start: { block: 1, state: dense.hiddenStates![1]! } })
      expect(relErr(fromOne.logits!.data, Float64Array.from(dense.logits!.data))).toBeLessThanOrEqual(1e-6)
      const nllStart = await model.nll(batch, {
        start: { block: 1, state: dense.hiddenStates![1]! },
        skip: [T - 1],
      })
      const nllSkip = await model.nll(batch, { skip: [T - 1] })
      expect(Math.abs(nllStart.sumNll - nllSkip.sumNll) / nllSkip.sumNll).toBeLessThanOrEqual(1e-6)
      // hidden states only: the head is not needed
      const h = await model.forward(batch, { hiddenStates: true, logits: false })
      expect(h.logits).toBeUndefined()
      expect(h.hiddenStates!.length).toBe(T + 1)
    } finally {
      await model.dispose()
    }
  })
})
