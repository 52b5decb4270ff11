import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openCheckpoint } from '@mi-prun/safetensors'
import { parseModel, runReference, sumNextTokenNll } from '@mi-prun/families'

// numpy float64 goldens written by scripts/goldens/hf_forward.py for the four original families
const root = join(import.meta.dirname, '..', '..', '..')
const cases = [
  ['llama-gqa', join(root, 'packages/adapters/tfjs/test/fixtures/llama-gqa')],
  ['mistral-bf16', join(root, 'packages/adapters/tfjs/test/fixtures/mistral-bf16')],
  ['qwen2-f16', join(root, 'packages/adapters/tfjs/test/fixtures/qwen2-f16')],
  ['gpt2-sharded', join(root, 'packages/adapters/tfjs/test/fixtures/gpt2-sharded')],
  ['llama-kjv', join(root, 'models/llama-kjv')],
] as const

function golden(dir: string) {
  const meta = JSON.parse(readFileSync(join(dir, 'golden-forward.json'), 'utf8')) as {
    batch: number
    seqLen: number
    ids: number[]
    vocabSize: number
    hiddenSize: number
    numHiddenStates: number
    sumNll: number
  }
  const buf = readFileSync(join(dir, 'golden-forward.bin'))
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
  const N = meta.batch * meta.seqLen
  const logits = all.subarray(0, N * meta.vocabSize)
  const hidden = Array.from({ length: meta.numHiddenStates }, (_, i) =>
    all.subarray(
      N * meta.vocabSize + i * N * meta.hiddenSize,
      N * meta.vocabSize + (i + 1) * N * meta.hiddenSize,
    ),
  )
  return { meta, logits, hidden }
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0
  let s = 0
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!))
    s = Math.max(s, Math.abs(b[i]!))
  }
  return m / s
}

describe('float64 reference engine vs numpy float64 goldens', () => {
  for (const [name, dir] of cases) {
    it(`${name}: logits, h_0..h_T and NLL`, () => {
      const ckpt = openCheckpoint(dir)
      const arch = parseModel(ckpt.config, new Set(ckpt.tensors.keys()))
      const g = golden(dir)
      const ids = g.meta.ids.slice(0, g.meta.batch * g.meta.seqLen)
      const load = (n: string) => ({ data: ckpt.readF32(n), shape: ckpt.tensors.get(n)!.shape })
      const r = runReference(arch, load, ids, g.meta.batch, g.meta.seqLen, { hiddenStates: true })
      expect(r.hiddenStates!.length).toBe(arch.numBlocks + 1)
      for (let i = 0; i < g.hidden.length; i++)
        expect(relErr(r.hiddenStates![i]!, g.hidden[i]!)).toBeLessThan(1e-9)
      expect(relErr(r.logits, g.logits)).toBeLessThan(1e-9)
      const nll = sumNextTokenNll(r.logits, ids, g.meta.batch, g.meta.seqLen, arch.vocabSize)
      expect(Math.abs(nll.sumNll - g.meta.sumNll) / g.meta.sumNll).toBeLessThan(1e-9)
    })
  }
})
