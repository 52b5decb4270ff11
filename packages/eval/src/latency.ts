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
  /** Fastest and slowest run: the spread over runs. */
  readonly prefillMsRange: readonly [number, number]
  readonly decodeMsPerTokenRange: readonly [number, number]
}

/**
 * An adapter that decodes with a KV cache (the ONNX Runtime engine for HF folders): greedy steps
 * from a prompt, with `removed` blocks dropped from the model. When the adapter has it, the decode
 * measurement uses it, and `settings.kvCache` is true.
 */
export interface KvCacheGenerator {
  generate(
    prompt: { readonly ids: Int32Array; readonly batch: number; readonly seqLen: number },
    options: { readonly maxNewTokens: number; readonly removed?: readonly number[] },
  ): Promise<{ readonly prefillMs: number; readonly stepMs: readonly number[] }>
}

function kvGenerator(a: ModelAdapter): KvCacheGenerator | undefined {
  const g = (a as Partial<KvCacheGenerator>).generate
  return typeof g === 'function' ? (a as unknown as KvCacheGenerator) : undefined
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
    readonly kvCache: boolean
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
 * forward over the growing sequence, or, when the adapter decodes with a KV cache
 * (`KvCacheGenerator`), its cached greedy steps. Times are wall-clock medians in milliseconds.
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
  const kv = kvGenerator(adapter)
  let done = 0
  for (let r = 0; r < warmup + runs; r++) {
    for (let c = 0; c < configs.length; c++) {
      const s = configs[c]!
      const t0 = performance.now()
      await adapter.forward({ ids: prompt, batch: 1, seqLen: prompt.length }, { skip: s, logits: true })
      const t1 = performance.now()
      if (kv !== undefined) {
        if (r >= warmup) prefill[c]!.push(t1 - t0)
        if (decodeTokens > 0) {
          // decodeTokens steps after the prefill: one generated token more than the steps timed
          const g = await kv.generate(
            { ids: prompt, batch: 1, seqLen: prompt.length },
            { maxNewTokens: decodeTokens + 1, removed: s },
          )
          if (r >= warmup) decode[c]!.push(g.stepMs.reduce((x, y) => x + y, 0) / g.stepMs.length)
        }
        onProgress?.(++done, total)
        continue
      }
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
      prefillMsRange: [Math.min(...prefill[c]!), Math.max(...prefill[c]!)],
      decodeMsPerTokenRange:
        decodeTokens > 0 ? [Math.min(...decode[c]!), Math.max(...decode[c]!)] : [Number.NaN, Number.NaN],
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
      kvCache: kv !== undefined,
    },
  }
}
