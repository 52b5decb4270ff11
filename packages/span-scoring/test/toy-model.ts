// A tiny deterministic residual "model" for tests: h_0 = E[ids], h_{i+1} = h_i + tanh(W_i h_i) · scale_i.
import {
  type ForwardOptions,
  type ForwardResult,
  type Matrix,
  type ModelAdapter,
  type TokenBatch,
  createRng,
  matrix,
} from '@mi-prun/core'

export function toyAdapter(
  T: number,
  d: number,
  vocab = 17,
  seed = 1,
): ModelAdapter & { forwards: number; allStates(b: TokenBatch): Matrix[] } {
  const rng = createRng(seed)
  const E = Array.from({ length: vocab * d }, () => rng.normal())
  const W = Array.from({ length: T }, () => Array.from({ length: d * d }, () => rng.normal() / Math.sqrt(d)))
  const scale = Array.from({ length: T }, (_, i) => (i % 3 === 1 ? 0.05 : 0.8))
  const allStates = (b: TokenBatch): Matrix[] => {
    const n = b.batch * b.seqLen
    let h = new Float32Array(n * d)
    for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) h[r * d + c] = E[b.ids[r]! * d + c]!
    const out = [matrix(n, d, h)]
    for (let i = 0; i < T; i++) {
      const g = new Float32Array(n * d)
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < d; c++) {
          let s = 0
          for (let k = 0; k < d; k++) s += W[i]![c * d + k]! * h[r * d + k]!
          g[r * d + c] = h[r * d + c]! + scale[i]! * Math.tanh(s)
        }
      }
      h = g
      out.push(matrix(n, d, h))
    }
    return out
  }
  const self = {
    forwards: 0,
    allStates,
    info: {
      architecture: 'Toy',
      modelType: 'toy',
      format: 'onnx' as const,
      numBlocks: T,
      hiddenSize: d,
      vocabSize: vocab,
      maxPositions: 64,
      parameters: 0,
      dtype: 'F32',
      backend: 'js',
    },
    async forward(b: TokenBatch, o: ForwardOptions = {}): Promise<ForwardResult> {
      self.forwards++
      const hs = allStates(b)
      hs.forEach((h, i) => o.onHiddenState?.(i, h))
      if (!o.hiddenStates) return {}
      const rows = o.captureRows
      if (!rows) return { hiddenStates: hs }
      return {
        hiddenStates: hs.map((h) => {
          const out = new Float32Array(rows.length * d)
          for (let k = 0; k < rows.length; k++)
            out.set(h.data.subarray(rows[k]! * d, (rows[k]! + 1) * d), k * d)
          return matrix(rows.length, d, out)
        }),
      }
    },
    async nll(): Promise<never> {
      throw new Error('toy model has no head')
    },
    async exportPruned(): Promise<never> {
      throw new Error('toy model cannot export')
    },
    dispose() {},
  }
  return self
}

export function toyBatches(count: number, batch: number, seqLen: number, vocab = 17, seed = 2): TokenBatch[] {
  const rng = createRng(seed)
  return Array.from({ length: count }, () => ({
    batch,
    seqLen,
    ids: Int32Array.from({ length: batch * seqLen }, () => rng.nextInt(vocab)),
  }))
}
