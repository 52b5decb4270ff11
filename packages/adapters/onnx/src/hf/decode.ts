// KV-cache decoding on the model's one graph: a step feeds the new tokens with the past keys/values
// of every block and gets logits and the present keys/values back (a skipped block passes its empty
// past through). Prefill is a step with an empty
// past; each decode step feeds one token per sequence. Greedy generation here is checked against
// the uncached path (re-running the whole prefix through the forward graph) token for token.
import { PruneError, assertKnownOptions, type ModelAdapter, type TokenBatch } from '@mi-prun/core'
import type { Arch } from '@mi-prun/families'
import type { OrtModuleLike, OrtSessionLike, OrtTensorLike } from '../ort.js'
import { PKG } from '../proto.js'
import { commonFeeds, runSession } from './adapter.js'
import type { HfGraph } from './program.js'

/** Past keys/values of every kept block, [B, KV, P, hd] each, and P. */
export interface KvCache {
  readonly past: number
  readonly batch: number
  readonly tensors: Readonly<Record<string, OrtTensorLike>>
}

export interface DecodeSession {
  /** Blocks in the graph, ascending. */
  readonly blocks: readonly number[]
  /** An empty cache for `batch` sequences. */
  empty(batch: number): KvCache
  /** Runs `ids` [batch, seqLen] after `cache`: logits [batch·seqLen, V] (row-major) and the grown cache. */
  step(
    ids: Int32Array,
    batch: number,
    seqLen: number,
    cache: KvCache,
  ): Promise<{ logits: Float32Array; cache: KvCache }>
}

/** Empty past keys/values (zero positions) of every block, for `batch` sequences. */
export function emptyCache(ort: OrtModuleLike, graph: HfGraph, batch: number): Record<string, OrtTensorLike> {
  const tensors: Record<string, OrtTensorLike> = {}
  for (const c of graph.cache) {
    const dims = [batch, c.kvHeads, 0, c.headDim]
    tensors[c.pastK] = new ort.Tensor('float32', new Float32Array(0), dims)
    tensors[c.pastV] = new ort.Tensor('float32', new Float32Array(0), dims)
  }
  return tensors
}

export function createDecoder(
  ort: OrtModuleLike,
  graph: HfGraph,
  session: OrtSessionLike,
  arch: Arch,
  where: string,
  runs: (block: number) => boolean,
): DecodeSession {
  const T = arch.numBlocks
  const blocks = Array.from({ length: T }, (_, i) => i).filter(runs)
  const fetches = [graph.logits, ...graph.cache.flatMap((c) => [c.presentK, c.presentV])]
  const run = new Uint8Array(T)
  for (const i of blocks) run[i] = 1
  return {
    blocks,
    empty(batch) {
      return { past: 0, batch, tensors: emptyCache(ort, graph, batch) }
    },
    async step(ids, batch, seqLen, cache) {
      if (cache.batch !== batch)
        throw new PruneError(
          'INVALID_INPUT',
          `${PKG} the cache holds ${cache.batch} sequences, the step has ${batch}`,
        )
      if (cache.past + seqLen > arch.maxPositions)
        throw new PruneError(
          'INVALID_INPUT',
          `${PKG} ${cache.past + seqLen} positions exceed the model's ${arch.maxPositions}: generate fewer tokens`,
        )
      const feeds = {
        ...commonFeeds(ort, graph, ids, batch, seqLen, cache.past),
        ...cache.tensors,
        run: new ort.Tensor('bool', run, [T]),
        from_start: new ort.Tensor('bool', Uint8Array.of(0), []),
        h_start: new ort.Tensor('float32', new Float32Array(arch.hiddenSize), [1, arch.hiddenSize]),
        want_logits: new ort.Tensor('bool', Uint8Array.of(1), []),
      }
      const out = await runSession(session, feeds, fetches, where)
      const tensors: Record<string, OrtTensorLike> = {}
      for (const c of graph.cache) {
        tensors[c.pastK] = out[c.presentK]!
        tensors[c.pastV] = out[c.presentV]!
      }
      return {
        logits: out[graph.logits]!.data as Float32Array,
        cache: { past: cache.past + seqLen, batch, tensors },
      }
    },
  }
}

export interface GenerateOptions {
  /** Tokens to generate per sequence (greedy). */
  readonly maxNewTokens: number
  /** Blocks dropped from the model (default none). */
  readonly removed?: readonly number[]
  /** Use the KV cache (default true); false re-runs the whole prefix each step. */
  readonly cache?: boolean
  /** Called after each generated token with (index, elapsed ms of that step). */
  readonly onToken?: (index: number, ms: number) => void
}

export interface GenerateResult {
  /** [batch, prompt + maxNewTokens] ids, prompt included. */
  readonly ids: Int32Array
  readonly batch: number
  readonly seqLen: number
  /** Wall time of the prefill (the prompt's forward) and of each following step, in ms. */
  readonly prefillMs: number
  readonly stepMs: readonly number[]
}

const GEN_KEYS = ['maxNewTokens', 'removed', 'cache', 'onToken'] as const

function argmax(row: Float32Array, from: number, n: number): number {
  let best = 0
  let bv = -Infinity
  for (let v = 0; v < n; v++) {
    const x = row[from + v]!
    if (x > bv) {
      bv = x
      best = v
    }
  }
  return best
}

/** Greedy generation (ties: the lower token id). */
export async function generate(
  model: ModelAdapter & { decoder(removed?: readonly number[]): Promise<DecodeSession> },
  prompt: TokenBatch,
  o: GenerateOptions,
): Promise<GenerateResult> {
  assertKnownOptions('@mi-prun/adapter-onnx', o, GEN_KEYS)
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0)
    throw new RangeError(`${PKG} maxNewTokens must be a non-negative integer, got ${o.maxNewTokens}`)
  const B = prompt.batch
  const S0 = prompt.seqLen
  const total = S0 + o.maxNewTokens
  const V = model.info.vocabSize
  const ids = new Int32Array(B * total)
  for (let b = 0; b < B; b++) ids.set(prompt.ids.subarray(b * S0, (b + 1) * S0), b * total)
  const stepMs: number[] = []
  let prefillMs = 0
  const next = new Int32Array(B)
  if (o.cache ?? true) {
    const dec = await model.decoder(o.removed ?? [])
    let t0 = performance.now()
    let { logits, cache } = await dec.step(prompt.ids, B, S0, dec.empty(B))
    prefillMs = performance.now() - t0
    let rowsPerSeq = S0
    for (let g = 0; g < o.maxNewTokens; g++) {
      for (let b = 0; b < B; b++) {
        next[b] = argmax(logits, ((b + 1) * rowsPerSeq - 1) * V, V)
        ids[b * total + S0 + g] = next[b]!
      }
      if (g === o.maxNewTokens - 1) break
      t0 = performance.now()
      ;({ logits, cache } = await dec.step(next, B, 1, cache))
      rowsPerSeq = 1
      const ms = performance.now() - t0
      stepMs.push(ms)
      o.onToken?.(g + 1, ms)
    }
  } else {
    for (let g = 0; g < o.maxNewTokens; g++) {
      const len = S0 + g
      const cur = new Int32Array(B * len)
      for (let b = 0; b < B; b++) cur.set(ids.subarray(b * total, b * total + len), b * len)
      const t0 = performance.now()
      const { logits } = await model.forward({ ids: cur, batch: B, seqLen: len }, { skip: o.removed ?? [] })
      const ms = performance.now() - t0
      if (g === 0) prefillMs = ms
      else {
        stepMs.push(ms)
        o.onToken?.(g, ms)
      }
      for (let b = 0; b < B; b++) ids[b * total + len] = argmax(logits!.data, ((b + 1) * len - 1) * V, V)
    }
  }
  return { ids, batch: B, seqLen: total, prefillMs, stepMs }
}
