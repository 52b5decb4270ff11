import { assertKnownOptions, createRng } from '@mi-prun/core'
import type { ModelAdapter } from '@mi-prun/core'
import { argmaxRow } from './logprob.js'

const P = '[@mi-prun/eval]'

export interface LatencyOptions {
  /** Prompt length in tokens for the prefill measurement; default 64. */
  readonly promptLength?: number
  /** Tokens generated greedily for the decode measurement; default 8. */
  readonly decodeTokens?: number
  /** Timed repetitions (the median is reported); default 5. */
  readonly runs?: number
  /** Untimed warm-up repetitions; default 1. */
  readonly warmup?: number
  /** Seed of the random prompt (uniform token ids); default 0. */
  readonly seed?: number
  /** A fixed prompt instead of a random one. */
  readonly prompt?: Int32Array
  /** Called after each run (warm-up included) with (done, total). */
  readonly onProgress?: (done: number, total: number) => void
}

/** Timing of one model configuration (medians over `runs`). */
export interface LatencyStats {
  /** Prompt tokens per second in one forward pass of batch 1 × promptLength (logits for every position). */
  readonly prefillTokensPerSecond: number
  readonly prefillMs: number
  /** Median milliseconds per generated token (greedy, no KV cache: each step re-reads the whole prefix). */
  readonly decodeMsPerToken: number
  readonly skip: readonly number[]
}

export interface LatencyResult {
  readonly dense: LatencyStats
  readonly pruned?: LatencyStats
  /** dense.prefillMs / pruned.prefillMs (> 1 means the pruned model is faster). */
  readonly prefillSpeedup?: number
  readonly decodeSpeedup?: number
  readonly settings: {
    readonly kind: 'latency'
    readonly promptLength: number
    readonly decodeTokens: number
    readonly runs: number
    readonly warmup: number
    readonly backend: string
    readonly kvCache: false
  }
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Latency of the dense model and, with `skip`, of the same model with those blocks skipped, on the
 * same adapter and backend. Runs alternate dense/pruned so that drift (thermal, other load) hits both
 * alike. Prefill: one forward of batch 1 × promptLength. Decode: `decodeTokens` greedy steps, each a
 * forward over the growing sequence (the adapters have no KV cache, so this is the cost a user of
 * the adapter pays per token, not the cached cost). Times are wall-clock medians in milliseconds.
 */
export async function measureLatency(
  adapter: ModelAdapter,
  skip: readonly number[] | undefined,
  options: LatencyOptions = {},
): Promise<LatencyResult> {
  assertKnownOptions('@mi-prun/eval', options, [
    'promptLength',
    'decodeTokens',
    'runs',
    'warmup',
    'seed',
    'prompt',
    'onProgress',
  ] satisfies (keyof LatencyOptions)[])
  const { promptLength = 64, decodeTokens = 8, runs = 5, warmup = 1, seed = 0, onProgress } = options
  for (const [name, v, min] of [
    ['promptLength', promptLength, 1],
    ['decodeTokens', decodeTokens, 0],
    ['runs', runs, 1],
    ['warmup', warmup, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min)
      throw new RangeError(`${P} ${name} must be an integer ≥ ${min}, got ${v}`)
  }
  const vocab = adapter.info.vocabSize
  let prompt = options.prompt
  if (!prompt) {
    const rng = createRng(seed)
    prompt = Int32Array.from({ length: promptLength }, () => rng.nextInt(vocab))
  }
  const configs: (readonly number[])[] =
    skip && skip.length > 0 ? [[], [...skip].sort((a, b) => a - b)] : [[]]
  const prefill = configs.map(() => [] as number[])
  const decode = configs.map(() => [] as number[])
  const total = (warmup + runs) * configs.length
  let done = 0
  for (let r = 0; r < warmup + runs; r++) {
    for (let c = 0; c < configs.length; c++) {
      const s = configs[c]!
      const t0 = performance.now()
      await adapter.forward({ ids: prompt, batch: 1, seqLen: prompt.length }, { skip: s, logits: true })
      const t1 = performance.now()
      let seq = prompt
      for (let g = 0; g < decodeTokens; g++) {
        const { logits } = await adapter.forward(
          { ids: seq, batch: 1, seqLen: seq.length },
          { skip: s, logits: true },
        )
        const next = logits ? argmaxRow(logits, seq.length - 1) : 0
        const grown = new Int32Array(seq.length + 1)
        grown.set(seq)
        grown[seq.length] = next
        seq = grown
      }
      const t2 = performance.now()
      if (r >= warmup) {
        prefill[c]!.push(t1 - t0)
        if (decodeTokens > 0) decode[c]!.push((t2 - t1) / decodeTokens)
      }
      onProgress?.(++done, total)
    }
  }
  const stats = configs.map((s, c): LatencyStats => {
    const ms = median(prefill[c]!)
    return {
      prefillMs: ms,
      prefillTokensPerSecond: (prompt.length * 1000) / ms,
      decodeMsPerToken: decodeTokens > 0 ? median(decode[c]!) : Number.NaN,
      skip: s,
    }
  })
  const dense = stats[0]!
  const pruned = stats[1]
  return {
    dense,
    ...(pruned
      ? {
          pruned,
          prefillSpeedup: dense.prefillMs / pruned.prefillMs,
          decodeSpeedup: dense.decodeMsPerToken / pruned.decodeMsPerToken,
        }
      : {}),
    settings: {
      kind: 'latency',
      promptLength: prompt.length,
      decodeTokens,
      runs,
      warmup,
      backend: adapter.info.backend,
      kvCache: false,
    },
  }
}
