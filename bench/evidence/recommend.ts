// The default estimator and reducer for the CLI, derived from the evidence JSON of every model.
import { mdTable } from './stats.js'

interface Res {
  model: { path: string; numBlocks: number }
  dense: { perplexity: number }
  quality: Array<{ method: string; N: number; ppl: number }>
  stability: Array<{ method: string; meanJaccard: number }>
  cost: Array<{ method: string; wholeOverPass: number }>
  reducers: Array<{
    estimator: string
    reducer: string
    ppl: number[]
    meanJaccard: number
    wholeOverPass: number
  }>
  settings: { reducer: string }
}

/**
 * Ranks candidates by the geometric mean, over models and pruning levels, of pruned / dense held-out
 * perplexity (lower is better) among those whose whole selection time is ≤ 1.25 calibration passes on
 * every model; ties (within 0.5 %) go to the higher mean Jaccard. Estimators are ranked under the main
 * reducer; reducers are ranked for the chosen estimator where it was in the reducer comparison.
 */
export function recommend(results: readonly Res[]): { markdown: string; estimator: string; reducer: string } {
  const gm = (xs: number[]) => Math.exp(xs.reduce((a, b) => a + Math.log(b), 0) / xs.length)
  const estimators = [
    ...new Set(
      results.flatMap((r) =>
        r.quality.filter((q) => q.method.startsWith('mi-prun fbs:')).map((q) => q.method),
      ),
    ),
  ]
  const rows = estimators.map((m) => {
    const rel = results.flatMap((r) =>
      r.quality.filter((q) => q.method === m).map((q) => q.ppl / r.dense.perplexity),
    )
    const jac = results.map((r) => r.stability.find((s) => s.method === m)?.meanJaccard ?? NaN)
    const ratio = Math.max(
      ...results.map((r) => r.cost.find((c) => c.method === m)?.wholeOverPass ?? Infinity),
    )
    return {
      m: m.slice('mi-prun fbs:'.length),
      rel: gm(rel),
      jac: jac.reduce((a, b) => a + b, 0) / jac.length,
      ratio,
    }
  })
  const pick = <T extends { rel: number; jac: number; ratio: number }>(xs: T[]): T => {
    const ok = xs.filter((x) => x.ratio <= 1.25)
    const pool = ok.length ? ok : xs
    return [...pool].sort((a, b) =>
      Math.abs(a.rel - b.rel) / Math.min(a.rel, b.rel) < 0.005
        ? b.jac !== a.jac
          ? b.jac - a.jac
          : a.ratio - b.ratio
        : a.rel - b.rel,
    )[0]!
  }
  const best = pick(rows)
  const redNames = [
    ...new Set(
      results.flatMap((r) => r.reducers.filter((x) => x.estimator === best.m).map((x) => x.reducer)),
    ),
  ]
  const redRows = redNames.map((rn) => {
    const rel = results.flatMap((r) =>
      r.reducers
        .filter((x) => x.estimator === best.m && x.reducer === rn)
        .flatMap((x) => x.ppl.map((p) => p / r.dense.perplexity)),
    )
    const jac = results.flatMap((r) =>
      r.reducers.filter((x) => x.estimator === best.m && x.reducer === rn).map((x) => x.meanJaccard),
    )
    const ratio = Math.max(
      ...results.flatMap((r) =>
        r.reducers.filter((x) => x.estimator === best.m && x.reducer === rn).map((x) => x.wholeOverPass),
      ),
    )
    return { m: rn, rel: gm(rel), jac: jac.reduce((a, b) => a + b, 0) / jac.length, ratio }
  })
  const bestRed = redRows.length
    ? pick(redRows)
    : { m: results[0]!.settings.reducer, rel: NaN, jac: NaN, ratio: NaN }
  const fmt = (x: { m: string; rel: number; jac: number; ratio: number }) => [
    x.m,
    x.rel.toFixed(4),
    x.jac.toFixed(3),
    x.ratio.toFixed(2),
  ]
  const head = ['candidate', 'geo-mean pruned/dense PPL (lower better)', 'mean Jaccard', 'worst whole/pass']
  const markdown = [
    `# Evidence summary (${results.map((r) => r.model.path).join(', ')})`,
    '',
    `Estimators (Fast-Block-Select, reducer ${results[0]!.settings.reducer}):`,
    '',
    mdTable(head, rows.map(fmt)),
    '',
    `Reducers for ${best.m}:`,
    '',
    mdTable(head, redRows.map(fmt)),
    '',
    `Default estimator and reducer: --estimator ${best.m} --reducer ${bestRed.m} — lowest geometric-mean pruned/dense held-out perplexity (${best.rel.toFixed(4)}; reducer ${bestRed.rel.toFixed(4)}) among candidates within 1.25 calibration passes of whole time${rows.every((r) => r.ratio > 1.25) ? ' (no estimator met 1.25, so among all)' : ''}, ties within 0.5 % to the higher Jaccard (${best.jac.toFixed(3)}), then to the lower cost.`,
  ].join('\n')
  return { markdown, estimator: best.m, reducer: bestRed.m }
}
