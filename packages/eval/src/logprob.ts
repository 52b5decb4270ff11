import type { Matrix } from '@mi-prun/core'

/**
 * Natural-log probability of `target` under the softmax of logits row `row` (float64 log-sum-exp
 * with the max subtracted). Returns NaN when the row holds a non-finite value.
 */
export function logProbAt(logits: Matrix, row: number, target: number): number {
  const v = logits.cols
  const d = logits.data
  const off = row * v
  let max = Number.NEGATIVE_INFINITY
  for (let j = 0; j < v; j++) {
    const x = d[off + j]!
    if (x > max) max = x
  }
  if (!Number.isFinite(max)) return Number.NaN
  let sum = 0
  for (let j = 0; j < v; j++) sum += Math.exp(d[off + j]! - max)
  return d[off + target]! - max - Math.log(sum)
}

/** Index of the largest logit of row `row` (lowest index on ties). */
export function argmaxRow(logits: Matrix, row: number): number {
  const v = logits.cols
  const off = row * v
  let best = 0
  let bestValue = Number.NEGATIVE_INFINITY
  for (let j = 0; j < v; j++) {
    const x = logits.data[off + j]!
    if (x > bestValue) {
      bestValue = x
      best = j
    }
  }
  return best
}
