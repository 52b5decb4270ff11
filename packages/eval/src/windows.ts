import { PruneError, assertKnownOptions } from '@mi-prun/core'
import type { TokenBatch } from '@mi-prun/core'

const P = '[@mi-prun/eval]'

export interface WindowOptions {
  /** Tokens per window (the model's sequence length during evaluation). */
  readonly windowLength: number
  /** Distance between window starts; default `windowLength` (non-overlapping). Must be in [1, windowLength]. */
  readonly stride?: number
  /** Keep at most this many windows (the first ones). Default: all. */
  readonly maxWindows?: number
}

/** Fixed-length windows cut from one token stream, with the first scored target position of each. */
export interface TokenWindows {
  /** All windows as one batch (`batch` windows × `seqLen` = windowLength). */
  readonly batch: TokenBatch
  /** Start offset of each window in the stream. */
  readonly starts: Int32Array
  /**
   * For each window, the first target position t (1 ≤ t < windowLength) whose prediction is scored:
   * 1 for the first window and for every window when stride = windowLength; windowLength − stride
   * otherwise, so that every stream token after the first is scored exactly once.
   */
  readonly scoredFrom: Int32Array
  readonly windowLength: number
  readonly stride: number
}

/**
 * Cuts a token stream into windows of `windowLength` tokens starting at 0, stride, 2·stride, … while
 * the window fits; a tail shorter than a window is dropped. With stride = windowLength the windows do
 * not overlap and no context is carried between them (the first token of each window is context
 * only); with a smaller stride each window re-reads windowLength − stride tokens of context and
 * scores only its last `stride` targets (the sliding-window protocol of Hugging Face's perplexity
 * guide [1]).
 *
 * [1] Hugging Face, "Perplexity of fixed-length models", transformers documentation.
 * @example
 * const w = tokenWindows(Int32Array.from({ length: 10 }, (_, i) => i), { windowLength: 4 })
 * // w.batch.batch === 2, windows [0..3] and [4..7]; tokens 8, 9 are dropped
 */
export function tokenWindows(ids: Int32Array, options: WindowOptions): TokenWindows {
  assertKnownOptions(
    '@mi-prun/eval',
    options,
    ['windowLength', 'stride', 'maxWindows'] satisfies (keyof WindowOptions)[],
    { seqLen: 'windowLength', sequenceLength: 'windowLength' },
  )
  const { windowLength, stride = windowLength, maxWindows = Number.POSITIVE_INFINITY } = options
  if (!Number.isInteger(windowLength) || windowLength < 2) {
    throw new RangeError(`${P} windowLength must be an integer ≥ 2, got ${windowLength}`)
  }
  if (!Number.isInteger(stride) || stride < 1 || stride > windowLength) {
    throw new RangeError(`${P} stride must be an integer in [1, windowLength=${windowLength}], got ${stride}`)
  }
  if (!(maxWindows >= 1)) throw new RangeError(`${P} maxWindows must be ≥ 1, got ${maxWindows}`)
  if (ids.length < windowLength) {
    throw new PruneError(
      'INSUFFICIENT_SAMPLES',
      `${P} the text has ${ids.length} tokens, fewer than one window of ${windowLength}: pass more text or a shorter sequence length`,
    )
  }
  const count = Math.min(Math.floor((ids.length - windowLength) / stride) + 1, maxWindows)
  const out = new Int32Array(count * windowLength)
  const starts = new Int32Array(count)
  const scoredFrom = new Int32Array(count)
  for (let w = 0; w < count; w++) {
    const s = w * stride
    starts[w] = s
    scoredFrom[w] = w === 0 || stride === windowLength ? 1 : windowLength - stride
    out.set(ids.subarray(s, s + windowLength), w * windowLength)
  }
  return { batch: { ids: out, batch: count, seqLen: windowLength }, starts, scoredFrom, windowLength, stride }
}

/** Rows [from, to) of a batch as a new batch (a view, no copy). */
export function sliceBatch(batch: TokenBatch, from: number, to: number): TokenBatch {
  const a = Math.max(0, from)
  const b = Math.min(batch.batch, to)
  return {
    ids: batch.ids.subarray(a * batch.seqLen, b * batch.seqLen),
    batch: Math.max(0, b - a),
    seqLen: batch.seqLen,
  }
}
