import {
  type EstimatorSettings,
  type Matrix,
  type ModelAdapter,
  PruneError,
  type RowTags,
  type TokenBatch,
  assertKnownOptions,
  createRng,
  matrix,
} from '@mi-prun/core'
import { type SpanStatistics, SpanStatsAccumulator } from './stats.js'

const PKG = '@mi-prun/span-scoring'
const P = `[${PKG}]`

/**
 * A reduction applied to every sampled hidden state before it is stored, to bound memory. It must be one
 * fixed map for all states (the residual stream lives in one space), e.g. {@link createRandomProjection}.
 */
export interface StateReducer {
  readonly name: string
  readonly settings: EstimatorSettings
  /** Maps rows × d to rows × r. Called for every state and every batch; must be deterministic. */
  reduce(m: Matrix): Matrix
}

/**
 * The cached activations every scorer reads: a seeded sample of calibration tokens with h_0..h_T for each
 * (MI scorers), the last token of every sequence (last-token angular distance), and streamed all-token
 * statistics of every span (ShortGPT BI, all-token angular distance, window cosine). One pass fills it.
 */
export interface ActivationStore {
  readonly kind: 'activation-store'
  /** T. */
  readonly numBlocks: number
  /** d of the model's residual stream. */
  readonly hiddenSize: number
  /** Columns of the sampled states (d, or r after the state reducer). */
  readonly dims: number
  /** Sampled token rows. */
  readonly samples: number
  /** h_0..h_T for the sampled rows (samples × dims each); row r of every state is the same token. */
  readonly states: readonly Matrix[]
  /** Sequence id and position of each sampled row (for KSG's Theiler window). */
  readonly tags: RowTags
  /** h_0..h_T of the last token of every sequence (sequences × d, unreduced). */
  readonly lastToken: readonly Matrix[]
  /** All-token statistics of every span up to `stats.maxSpan`. */
  readonly stats: SpanStatistics
  /** How the store was built: source, seed, caps, reducer. */
  readonly settings: EstimatorSettings
}

/** Options of {@link collectActivations} and {@link createActivationStore}. */
export interface ActivationOptions {
  /** Most token rows kept for MI (seeded uniform subsample). Default 4096. */
  readonly maxTokens?: number
  /** Seed of the subsample. Default 0. */
  readonly seed?: number
  /** Exclude position 0 of every sequence from the sample (attention-sink tokens). Default true. */
  readonly excludeFirst?: boolean
  /** Per-state reduction of the sampled rows (bounds memory). Default none. */
  readonly reducer?: StateReducer
  /** Longest span with all-token statistics. Default T (all spans; O(T²·tokens·d) work). */
  readonly maxSpan?: number
}

/** Options of {@link createRandomProjection}: the same names as mi-reducers' `createRandomProjectionReducer`. */
export interface RandomProjectionOptions {
  /** Output dimension r of the projection d → r, an integer ≥ 1. */
  readonly rank: number
  /** Seed of the projection matrix. Default 0. */
  readonly seed?: number
}

/**
 * A seeded Gaussian random projection d → rank, shared by every state (entries N(0, 1/rank)), so inner
 * products are preserved in expectation (Johnson–Lindenstrauss [1]). The matrix is drawn when the first
 * state arrives, from `seed` and d only, so the same seed gives the same bytes. The output size is named
 * `rank`, as in `createRandomProjectionReducer`; the old name `dims` is refused with a message naming `rank`.
 * [1] W. B. Johnson, J. Lindenstrauss, "Extensions of Lipschitz mappings into a Hilbert space" (1984).
 * @example
 * const reducer = createRandomProjection({ rank: 16, seed: 0 })
 */
export function createRandomProjection(options: RandomProjectionOptions): StateReducer {
  if (options !== null && typeof options === 'object' && 'dims' in options)
    throw new TypeError(
      `${P} createRandomProjection: option "dims" was renamed "rank" (the name mi-reducers uses): pass { rank: ${String((options as { dims: unknown }).dims)} }`,
    )
  assertKnownOptions(PKG, options, ['rank', 'seed'] satisfies (keyof RandomProjectionOptions)[])
  const { rank, seed = 0 } = options
  if (typeof rank !== 'number')
    throw new TypeError(`${P} random projection rank must be a number, got ${typeof rank}`)
  if (!Number.isInteger(rank) || rank < 1)
    throw new RangeError(`${P} random projection rank must be a positive integer, got ${rank}`)
  if (!Number.isFinite(seed))
    throw new RangeError(`${P} random projection seed must be a finite number, got ${seed}`)
  const dims = rank
  let w: Float64Array | undefined
  let d = -1
  return {
    name: 'random-projection',
    settings: { kind: 'random-projection', rank, seed },
    reduce(m: Matrix): Matrix {
      if (w === undefined || d !== m.cols) {
        d = m.cols
        const rng = createRng(seed)
        w = new Float64Array(d * dims)
        const s = 1 / Math.sqrt(dims)
        for (let i = 0; i < w.length; i++) w[i] = rng.normal() * s
      }
      const out = new Float32Array(m.rows * dims)
      const acc = new Float64Array(dims)
      for (let r = 0; r < m.rows; r++) {
        acc.fill(0)
        for (let c = 0; c < d; c++) {
          const v = m.data[r * d + c]!
          if (v === 0) continue
          const o = c * dims
          for (let k = 0; k < dims; k++) acc[k] = acc[k]! + v * w[o + k]!
        }
        for (let k = 0; k < dims; k++) out[r * dims + k] = acc[k]!
      }
      return matrix(m.rows, dims, out)
    },
  }
}

/** The keys of {@link ActivationOptions} (internal: the unknown-key check of every store factory). */
export const ACTIVATION_OPTION_KEYS = [
  'maxTokens',
  'seed',
  'excludeFirst',
  'reducer',
  'maxSpan',
] as const satisfies readonly (keyof ActivationOptions)[]

function checkOptions(
  opts: ActivationOptions,
  numBlocks: number,
): Required<Omit<ActivationOptions, 'reducer'>> {
  assertKnownOptions(PKG, opts, ACTIVATION_OPTION_KEYS)
  const { maxTokens = 4096, seed = 0, excludeFirst = true, maxSpan = numBlocks } = opts
  if (typeof excludeFirst !== 'boolean')
    throw new TypeError(`${P} excludeFirst must be a boolean, got ${String(excludeFirst)}`)
  if (!Number.isInteger(maxTokens) || maxTokens < 2)
    throw new RangeError(`${P} maxTokens must be an integer ≥ 2, got ${maxTokens}`)
  if (!Number.isInteger(maxSpan) || maxSpan < 1 || maxSpan > numBlocks) {
    throw new RangeError(`${P} maxSpan must be an integer in 1..${numBlocks}, got ${maxSpan}`)
  }
  return { maxTokens, seed, excludeFirst, maxSpan }
}

class RowsBuilder {
  private readonly parts: Float32Array[] = []
  private rows = 0
  cols = -1
  push(m: Matrix): void {
    if (this.cols >= 0 && m.cols !== this.cols)
      throw new PruneError('INVALID_INPUT', `${P} states changed width from ${this.cols} to ${m.cols}`)
    this.cols = m.cols
    this.parts.push(m.data.slice())
    this.rows += m.rows
  }
  build(cols: number): Matrix {
    const c = this.cols < 0 ? cols : this.cols
    const out = new Float32Array(this.rows * c)
    let o = 0
    for (const p of this.parts) {
      out.set(p, o)
      o += p.length
    }
    return matrix(this.rows, c, out)
  }
}

/**
 * Runs the dense model once over `batches` and fills an {@link ActivationStore}: a seeded uniform sample of
 * at most `maxTokens` token rows (position 0 of each sequence excluded by default) is captured through
 * `ForwardOptions.captureRows`, while `onHiddenState` streams every token into the all-token span
 * statistics and the last-token rows. Sequence ids count sequences across all batches, in order.
 * Throws PruneError 'INVALID_INPUT' when the adapter returns states of the wrong shape.
 * @example
 * const store = await collectActivations(adapter, batches, { maxTokens: 2048, seed: 1 })
 * store.states.length === adapter.info.numBlocks + 1
 */
export async function collectActivations(
  adapter: ModelAdapter,
  batches: readonly TokenBatch[],
  options: ActivationOptions = {},
): Promise<ActivationStore> {
  const T = adapter.info.numBlocks
  const d = adapter.info.hiddenSize
  const { maxTokens, seed, excludeFirst, maxSpan } = checkOptions(options, T)
  const skip = excludeFirst ? 1 : 0
  const perBatch = batches.map((b) => b.batch * Math.max(0, b.seqLen - skip))
  const total = perBatch.reduce((a, b) => a + b, 0)
  const numSequences = batches.reduce((a, b) => a + b.batch, 0)
  if (total < 2) {
    throw new PruneError(
      'INSUFFICIENT_SAMPLES',
      `${P} the calibration batches hold ${total} eligible tokens${excludeFirst ? ' (position 0 excluded)' : ''}: pass more or longer sequences`,
    )
  }
  const picks = createRng(seed).sample(total, Math.min(maxTokens, total))
  const acc = new SpanStatsAccumulator(T, maxSpan, numSequences)
  const states = Array.from({ length: T + 1 }, () => new RowsBuilder())
  const last = Array.from({ length: T + 1 }, () => new RowsBuilder())
  const seqTag: number[] = []
  const posTag: number[] = []
  let pickAt = 0
  let offset = 0
  let seqBase = 0
  for (let bi = 0; bi < batches.length; bi++) {
    const b = batches[bi]!
    const eligible = perBatch[bi]!
    const perSeq = b.seqLen - skip
    const rows: number[] = []
    while (pickAt < picks.length && picks[pickAt]! < offset + eligible) {
      const e = picks[pickAt]! - offset
      const s = Math.floor(e / perSeq)
      const pos = (e % perSeq) + skip
      rows.push(s * b.seqLen + pos)
      seqTag.push(seqBase + s)
      posTag.push(pos)
      pickAt++
    }
    offset += eligible
    const captureRows = Int32Array.from(rows)
    const seqIds = new Int32Array(b.batch * b.seqLen)
    for (let r = 0; r < seqIds.length; r++) seqIds[r] = seqBase + Math.floor(r / b.seqLen)
    const lastRows = Int32Array.from({ length: b.batch }, (_, s) => s * b.seqLen + b.seqLen - 1)
    acc.begin(seqIds)
    const res = await adapter.forward(b, {
      hiddenStates: true,
      captureRows,
      logits: false,
      onHiddenState: (i, h) => {
        if (h.cols !== d)
          throw new PruneError(
            'INVALID_INPUT',
            `${P} adapter streamed h_${i} with ${h.cols} columns, hiddenSize is ${d}`,
          )
        acc.add(i, h)
        const out = new Float32Array(lastRows.length * d)
        for (let s = 0; s < lastRows.length; s++)
          out.set(h.data.subarray(lastRows[s]! * d, (lastRows[s]! + 1) * d), s * d)
        last[i]!.push(matrix(lastRows.length, d, out))
      },
    })
    if (acc.statesInChunk !== T + 1) {
      throw new PruneError(
        'INVALID_INPUT',
        `${P} adapter streamed ${acc.statesInChunk} hidden states through onHiddenState for batch ${bi}, expected T+1 = ${T + 1}: the all-token statistics need every state (ForwardOptions.onHiddenState)`,
      )
    }
    const hs = res.hiddenStates
    if (hs === undefined || hs.length !== T + 1) {
      throw new PruneError(
        'INVALID_INPUT',
        `${P} adapter returned ${hs?.length ?? 'no'} hidden states for batch ${bi}, expected T+1 = ${T + 1}`,
      )
    }
    for (let i = 0; i <= T; i++) {
      const h = hs[i]!
      if (h.rows !== captureRows.length || h.cols !== d) {
        throw new PruneError(
          'INVALID_INPUT',
          `${P} adapter returned h_${i} of shape ${h.rows}x${h.cols} for batch ${bi}, expected ${captureRows.length}x${d} (captureRows)`,
        )
      }
      states[i]!.push(options.reducer ? options.reducer.reduce(h) : h)
    }
    seqBase += b.batch
  }
  const dims = states[0]!.cols
  return {
    kind: 'activation-store',
    numBlocks: T,
    hiddenSize: d,
    dims,
    samples: picks.length,
    states: states.map((s) => s.build(dims)),
    tags: { sequence: Int32Array.from(seqTag), position: Int32Array.from(posTag) },
    lastToken: last.map((s) => s.build(d)),
    stats: acc.finish(),
    settings: {
      kind: 'activation-store',
      source: 'forward',
      model: adapter.info.architecture,
      tokensSeen: batches.reduce((a, b) => a + b.batch * b.seqLen, 0),
      sequences: numSequences,
      maxTokens,
      seed,
      excludeFirst,
      maxSpan,
      reducer: options.reducer?.settings ?? null,
    },
  }
}

/** Input of {@link createActivationStore}: every token's h_0..h_T, in memory. */
export interface InMemoryStates {
  /** h_0..h_T, each tokens × d, row t of every matrix the same token. */
  readonly states: readonly Matrix[]
  /** Sequence id and position of each row. Without tags all rows are one sequence at positions 0..n−1. */
  readonly tags?: RowTags
  /** Recorded in `settings.source` (default 'memory'). */
  readonly source?: string
}

/**
 * Builds an {@link ActivationStore} from full in-memory states (a hidden-state dump, or tests): all-token
 * statistics over every row, the last row of every sequence (highest position), and a seeded sample of at
 * most `maxTokens` rows for MI, excluding position 0 when `excludeFirst`. Rows are streamed into the
 * statistics in chunks of 1024 so memory stays bounded.
 */
export function createActivationStore(
  input: InMemoryStates,
  options: ActivationOptions = {},
): ActivationStore {
  const hs = input.states
  if (hs.length < 2)
    throw new PruneError('INVALID_INPUT', `${P} need h_0..h_T with T ≥ 1, got ${hs.length} states`)
  const T = hs.length - 1
  const n = hs[0]!.rows
  const d = hs[0]!.cols
  hs.forEach((h, i) => {
    if (h.rows !== n || h.cols !== d)
      throw new PruneError(
        'INVALID_INPUT',
        `${P} h_${i} is ${h.rows}x${h.cols}, h_0 is ${n}x${d}: every state must have the same shape`,
      )
  })
  const { maxTokens, seed, excludeFirst, maxSpan } = checkOptions(options, T)
  let tags = input.tags
  if (tags !== undefined && (tags.sequence.length !== n || tags.position.length !== n)) {
    throw new PruneError(
      'INVALID_INPUT',
      `${P} tags have ${tags.sequence.length} sequence ids and ${tags.position.length} positions for ${n} rows`,
    )
  }
  // Without tags there are no positions to exclude: the settings record `excludeFirst: false` (what ran),
  // and `excludeFirstIgnored` says why the request was not honoured.
  const excludedFirst = excludeFirst && tags !== undefined
  tags ??= { sequence: new Int32Array(n), position: Int32Array.from({ length: n }, (_, i) => i) }
  // dense sequence ids 0..S−1 in order of first appearance
  const dense = new Map<number, number>()
  const seqIds = new Int32Array(n)
  const lastRow: number[] = []
  for (let r = 0; r < n; r++) {
    const s = tags.sequence[r]!
    let id = dense.get(s)
    if (id === undefined) {
      id = dense.size
      dense.set(s, id)
      lastRow.push(r)
    }
    seqIds[r] = id
    if (tags.position[r]! >= tags.position[lastRow[id]!]!) lastRow[id] = r
  }
  const eligible: number[] = []
  for (let r = 0; r < n; r++) if (!excludedFirst || tags.position[r]! !== 0) eligible.push(r)
  if (eligible.length < 2)
    throw new PruneError(
      'INSUFFICIENT_SAMPLES',
      `${P} only ${eligible.length} eligible rows: pass more tokens`,
    )
  const pick = createRng(seed).sample(eligible.length, Math.min(maxTokens, eligible.length))
  const rows = Int32Array.from(pick, (k) => eligible[k]!)
  const acc = new SpanStatsAccumulator(T, maxSpan, dense.size)
  const CHUNK = 1024
  for (let r0 = 0; r0 < n; r0 += CHUNK) {
    const r1 = Math.min(n, r0 + CHUNK)
    acc.begin(seqIds.subarray(r0, r1))
    for (let i = 0; i <= T; i++) acc.add(i, matrix(r1 - r0, d, hs[i]!.data.subarray(r0 * d, r1 * d)))
  }
  const take = (h: Matrix, idx: ArrayLike<number>): Matrix => {
    const out = new Float32Array(idx.length * d)
    for (let k = 0; k < idx.length; k++) out.set(h.data.subarray(idx[k]! * d, (idx[k]! + 1) * d), k * d)
    return matrix(idx.length, d, out)
  }
  const sampled = hs.map((h) => {
    const m = take(h, rows)
    return options.reducer ? options.reducer.reduce(m) : m
  })
  return {
    kind: 'activation-store',
    numBlocks: T,
    hiddenSize: d,
    dims: sampled[0]!.cols,
    samples: rows.length,
    states: sampled,
    tags: {
      sequence: Int32Array.from(rows, (r) => tags.sequence[r]!),
      position: Int32Array.from(rows, (r) => tags.position[r]!),
    },
    lastToken: hs.map((h) => take(h, lastRow)),
    stats: acc.finish(),
    settings: {
      kind: 'activation-store',
      source: input.source ?? 'memory',
      tokensSeen: n,
      sequences: dense.size,
      maxTokens,
      seed,
      excludeFirst: excludedFirst,
      ...(excludeFirst && !excludedFirst ? { excludeFirstIgnored: 'no tags: positions unknown' } : {}),
      maxSpan,
      reducer: options.reducer?.settings ?? null,
    },
  }
}
