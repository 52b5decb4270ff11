import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs-core'
import {
  type ExportResult,
  type ForwardOptions,
  type ForwardResult,
  type Matrix,
  type ModelAdapter,
  type ModelInfo,
  type NllResult,
  type TokenBatch,
  PruneError,
  assertKnownOptions,
  normaliseSkip,
  validateTokenBatch,
} from '@mi-prun/core'
import type { Checkpoint } from '@mi-prun/safetensors'
import { type ArchConfig, blockTensorShapes } from './arch.js'
import { type BackendRequest, type Importer, type TfModule, selectBackend } from './backend.js'
import { exportPrunedFolder } from './export.js'
import {
  type BlockWeights,
  type FinalNorm,
  blockForward,
  blockNames,
  createContext,
  disposeContext,
  embed,
  finalNorm,
  logitsOf,
} from './forward.js'
import { openModel } from './inspect.js'

const P = '[@mi-prun/adapter-tfjs]'

export interface LoadHfModelOptions {
  /** Backend request (default 'auto': tfjs-node-gpu, tfjs-node, wasm, cpu). Ignored when `tf` is given. */
  readonly backend?: BackendRequest
  /** An already initialised tfjs module to use as is (its current backend is reported). */
  readonly tf?: TfModule
  /** Module loader for the backend chain (tests inject one). */
  readonly importer?: Importer
  /**
   * Layer streaming: the whole batch runs through one block at a time, and nothing large stays
   * resident. Each block's weights are read from disk (byte ranges) matrix by matrix right before
   * their use and released right after; the batch's embedding rows are read by byte range and the
   * output head in row chunks. Peak memory ≈ the largest matrix (plus the packed copy the wasm
   * matMul makes of it) + activations, below one block. Default false (all weights resident).
   */
  readonly stream?: boolean
  /** When streaming: rows of the output head read and multiplied per chunk (default: 8 MiB of float32 per chunk). */
  readonly headChunkRows?: number
}

/** The adapter returned by `loadHfModel`, with the architecture it dispatched to. */
export interface TfjsModelAdapter extends ModelAdapter {
  readonly arch: ArchConfig
  /** Backends tried before the one in use, with why each failed. */
  readonly backendAttempts: readonly { readonly candidate: string; readonly error: string }[]
}

/** out[j*r + i] = src[i*c + j]: an r×c row-major matrix transposed to c×r, in 32×32 tiles. */
function transpose2d(src: Float32Array, r: number, c: number, out: Float32Array): Float32Array {
  const B = 32
  for (let i0 = 0; i0 < r; i0 += B) {
    const i1 = Math.min(r, i0 + B)
    for (let j0 = 0; j0 < c; j0 += B) {
      const j1 = Math.min(c, j0 + B)
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * r + i] = src[i * c + j]!
    }
  }
  return out
}

/**
 * Loads a Hugging Face model folder (config.json + safetensors) as a ModelAdapter on TensorFlow.js.
 * The architecture is dispatched on config.json (`model_type`, `architectures`): Llama (GQA,
 * `rope_theta`, tied or untied head), Mistral (sliding window), Qwen2 (qkv bias), GPT-2 (Conv1D
 * layout, learned positions).
 *
 * Hidden states follow mi-prun's contract: h_0 is the embedding output (token + position
 * embeddings for GPT-2) and h_T is the last block's output BEFORE the final norm, whereas Hugging
 * Face's last `hidden_states` entry is after the final norm. Skipped blocks pass the residual stream
 * through unchanged. `nll` sums the next-token NLL (nats) over positions 1..S−1 of every sequence.
 * @example
 * const model = await loadHfModel('models/llama-kjv', { backend: 'wasm' })
 * const { hiddenStates } = await model.forward({ ids, batch: 2, seqLen: 64 }, { hiddenStates: true, logits: false })
 */
export async function loadHfModel(dir: string, options: LoadHfModelOptions = {}): Promise<TfjsModelAdapter> {
  assertKnownOptions('@mi-prun/adapter-tfjs', options, [
    'backend',
    'tf',
    'importer',
    'stream',
    'headChunkRows',
  ] satisfies (keyof LoadHfModelOptions)[])
  const { stream = false } = options
  const { ckpt, arch, summary } = openModel(dir)
  let tf: TfModule
  let backend: string
  let attempts: readonly { candidate: string; error: string }[] = []
  if (options.tf !== undefined) {
    tf = options.tf
    await tf.ready()
    backend = tf.getBackend()
  } else {
    const sel = await selectBackend({
      ...(options.backend === undefined ? {} : { backend: options.backend }),
      ...(options.importer === undefined ? {} : { importer: options.importer }),
    })
    tf = sel.tf
    backend = sel.backend
    attempts = sel.attempts
  }
  const load1 = (name: string, shape: number[]): Tensor => tf.tensor(ckpt.readF32(name), shape, 'float32')
  // Block weights: the wasm backend copies a tensor's values into its own heap when the tensor is
  // created, so two JS buffers can be reused for every block tensor instead of leaving a block's
  // worth of garbage per block; backends that keep the array (cpu, tfjs-node) get fresh buffers.
  const reuse = backend === 'wasm'
  const scratch: [Float32Array, Float32Array] = [new Float32Array(0), new Float32Array(0)]
  const buffer = (k: 0 | 1, n: number): Float32Array => {
    if (!reuse) return new Float32Array(n)
    if (scratch[k].length < n) scratch[k] = new Float32Array(n)
    return scratch[k].subarray(0, n)
  }
  const loadBlockTensor = (name: string, shape: number[], transpose: boolean): Tensor => {
    const n = shape.reduce((x, y) => x * y, 1)
    if (!transpose) return tf.tensor(ckpt.readF32Into(name, buffer(0, n)), shape, 'float32')
    // read [r, c] in chunks of rows (≈1 MiB) and scatter them transposed, so no second full-size
    // buffer is needed
    const [r, c] = shape as [number, number]
    const out = buffer(1, n)
    const step = Math.max(1, Math.floor((1 << 18) / c))
    const chunk = new Float32Array(Math.min(r, step) * c)
    for (let r0 = 0; r0 < r; r0 += step) {
      const k = Math.min(step, r - r0)
      const part = ckpt.readF32Range(name, r0 * c, k * c, chunk)
      for (let j = 0; j < c; j++) {
        const o = j * r + r0
        for (let i = 0; i < k; i++) out[o + i] = part[i * c + j]!
      }
    }
    return tf.tensor(out, [c, r], 'float32')
  }
  const p = arch.prefix
  const d = arch.hiddenSize
  const V = arch.vocabSize
  const gpt2 = arch.family === 'gpt2'
  const embName = gpt2 ? `${p}wte.weight` : `${p}embed_tokens.weight`
  const posName = gpt2 ? `${p}wpe.weight` : undefined
  const headName = arch.tied ? embName : 'lm_head.weight'
  const loadT = (name: string, shape: number[]): Tensor => {
    const t = load1(name, shape)
    const tt = tf.transpose(t)
    t.dispose()
    return tt
  }
  const norms: FinalNorm = gpt2
    ? { normW: load1(`${p}ln_f.weight`, [d]) as Tensor1D, normB: load1(`${p}ln_f.bias`, [d]) as Tensor1D }
    : { normW: load1(`${p}norm.weight`, [d]) as Tensor1D }
  // Resident mode keeps embeddings and the transposed head as tensors. Streaming keeps neither: the
  // batch's embedding rows are read from disk by byte range, and the head is read in row chunks
  // while the logits are computed.
  let resident0: { embed: Tensor2D; pos?: Tensor2D; headT: Tensor2D } | undefined
  if (!stream) {
    const embedW = load1(embName, [V, d]) as Tensor2D
    const headT = (arch.tied ? tf.transpose(embedW) : loadT(headName, [V, d])) as Tensor2D
    resident0 =
      posName === undefined
        ? { embed: embedW, headT }
        : { embed: embedW, headT, pos: load1(posName, [arch.maxPositions, d]) as Tensor2D }
  }
  const residentGlobals = resident0
  const headChunkRows = options.headChunkRows ?? Math.max(1, Math.floor((1 << 21) / d))
  if (!Number.isInteger(headChunkRows) || headChunkRows < 1)
    throw new RangeError(`${P} headChunkRows must be a positive integer, got ${headChunkRows}`)

  const embedBatch = (ids: Int32Array, B: number, S: number): Tensor2D => {
    if (residentGlobals !== undefined) return embed(tf, residentGlobals, ids, B, S)
    const uniq = [...new Set(ids)].sort((x, y) => x - y)
    const rowOf = new Map(uniq.map((t, r) => [t, r]))
    const table = new Float32Array(uniq.length * d)
    uniq.forEach((t, r) => table.set(ckpt.readF32Range(embName, t * d, d), r * d))
    const local = Int32Array.from(ids, (t) => rowOf.get(t)!)
    const tableT = tf.tensor2d(table, [uniq.length, d])
    const posT = posName === undefined ? undefined : tf.tensor2d(ckpt.readF32Range(posName, 0, S * d), [S, d])
    try {
      return embed(tf, posT === undefined ? { embed: tableT } : { embed: tableT, pos: posT }, local, B, S)
    } finally {
      tableT.dispose()
      posT?.dispose()
    }
  }

  const logitsBatch = (h: Tensor2D): Tensor2D => {
    if (residentGlobals !== undefined) return logitsOf(tf, arch, norms, residentGlobals.headT, h)
    const x = finalNorm(tf, arch, norms, h)
    const parts: Tensor2D[] = []
    try {
      const rows = new Float32Array(Math.min(headChunkRows, V) * d)
      for (let r0 = 0; r0 < V; r0 += headChunkRows) {
        const c = Math.min(headChunkRows, V - r0)
        const w = tf.tensor2d(
          transpose2d(ckpt.readF32Range(headName, r0 * d, c * d, rows), c, d, buffer(1, c * d)),
          [d, c],
        )
        parts.push(tf.matMul(x, w))
        w.dispose()
      }
      return parts.length === 1 ? parts.pop()! : (tf.concat(parts, 1) as Tensor2D)
    } finally {
      x.dispose()
      for (const t of parts) t.dispose()
    }
  }
  const names = Array.from({ length: arch.numBlocks }, (_, i) => blockNames(arch, i))
  // nn.Linear weights [out, in] are transposed to [in, out] at load (see BlockWeights)
  const transposed = (shape: readonly number[]): boolean => arch.family === 'llama' && shape.length === 2
  const residentTensors: Map<string, Tensor>[] = []
  if (!stream) {
    for (let i = 0; i < arch.numBlocks; i++) {
      const m = new Map<string, Tensor>()
      for (const [name, shape] of blockTensorShapes(arch, i))
        m.set(name, loadBlockTensor(name, shape, transposed(shape)))
      residentTensors.push(m)
    }
    scratch[0] = scratch[1] = new Float32Array(0)
  }
  /** Block i's weights: resident tensors, or (streaming) each read from disk at its use and freed after it. */
  const blockSource = (i: number): BlockWeights & { release(): void } => {
    const held = residentTensors[i]
    if (held !== undefined) return { get: (n) => held.get(n), done: () => {}, release: () => {} }
    const shapes = blockTensorShapes(arch, i)
    const live = new Map<string, Tensor>()
    return {
      get(n) {
        const shape = shapes.get(n)
        if (shape === undefined) return undefined
        const t = loadBlockTensor(n, shape, transposed(shape))
        live.set(n, t)
        return t
      },
      done(n) {
        live.get(n)?.dispose()
        live.delete(n)
      },
      release() {
        for (const t of live.values()) t.dispose()
        live.clear()
      },
    }
  }
  let disposed = false
  const info: ModelInfo = {
    architecture: arch.architecture,
    modelType: arch.modelType,
    format: 'hf-safetensors',
    numBlocks: arch.numBlocks,
    hiddenSize: arch.hiddenSize,
    vocabSize: arch.vocabSize,
    maxPositions: arch.maxPositions,
    parameters: summary.parameters,
    dtype: summary.dtype,
    backend,
  }

  const checkBatch = (b: TokenBatch): void => {
    if (disposed) throw new PruneError('INVALID_INPUT', `${P} this model was disposed; load it again`)
    validateTokenBatch('@mi-prun/adapter-tfjs', b, {
      vocabSize: arch.vocabSize,
      maxPositions: arch.maxPositions,
    })
  }

  const ensureBackend = async (): Promise<void> => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend)
  }

  /** Runs the blocks; returns the final residual h_T (caller disposes). */
  const run = async (b: TokenBatch, o: ForwardOptions): Promise<{ h: Tensor2D; states?: Matrix[] }> => {
    checkBatch(b)
    await ensureBackend()
    const skip = new Set(normaliseSkip('@mi-prun/adapter-tfjs', o.skip, arch.numBlocks))
    const rows = o.captureRows
    if (rows !== undefined) {
      for (const r of rows)
        if (!(r >= 0 && r < b.ids.length))
          throw new PruneError(
            'INVALID_INPUT',
            `${P} captureRows entry ${r} is outside 0..${b.ids.length - 1}`,
          )
    }
    const rowsT = rows === undefined ? undefined : tf.tensor1d(rows, 'int32')
    const states: Matrix[] | undefined = o.hiddenStates === true ? [] : undefined
    const d = arch.hiddenSize
    const observe = async (i: number, h: Tensor2D): Promise<void> => {
      if (o.onHiddenState !== undefined) {
        const all = (await h.data()) as Float32Array
        o.onHiddenState(i, { rows: b.ids.length, cols: d, data: all })
      }
      if (states !== undefined) {
        if (rowsT === undefined)
          states.push({ rows: b.ids.length, cols: d, data: (await h.data()) as Float32Array })
        else {
          const sel = tf.gather(h, rowsT)
          states.push({ rows: rowsT.shape[0], cols: d, data: (await sel.data()) as Float32Array })
          sel.dispose()
        }
      }
    }
    const ctx = createContext(tf, arch, b.batch, b.seqLen)
    let h = embedBatch(b.ids, b.batch, b.seqLen)
    try {
      await observe(0, h)
      for (let i = 0; i < arch.numBlocks; i++) {
        if (!skip.has(i)) {
          const w = blockSource(i)
          try {
            const next = blockForward(tf, arch, w, h, ctx, i, names[i]!)
            h.dispose()
            h = next
          } finally {
            w.release()
          }
        }
        await observe(i + 1, h)
        o.onProgress?.(i + 1, arch.numBlocks)
      }
    } catch (e) {
      h.dispose()
      throw e
    } finally {
      disposeContext(ctx)
      rowsT?.dispose()
    }
    return states === undefined ? { h } : { h, states }
  }

  const adapter: TfjsModelAdapter = {
    info,
    arch,
    backendAttempts: attempts,
    async forward(b, o = {}) {
      const { h, states } = await run(b, o)
      try {
        const result: { hiddenStates?: Matrix[]; logits?: Matrix } = {}
        if (states !== undefined) result.hiddenStates = states
        if (o.logits !== false) {
          const l = logitsBatch(h)
          result.logits = { rows: b.ids.length, cols: arch.vocabSize, data: (await l.data()) as Float32Array }
          l.dispose()
        }
        return result as ForwardResult
      } finally {
        h.dispose()
      }
    },
    async nll(b, o = {}): Promise<NllResult> {
      const { h } = await run(b, o.skip === undefined ? {} : { skip: o.skip })
      const S = b.seqLen
      const V = arch.vocabSize
      // flat index into logp [N, V] of the next token at every predicting position
      const idx: number[] = []
      for (let s = 0; s < b.batch; s++)
        for (let t = 0; t + 1 < S; t++) idx.push((s * S + t) * V + b.ids[s * S + t + 1]!)
      const picked = tf.tidy(() => {
        const lp = tf.logSoftmax(logitsBatch(h))
        return tf.gather(tf.reshape(lp, [-1]), tf.tensor1d(idx, 'int32'))
      })
      h.dispose()
      const v = (await picked.data()) as Float32Array
      picked.dispose()
      let sum = 0
      for (let i = 0; i < v.length; i++) sum -= v[i]!
      return { sumNll: sum, tokens: idx.length }
    },
    async exportPruned(removed, outDir, provenance): Promise<ExportResult> {
      return exportPrunedFolder(ckpt as Checkpoint, arch, removed, outDir, provenance)
    },
    dispose() {
      if (disposed) return
      disposed = true
      for (const m of residentTensors) for (const t of m.values()) t.dispose()
      for (const t of new Set([
        residentGlobals?.embed,
        residentGlobals?.pos,
        residentGlobals?.headT,
        norms.normW,
        norms.normB,
      ]))
        t?.dispose()
    },
  }
  return adapter
}
