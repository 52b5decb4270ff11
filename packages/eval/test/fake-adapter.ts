import { matrix } from '@mi-prun/core'
import type { ForwardOptions, ForwardResult, ModelAdapter, NllResult, TokenBatch } from '@mi-prun/core'

/**
 * A model whose next-token distribution is known in closed form: after token x it puts logit
 * s = (number of active blocks)·gain on token (x+1) mod V and 0 on every other token, so
 * −ln p((x+1) mod V | x) = ln(e^s + V − 1) − s and −ln p(other) = ln(e^s + V − 1).
 * `workPerBlock` burns that many float ops per block and token, so skipping blocks saves time.
 */
export function createFakeAdapter(options: {
  vocab: number
  blocks: number
  gain?: number
  workPerBlock?: number
}): ModelAdapter & {
  forwardCalls: number
} {
  const { vocab, blocks, gain = 1, workPerBlock = 0 } = options
  const state = { forwardCalls: 0 }
  const active = (skip: ForwardOptions['skip']): number => {
    const s = new Set(skip ?? [])
    let n = 0
    for (let i = 0; i < blocks; i++) if (!s.has(i)) n++
    return n
  }
  let sink = 0
  const burn = (rows: number, n: number): void => {
    let acc = 0
    for (let i = 0; i < rows * n * workPerBlock; i++) acc += Math.sqrt(i)
    sink += acc
  }
  const adapter = {
    get forwardCalls() {
      return state.forwardCalls
    },
    info: {
      architecture: 'FakeForCausalLM',
      modelType: 'fake',
      format: 'hf-safetensors' as const,
      numBlocks: blocks,
      hiddenSize: 1,
      vocabSize: vocab,
      maxPositions: 4096,
      parameters: 0,
      dtype: 'F32',
      backend: 'js',
    },
    async forward(batch: TokenBatch, opts: ForwardOptions = {}): Promise<ForwardResult> {
      state.forwardCalls++
      const n = active(opts.skip)
      const rows = batch.batch * batch.seqLen
      burn(rows, n)
      const logits = matrix(rows, vocab)
      for (let r = 0; r < rows; r++) logits.data[r * vocab + ((batch.ids[r]! + 1) % vocab)] = n * gain
      return { logits }
    },
    async nll(
      batch: TokenBatch,
      opts: { readonly skip?: ReadonlySet<number> | readonly number[] } = {},
    ): Promise<NllResult> {
      const n = active(opts.skip)
      burn(batch.batch * batch.seqLen, n)
      const s = n * gain
      const lse = Math.log(Math.exp(s) + vocab - 1)
      let sumNll = 0
      let tokens = 0
      for (let b = 0; b < batch.batch; b++) {
        for (let t = 1; t < batch.seqLen; t++) {
          const prev = batch.ids[b * batch.seqLen + t - 1]!
          const cur = batch.ids[b * batch.seqLen + t]!
          sumNll += cur === (prev + 1) % vocab ? lse - s : lse
          tokens++
        }
      }
      return { sumNll, tokens }
    },
    async exportPruned(): Promise<never> {
      throw new Error('not used')
    },
    dispose(): void {
      if (sink === -1) console.log(sink)
    },
  }
  return adapter
}

/** Expected mean NLL (nats) of the fake model on an ascending stream: ln(e^s + V − 1) − s. */
export function fakeNll(vocab: number, activeBlocks: number, gain = 1): number {
  const s = activeBlocks * gain
  return Math.log(Math.exp(s) + vocab - 1) - s
}
