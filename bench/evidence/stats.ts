import type { SpanScorer, TokenBatch } from '@mi-prun/core'

/** Mean and sample standard deviation (n − 1); sd is 0 for one value. */
export function meanSd(xs: readonly number[]): { mean: number; sd: number; n: number } {
  const n = xs.length
  const mean = xs.reduce((a, b) => a + b, 0) / n
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0
  return { mean, sd: Math.sqrt(v), n }
}

/** Least-squares slope and intercept of y on x (for log-log growth exponents). */
export function fitLine(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number; r2: number } {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my)
    sxx += (xs[i]! - mx) ** 2
    syy += (ys[i]! - my) ** 2
  }
  const slope = sxy / sxx
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) }
}

/**
 * A view of a shared memoised scorer that counts the distinct spans one selector asks for: the MI
 * evaluations that selector would cost on a fresh scorer, without re-estimating shared spans.
 */
export function countingView<
  S extends SpanScorer & { has?(s: number, l: number): boolean; maxLength?: number },
>(inner: S): S & { readonly asked: number } {
  const seen = new Set<string>()
  return {
    name: inner.name,
    numBlocks: inner.numBlocks,
    settings: inner.settings,
    higherMeansRemovable: inner.higherMeansRemovable,
    ...(inner.maxLength !== undefined ? { maxLength: inner.maxLength } : {}),
    score(start: number, length: number): number {
      seen.add(`${start}:${length}`)
      return inner.score(start, length)
    },
    has: (start: number, length: number) => seen.has(`${start}:${length}`),
    get evaluations() {
      return seen.size
    },
    get asked() {
      return seen.size
    },
  } as unknown as S & { readonly asked: number }
}

/** The first `rows` sequences of a list of batches, as one batch (the calibration loss set). */
export function firstRows(batches: readonly TokenBatch[], rows: number): TokenBatch {
  const seqLen = batches[0]!.seqLen
  const ids: number[] = []
  for (const b of batches) {
    for (let r = 0; r < b.batch && ids.length < rows * seqLen; r++)
      for (let j = 0; j < seqLen; j++) ids.push(b.ids[r * seqLen + j]!)
  }
  const n = ids.length / seqLen
  return { batch: n, seqLen, ids: Int32Array.from(ids) }
}

/** Binomial coefficient C(n, k) as a float. */
export function choose(n: number, k: number): number {
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return Math.round(r)
}

/** A markdown table from rows of cells. */
export function mdTable(head: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n')
}
