import { PruneError, assertKnownOptions } from '@mi-prun/core'
import type { ModelAdapter, TokenBatch } from '@mi-prun/core'
import { logProbAt } from './logprob.js'
import { sliceBatch, tokenWindows } from './windows.js'

const PKG = '@mi-prun/eval'
const P = `[${PKG}]`

export interface PerplexityOptions {
  /** Tokens per evaluation window; default 128. */
  readonly windowLength?: number
  /** Distance between window starts; default = windowLength (non-overlapping windows). */
  readonly stride?: number
  /** Windows per forward call; default 8. */
  readonly batchSize?: number
  /** Evaluate at most this many windows (the first ones). */
  readonly maxWindows?: number
  /** Blocks skipped during evaluation (0-based), to evaluate a selection without exporting it. */
  readonly skip?: readonly number[]
  /**
   * How non-overlapping windows are scored: 'nll' (default) calls `adapter.nll`; 'logits' reads the
   * logits and applies a float64 log-softmax here (always used for a sliding stride). Both give the
   * same number up to float32 rounding; 'logits' cross-checks an adapter's nll.
   */
  readonly method?: 'nll' | 'logits'
  /** Called after each batch with (windowsDone, windowsTotal). */
  readonly onProgress?: (done: number, total: number) => void
}

/** Perplexity of a model on a token stream, with every setting that changes the number. */
export interface PerplexityResult {
  /** Mean next-token negative log-likelihood over scored tokens, in nats. */
  readonly meanNll: number
  /** exp(meanNll). */
  readonly perplexity: number
  /** Number of scored (predicted) tokens. */
  readonly tokens: number
  readonly windows: number
  readonly settings: {
    readonly kind: 'perplexity'
    readonly unit: 'nats'
    readonly windowLength: number
    readonly stride: number
    readonly streamTokens: number
    readonly skip: readonly number[]
  }
}

/**
 * Perplexity of `adapter` on the token stream `ids`: the stream is cut into windows of
 * `windowLength` tokens every `stride` tokens (see {@link tokenWindows}); each scored target
 * contributes −ln p(token | preceding tokens of its window). meanNll = Σ NLL / scored tokens (nats),
 * perplexity = exp(meanNll). With stride = windowLength each window scores windowLength − 1 targets
 * through `adapter.nll`; with a smaller stride the logits are read and only each later window's last
 * `stride` targets are scored. Throws `NON_FINITE` when the model produces NaN or ±∞ losses.
 * @example
 * const ppl = await perplexity(adapter, tokenizer.encode(text), { windowLength: 128 })
 * console.log(ppl.perplexity, ppl.meanNll, ppl.tokens)
 */
export async function perplexity(
  adapter: ModelAdapter,
  ids: Int32Array,
  options: PerplexityOptions = {},
): Promise<PerplexityResult> {
  assertKnownOptions(
    PKG,
    options,
    [
      'windowLength',
      'stride',
      'batchSize',
      'maxWindows',
      'skip',
      'method',
      'onProgress',
    ] satisfies (keyof PerplexityOptions)[],
    {
      seqLen: 'windowLength',
      sequenceLength: 'windowLength',
      contextLength: 'windowLength',
      maxLength: 'windowLength',
    },
  )
  const { windowLength = 128, batchSize = 8, skip = [], onProgress, method = 'nll' } = options
  const stride = options.stride ?? windowLength
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`${P} batchSize must be a positive integer, got ${batchSize}`)
  const windows = tokenWindows(ids, {
    windowLength,
    stride,
    ...(options.maxWindows === undefined ? {} : { maxWindows: options.maxWindows }),
  })
  const total = windows.batch.batch
  const skipSorted = [...new Set(skip)].sort((a, b) => a - b)
  let sumNll = 0
  let tokens = 0
  for (let w = 0; w < total; w += batchSize) {
    const batch = sliceBatch(windows.batch, w, w + batchSize)
    if (stride === windowLength && method === 'nll') {
      const r = await adapter.nll(batch, { skip: skipSorted })
      sumNll += r.sumNll
      tokens += r.tokens
    } else {
      const r = await scoreWithLogits(
        adapter,
        batch,
        windows.scoredFrom.subarray(w, w + batch.batch),
        skipSorted,
      )
      sumNll += r.sumNll
      tokens += r.tokens
    }
    if (!Number.isFinite(sumNll)) {
      throw new PruneError(
        'NON_FINITE',
        `${P} the model produced a non-finite loss on windows ${w}..${w + batch.batch - 1}${skipSorted.length ? ` with blocks [${skipSorted.join(', ')}] skipped` : ''}: check the weights for NaN/Inf`,
      )
    }
    onProgress?.(Math.min(total, w + batchSize), total)
  }
  const meanNll = sumNll / tokens
  return {
    meanNll,
    perplexity: Math.exp(meanNll),
    tokens,
    windows: total,
    settings: {
      kind: 'perplexity',
      unit: 'nats',
      windowLength,
      stride,
      streamTokens: ids.length,
      skip: skipSorted,
    },
  }
}

async function scoreWithLogits(
  adapter: ModelAdapter,
  batch: TokenBatch,
  scoredFrom: Int32Array,
  skip: readonly number[],
): Promise<{ sumNll: number; tokens: number }> {
  const { logits } = await adapter.forward(batch, { skip, logits: true })
  if (!logits)
    throw new PruneError('INVALID_INPUT', `${P} the adapter returned no logits although they were requested`)
  let sumNll = 0
  let tokens = 0
  const T = batch.seqLen
  for (let b = 0; b < batch.batch; b++) {
    for (let t = scoredFrom[b]!; t < T; t++) {
      sumNll -= logProbAt(logits, b * T + t - 1, batch.ids[b * T + t]!)
      tokens++
    }
  }
  return { sumNll, tokens }
}
