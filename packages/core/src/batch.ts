import { PruneError } from './errors.js'
import type { TokenBatch } from './interfaces.js'

/**
 * Validates a token batch at an adapter's public boundary: shape `batch × seqLen` matching `ids`,
 * at most `maxPositions` tokens per sequence (when given), every id inside `[0, vocabSize)`.
 * Throws PruneError('INVALID_INPUT') prefixed with `[pkg]`, naming the first bad value.
 */
export function validateTokenBatch(
  pkg: string,
  b: TokenBatch,
  limits: { readonly vocabSize: number; readonly maxPositions?: number },
): void {
  if (b === null || typeof b !== 'object' || !(b.ids instanceof Int32Array)) {
    throw new PruneError('INVALID_INPUT', `[${pkg}] a token batch must be { ids: Int32Array, batch, seqLen }`)
  }
  if (
    !Number.isInteger(b.batch) ||
    b.batch < 1 ||
    !Number.isInteger(b.seqLen) ||
    b.seqLen < 1 ||
    b.ids.length !== b.batch * b.seqLen
  ) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] token batch ${b.batch}x${b.seqLen} needs ${b.batch * b.seqLen} ids, got ${b.ids.length}`,
    )
  }
  if (limits.maxPositions !== undefined && b.seqLen > limits.maxPositions) {
    throw new PruneError(
      'INVALID_INPUT',
      `[${pkg}] seqLen ${b.seqLen} exceeds the model's ${limits.maxPositions} positions: use shorter sequences`,
    )
  }
  const { vocabSize } = limits
  for (let i = 0; i < b.ids.length; i++) {
    const t = b.ids[i]!
    if (!(t >= 0 && t < vocabSize)) {
      throw new PruneError(
        'INVALID_INPUT',
        `[${pkg}] token id ${t} at flat index ${i} is outside the vocabulary [0, ${vocabSize})`,
      )
    }
  }
}

/**
 * A skip list as sorted distinct block indices, each checked to lie in `0..numBlocks−1`
 * (PruneError('INVALID_INPUT') naming the bad index otherwise).
 */
export function normaliseSkip(
  pkg: string,
  skip: ReadonlySet<number> | readonly number[] | undefined,
  numBlocks: number,
): number[] {
  if (skip === undefined) return []
  const list = [...new Set(skip)].sort((a, b) => a - b)
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= numBlocks)
      throw new PruneError('INVALID_INPUT', `[${pkg}] skip block ${i} is out of range 0..${numBlocks - 1}`)
  }
  return list
}
