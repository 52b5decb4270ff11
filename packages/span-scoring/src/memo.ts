import {
  type BlockIndex,
  type EstimatorSettings,
  PruneError,
  type SpanScorer,
  assertKnownOptions,
} from '@mi-prun/core'

const PKG = '@mi-prun/span-scoring'
const P = `[${PKG}]`

/** What {@link createSpanScorer} needs: the raw evaluation of one span and its description. */
export interface SpanScorerOptions {
  /** Scorer name, e.g. 'mi', 'block-influence'. */
  readonly name: string
  /** T, the number of blocks. */
  readonly numBlocks: number
  /** Tagged, JSON-serialisable settings that reproduce every score. */
  readonly settings: EstimatorSettings
  /** true when a higher score means "more removable" (MI, cosine), false otherwise (BI, angular distance). */
  readonly higherMeansRemovable: boolean
  /** Raw score of the span [start, start+length), mapping h_start to h_{start+length}. Called at most once per span. */
  readonly evaluate: (start: BlockIndex, length: number) => number
  /** Longest span this scorer can score (default numBlocks). */
  readonly maxLength?: number
  /**
   * Cache to use (keys: start·(T+1)+length). Scorers given the same map share their spans: a span computed by
   * one is never computed by another. Default: a private map.
   */
  readonly cache?: Map<number, number>
}

/** A memoising scorer with its cache exposed read-only (for tables and tests). */
export interface MemoisedSpanScorer extends SpanScorer {
  /** Longest span this scorer can score. */
  readonly maxLength: number
  /** True when the span [start, start+length) has already been evaluated. */
  has(start: BlockIndex, length: number): boolean
}

/** Throws a PruneError unless [start, start+length) is a valid span of a T-block model. */
export function checkSpan(
  pkg: string,
  numBlocks: number,
  start: number,
  length: number,
  maxLength = numBlocks,
): void {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    length < 1 ||
    start < 0 ||
    start + length > numBlocks
  ) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] span [${start}, ${start + length}) is not inside the ${numBlocks} blocks 0..${numBlocks - 1}: pass an integer start ≥ 0 and length ≥ 1 with start+length ≤ ${numBlocks}`,
    )
  }
  if (length > maxLength) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] span [${start}, ${start + length}) has length ${length} but this scorer only has statistics up to length ${maxLength}: raise maxSpan when collecting activations`,
    )
  }
}

/**
 * Wraps a raw span evaluation into a {@link SpanScorer} that validates every span, memoises it
 * (each span [start, start+length) is evaluated at most once for the scorer's lifetime) and counts
 * the real evaluations in `evaluations` (spans found in a shared `cache` are not counted). Every scorer of this package is built with it; tests use it
 * to turn a synthetic score table into a scorer.
 * @example
 * const s = createSpanScorer({ name: 'table', numBlocks: 4, settings: { kind: 'table' }, higherMeansRemovable: true,
 *   evaluate: (j, L) => j + L })
 * s.score(1, 2) // 3
 * s.score(1, 2) // 3, from the cache
 * s.evaluations // 1
 */
export function createSpanScorer(options: SpanScorerOptions): MemoisedSpanScorer {
  assertKnownOptions(PKG, options, [
    'name',
    'numBlocks',
    'settings',
    'higherMeansRemovable',
    'evaluate',
    'maxLength',
    'cache',
  ] satisfies (keyof SpanScorerOptions)[])
  const { name, numBlocks, settings, higherMeansRemovable, evaluate } = options
  if (!Number.isInteger(numBlocks) || numBlocks < 1) {
    throw new PruneError('INVALID_INPUT', `${P} numBlocks must be a positive integer, got ${numBlocks}`)
  }
  const maxLength = options.maxLength ?? numBlocks
  const cache = options.cache ?? new Map<number, number>()
  const key = (start: number, length: number): number => start * (numBlocks + 1) + length
  let evaluations = 0
  return {
    name,
    numBlocks,
    settings,
    higherMeansRemovable,
    maxLength,
    get evaluations() {
      return evaluations
    },
    has: (start, length) => cache.has(key(start, length)),
    score(start, length) {
      const k = key(start, length)
      const hit = cache.get(k)
      if (hit !== undefined) return hit
      checkSpan(`@mi-prun/span-scoring:${name}`, numBlocks, start, length, maxLength)
      const v = evaluate(start, length)
      evaluations++
      cache.set(k, v)
      return v
    },
  }
}
