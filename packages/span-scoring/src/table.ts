import { type EstimatorSettings, PruneError, type SpanScorer } from '@mi-prun/core'

/** Every single-block and span score of a scorer, as JSON (the CLI's `score` command, the report's heat-map). */
export interface ScoreTable {
  readonly kind: 'score-table'
  readonly scorer: string
  readonly settings: EstimatorSettings
  readonly higherMeansRemovable: boolean
  readonly numBlocks: number
  readonly maxLength: number
  /** 0-based block indices; block i maps h_i to h_{i+1}. */
  readonly indexBase: 0
  /** blocks[i] = score(i, 1). */
  readonly blocks: ReadonlyArray<number | null>
  /** spans[L−1][j] = score(j, L) for L = 1..maxLength, j = 0..T−L (null for a non-finite score). */
  readonly spans: ReadonlyArray<ReadonlyArray<number | null>>
  /** The scorer's evaluation count after the table was filled. */
  readonly evaluations: number
}

/**
 * Scores every span of length 1..maxLen (default: the scorer's own limit, else T) and returns them as a
 * JSON-safe table (non-finite values become null). Memoised spans cost nothing.
 */
export function scoreTable(scorer: SpanScorer, maxLen?: number): ScoreTable {
  const T = scorer.numBlocks
  const limit = (scorer as { maxLength?: number }).maxLength ?? T
  const maxLength = maxLen ?? limit
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > limit) {
    throw new PruneError(
      'INVALID_INPUT',
      `[@mi-prun/span-scoring] scoreTable maxLen must be an integer in 1..${limit}, got ${maxLen}`,
    )
  }
  const safe = (v: number): number | null => (Number.isFinite(v) ? v : null)
  const spans: Array<Array<number | null>> = []
  for (let L = 1; L <= maxLength; L++)
    spans.push(Array.from({ length: T - L + 1 }, (_, j) => safe(scorer.score(j, L))))
  return {
    kind: 'score-table',
    scorer: scorer.name,
    settings: scorer.settings,
    higherMeansRemovable: scorer.higherMeansRemovable,
    numBlocks: T,
    maxLength,
    indexBase: 0,
    blocks: spans[0]!,
    spans,
    evaluations: scorer.evaluations,
  }
}
