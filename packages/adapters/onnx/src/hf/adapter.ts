// Hugging Face checkpoints (config.json + safetensors) on ONNX Runtime: the decoder graph is built
// from the families' `Arch` (program.ts), float32 weights are external data read by ONNX Runtime
// straight from the shards (views and f16/bf16 storage are materialised once as float32), and one
// session with an `If` per block serves every forward, skip set, start block, NLL and KV-cache
// decoding (decode.ts), so the weights are held once.
import {
  PruneError,
  assertKnownOptions,
  matrix,
  normaliseSkip,
  selectRows,
  validateTokenBatch,
  type ExportResult,
  type ForwardOptions,
  type ForwardResult,
  type Matrix,
  type ModelAdapter,
  type ModelInfo,
  type NllResult,
  type TokenBatch,
} from '@mi-prun/core'
import { type Arch, parseModel, rotaryCosSin, sumNextTokenNll } from '@mi-prun/families'
import { type Checkpoint, openCheckpoint } from '@mi-prun/safetensors'
import { PKG, encodeModel } from '../proto.js'
import {
  type OrtModuleLike,
  type OrtSessionLike,
  type OrtSource,
  type OrtTensorLike,
  createSession,
  defaultProviders,
  resolveOrt,
} from '../ort.js'
import { exportPrunedHf } from './export.js'
import { type HfGraph, buildHfGraph } from './program.js'
import {
  type DecodeSession,
  type GenerateOptions,
  type GenerateResult,
  createDecoder,
  emptyCache,
  generate,
} from './decode.js'

const PKG_NAME = '@mi-prun/adapter-onnx'

export interface HfOnOrtOptions {
  /** The onnxruntime module or a thunk importing it (default: `import('onnxruntime-node')`). */
  readonly ort?: OrtSource
  /** Execution providers to try in order (default: CUDA when available, then CPU). */
  readonly providers?: readonly string[]
  /** Threads of ONNX Runtime's intra-op pool (default: ONNX Runtime's, one per physical core). */
  readonly intraOpNumThreads?: number
}

const OPTION_KEYS = ['ort', 'providers', 'intraOpNumThreads'] as const

export interface HfOrtModelAdapter extends ModelAdapter {
  readonly arch: Arch
  /**
   * Greedy generation with a KV cache, from the dense model or with `removed` blocks dropped from the
   * graph; `cache: false` re-runs the whole prefix each step (the reference for the cached path).
   */
  generate(prompt: TokenBatch, options: GenerateOptions): Promise<GenerateResult>
  /** The KV-cache decoder of the model with `removed` blocks skipped (same session as `forward`). */
  decoder(removed?: readonly number[]): Promise<DecodeSession>
}

/** Float32 cos/sin rows [N, 1, rd] for rows b·S + t at positions from + t. */
export function rotaryFeeds(
  table: Parameters<typeof rotaryCosSin>[0],
  batch: number,
  seqLen: number,
  from: number,
): { cos: Float32Array; sin: Float32Array } {
  const { cos, sin } = rotaryCosSin(table, from + seqLen, from)
  const rd = table.rotaryDim
  const c = new Float32Array(batch * seqLen * rd)
  const s = new Float32Array(batch * seqLen * rd)
  for (let b = 0; b < batch; b++) {
    c.set(cos, b * seqLen * rd)
    s.set(sin, b * seqLen * rd)
  }
  return { cos: c, sin: s }
}

/** Additive mask [S, P+S]: query i (position P+i) sees key j when j ≤ P+i and P+i−j < window. */
export function maskFeed(seqLen: number, past: number, window: number | undefined): Float32Array {
  const T = past + seqLen
  const m = new Float32Array(seqLen * T)
  for (let i = 0; i < seqLen; i++) {
    for (let j = 0; j < T; j++) {
      const visible = j <= past + i && (window === undefined || past + i - j < window)
      m[i * T + j] = visible ? 0 : -3.4028234663852886e38
    }
  }
  return m
}

/** The feeds every graph shares: ids, positions, rotary tables and masks. */
export function commonFeeds(
  ort: OrtModuleLike,
  graph: HfGraph,
  ids: Int32Array,
  batch: number,
  seqLen: number,
  past: number,
): Record<string, OrtTensorLike> {
  const feeds: Record<string, OrtTensorLike> = {
    ids: new ort.Tensor(
      'int64',
      BigInt64Array.from(ids, (v) => BigInt(v)),
      [batch, seqLen],
    ),
  }
  if (graph.usesPositions) {
    const p = new BigInt64Array(batch * seqLen)
    for (let r = 0; r < p.length; r++) p[r] = BigInt(past + (r % seqLen))
    feeds.positions = new ort.Tensor('int64', p, [batch, seqLen])
  }
  for (const [name, t] of graph.rotary) {
    const { cos, sin } = rotaryFeeds(t, batch, seqLen, past)
    feeds[`${name}_cos`] = new ort.Tensor('float32', cos, [batch * seqLen, 1, t.rotaryDim])
    feeds[`${name}_sin`] = new ort.Tensor('float32', sin, [batch * seqLen, 1, t.rotaryDim])
  }
  for (const [name, w] of graph.masks)
    feeds[name] = new ort.Tensor('float32', maskFeed(seqLen, past, w), [seqLen, past + seqLen])
  return feeds
}

export function asMatrix(t: OrtTensorLike, what: string): Matrix {
  if (!(t.data instanceof Float32Array))
    throw new PruneError('UNSUPPORTED_ARCHITECTURE', `${PKG} ${what} is ${t.type}, not float32`)
  const cols = t.dims[t.dims.length - 1]!
  return matrix(cols === 0 ? 0 : t.data.length / cols, cols, t.data)
}

export async function runSession(
  session: OrtSessionLike,
  feeds: Record<string, OrtTensorLike>,
  fetches: readonly string[],
  where: string,
): Promise<Record<string, OrtTensorLike>> {
  try {
    return await session.run(feeds, fetches)
  } catch (cause) {
    throw new PruneError(
      'UNSUPPORTED_ARCHITECTURE',
      `${PKG} onnxruntime failed running ${where}: ${(cause as Error).message}`,
      {
        cause,
      },
    )
  }
}

/**
 * Loads a Hugging Face model folder onto ONNX Runtime. Every family of @mi-prun/families runs;
 * unknown config keys are refused by name (PruneError UNSUPPORTED_CONFIG), unknown option keys are
 * TypeErrors.
 * @example
 * const model = await loadHfOnOrt('models/llama-kjv', { intraOpNumThreads: 2 })
 * const { logits } = await model.forward({ ids, batch: 1, seqLen: ids.length })
 */
export async function loadHfOnOrt(dir: string, options: HfOnOrtOptions = {}): Promise<HfOrtModelAdapter> {
  assertKnownOptions(PKG_NAME, options, OPTION_KEYS)
  const threads = options.intraOpNumThreads
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
    throw new RangeError(`${PKG} intraOpNumThreads must be a positive integer, got ${threads}`)
  const ckpt: Checkpoint = openCheckpoint(dir)
  const arch = parseModel(ckpt.config, new Set(ckpt.tensors.keys()), `${dir}/config.json`)
  const ort = await resolveOrt(options.ort)
  const providers = options.providers !== undefined ? [...options.providers] : defaultProviders(ort)
  const spec = {
    providers,
    externalDataDir: ckpt.dir,
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  }
  const graph = buildHfGraph(arch, ckpt)
  const { session, provider } = await createSession(
    ort,
    encodeModel(graph.model),
    spec,
    `the graph of ${dir}`,
  )
  const T = arch.numBlocks
  const d = arch.hiddenSize
  let parameters = 0
  const dtypes = new Set<string>()
  for (const t of ckpt.tensors.values()) {
    parameters += t.shape.reduce((a, b) => a * b, 1)
    dtypes.add(t.dtype)
  }
  const info: ModelInfo = {
    architecture: arch.architecture,
    modelType: arch.modelType,
    format: 'hf-safetensors',
    numBlocks: T,
    hiddenSize: d,
    vocabSize: arch.vocabSize,
    maxPositions: arch.maxPositions,
    parameters,
    dtype: [...dtypes].sort().join('+'),
    backend: `onnxruntime-${provider}`,
  }
  let disposed = false
  const alive = () => {
    if (disposed) throw new PruneError('INVALID_INPUT', `${PKG} the model of ${dir} was disposed`)
  }

  const adapter: HfOrtModelAdapter = {
    info,
    arch,
    async forward(b: TokenBatch, o: ForwardOptions = {}): Promise<ForwardResult> {
      alive()
      validateTokenBatch(PKG_NAME, b, { vocabSize: arch.vocabSize, maxPositions: arch.maxPositions })
      const skip = new Set(normaliseSkip(PKG_NAME, o.skip, T))
      const wantHidden = o.hiddenStates === true || o.onHiddenState !== undefined
      const wantLogits = o.logits ?? true
      const N = b.batch * b.seqLen
      if (o.captureRows !== undefined)
        for (const r of o.captureRows)
          if (!Number.isInteger(r) || r < 0 || r >= N)
            throw new PruneError('INVALID_INPUT', `${PKG} captureRows has row ${r}, outside 0..${N - 1}`)
      const start = o.start?.block ?? 0
      if (o.start !== undefined) {
        if (!Number.isInteger(start) || start < 0 || start > T)
          throw new PruneError('INVALID_INPUT', `${PKG} start.block ${start} is outside 0..${T}`)
        if (o.start.state.rows !== N || o.start.state.cols !== d)
          throw new PruneError(
            'INVALID_INPUT',
            `${PKG} start.state is ${o.start.state.rows}×${o.start.state.cols}, the batch needs ${N}×${d}`,
          )
        if (wantHidden)
          throw new PruneError(
            'UNSUPPORTED_OPERATION',
            `${PKG} hidden states are not returned by a forward that starts at block ${start}: ask for logits (or nll) only`,
          )
      }
      const feeds = commonFeeds(ort, graph, b.ids, b.batch, b.seqLen, 0)
      const run = new Uint8Array(T)
      for (let i = 0; i < T; i++) run[i] = i >= start && !skip.has(i) ? 1 : 0
      feeds.run = new ort.Tensor('bool', run, [T])
      feeds.from_start = new ort.Tensor('bool', Uint8Array.of(o.start === undefined ? 0 : 1), [])
      feeds.h_start =
        o.start === undefined
          ? new ort.Tensor('float32', new Float32Array(d), [1, d])
          : new ort.Tensor('float32', o.start.state.data, [N, d])
      feeds.want_logits = new ort.Tensor('bool', Uint8Array.of(wantLogits ? 1 : 0), [])
      Object.assign(feeds, emptyCache(ort, graph, b.batch))
      const fetches = wantLogits || !wantHidden ? [graph.logits] : []
      if (wantHidden) fetches.push(...graph.hidden)
      const out = await runSession(session, feeds, fetches, `the forward graph of ${dir}`)
      const result: { hiddenStates?: readonly Matrix[]; logits?: Matrix } = {}
      if (wantHidden) {
        const states: Matrix[] = []
        graph.hidden.forEach((name, i) => {
          const m = asMatrix(out[name]!, `hidden state h_${i}`)
          o.onHiddenState?.(i, m)
          if (o.hiddenStates === true)
            states.push(o.captureRows !== undefined ? selectRows(m, o.captureRows) : m)
        })
        if (o.hiddenStates === true) result.hiddenStates = states
      }
      if (o.onProgress !== undefined) for (let i = 1; i <= T; i++) o.onProgress(i, T)
      if (wantLogits) result.logits = asMatrix(out[graph.logits]!, 'logits')
      return result
    },
    async nll(b, o = {}): Promise<NllResult> {
      const fo: {
        skip?: ReadonlySet<number> | readonly number[]
        start?: NonNullable<ForwardOptions['start']>
      } = {}
      if (o.skip !== undefined) fo.skip = o.skip
      if (o.start !== undefined) fo.start = o.start
      const { logits } = await adapter.forward(b, fo)
      return sumNextTokenNll(logits!.data, b.ids, b.batch, b.seqLen, arch.vocabSize)
    },
    async exportPruned(removed, outDir, provenance): Promise<ExportResult> {
      return exportPrunedHf(ckpt, arch, removed, outDir, provenance)
    },
    async decoder(removed = []) {
      alive()
      const rem = new Set(normaliseSkip(PKG_NAME, removed, T))
      return createDecoder(ort, graph, session, arch, `the graph of ${dir}`, (i) => !rem.has(i))
    },
    async generate(prompt, o) {
      return generate(adapter, prompt, o)
    },
    async dispose() {
      if (disposed) return
      disposed = true
      await session.release?.()
    },
  }
  return adapter
}
