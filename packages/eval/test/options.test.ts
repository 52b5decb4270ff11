import { describe, expect, it } from 'vitest'
import {
  evaluateMultipleChoice,
  loadTokenizer,
  measureLatency,
  perplexity,
  tokenWindows,
} from '@mi-prun/eval'
import { createFakeAdapter } from './fake-adapter.js'

const ids = Int32Array.from({ length: 64 }, (_, i) => i % 11)
const bad = (o: object): never => o as never

describe('eval option keys (unknown keys are TypeErrors naming the closest key)', () => {
  it('perplexity refuses seqLen (it used to run windowLength 128 silently) and typos', async () => {
    const a = createFakeAdapter({ vocab: 11, blocks: 2 })
    await expect(perplexity(a, ids, bad({ seqLen: 16 }))).rejects.toThrow(TypeError)
    await expect(perplexity(a, ids, bad({ seqLen: 16 }))).rejects.toThrow(
      /\[@mi-prun\/eval\] unknown option "seqLen" \(did you mean "windowLength"\?\)/,
    )
    await expect(perplexity(a, ids, bad({ windowLength: 16, batchsize: 2 }))).rejects.toThrow(
      /did you mean "batchSize"/,
    )
    expect(a.forwardCalls).toBe(0) // refused before any forward pass
    const ok = await perplexity(a, ids, { windowLength: 16 })
    expect(ok.windows).toBe(4)
  })

  it('tokenWindows, measureLatency, evaluateMultipleChoice and loadTokenizer refuse unknown keys', async () => {
    expect(() => tokenWindows(ids, bad({ windowLength: 8, strid: 4 }))).toThrow(/did you mean "stride"/)
    expect(() => tokenWindows(ids, bad({ seqLen: 8 }))).toThrow(/did you mean "windowLength"/)
    const a = createFakeAdapter({ vocab: 11, blocks: 2 })
    await expect(measureLatency(a, [], bad({ run: 2 }))).rejects.toThrow(
      /unknown option "run" \(did you mean "runs"\?\)/,
    )
    const tok = {
      encode: () => new Int32Array([1, 2]),
      decode: () => '',
      vocabSize: 11,
      settings: {},
    } as never
    await expect(evaluateMultipleChoice(a, tok, [], bad({ limits: 3 }))).rejects.toThrow(
      /did you mean "limit"/,
    )
    await expect(loadTokenizer('/nonexistent', bad({ addSpecialToken: true }))).rejects.toThrow(
      /did you mean "addSpecialTokens"/,
    )
  })
})
