import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadHfOnOrt } from '@mi-prun/adapter-onnx'

// KV-cache decoding must give exactly the tokens of the uncached path (the whole prefix re-run
// through the forward graph each step), for the dense model and with blocks removed.
const fixtures = join(import.meta.dirname, '..', '..', 'tfjs', 'test', 'fixtures')

describe.each(['llama-gqa', 'gpt2-sharded', 'mistral-bf16'])('KV-cache decode: %s', (name) => {
  it('greedy generation with the cache equals the uncached path token for token', async () => {
    const model = await loadHfOnOrt(join(fixtures, name), { intraOpNumThreads: 1 })
    try {
      const V = Math.min(model.info.vocabSize, 40)
      const prompt = { batch: 2, seqLen: 5, ids: Int32Array.from({ length: 10 }, (_, i) => (i * 11 + 2) % V) }
      for (const removed of [[], [1]]) {
        const cached = await model.generate(prompt, { maxNewTokens: 12, removed })
        const plain = await model.generate(prompt, { maxNewTokens: 12, removed, cache: false })
        expect(cached.seqLen).toBe(17)
        expect([...cached.ids]).toEqual([...plain.ids])
        expect(cached.stepMs.length).toBe(11)
      }
      // the cached logits of a prefill equal the forward graph's
      const dec = await model.decoder()
      const { logits } = await dec.step(prompt.ids, 2, 5, dec.empty(2))
      const ref = (await model.forward(prompt)).logits!.data
      let m = 0
      let s = 0
      for (let i = 0; i < ref.length; i++) {
        m = Math.max(m, Math.abs(logits[i]! - ref[i]!))
        s = Math.max(s, Math.abs(ref[i]!))
      }
      expect(m / s).toBeLessThanOrEqual(1e-5)
    } finally {
      await model.dispose()
    }
  })
})

describe('options', () => {
  it('refuses unknown option keys by name and bad thread counts', async () => {
    const dir = join(fixtures, 'llama-gqa')
    await expect(loadHfOnOrt(dir, { intraOpThreads: 2 } as never)).rejects.toThrow(
      /unknown option "intraOpThreads".*intraOpNumThreads/,
    )
    await expect(loadHfOnOrt(dir, { intraOpNumThreads: 0 })).rejects.toThrow(RangeError)
    const model = await loadHfOnOrt(dir, { intraOpNumThreads: 2 })
    await expect(
      model.generate({ batch: 1, seqLen: 1, ids: Int32Array.of(1) }, {
        maxNewTokens: 1,
        greedy: true,
      } as never),
    ).rejects.toThrow(/unknown option "greedy"/)
    await model.dispose()
  })
})
