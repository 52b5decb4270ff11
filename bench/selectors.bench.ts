// Fast-Block-Select vs the exact optimum of the same span objective and vs greedy top-N, on residual-like
// synthetic MI tables (Gaussian chain h_{i+1} = h_i + e_i: exact, DPI-consistent span MI), at model depths
// T = 12..40 and the paper's budgets (15 % and 25 % of T, rounded up). Reports MI evaluations (the cost unit of
// score-based selection; no forward passes beyond the one calibration pass), wall time, and the objective as a
// fraction of the optimum. The optimum comes from the exact dynamic program; enumeration is timed where
// C(T, N) ≤ 2e6. Prints a table and writes bench/results/selectors.json.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { blocksForRatio, createRng } from '@mi-prun/core'
import { createSpanScorer, setObjective } from '@mi-prun/span-scoring'
import { type FbsTrace, createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'
import { binomial, createExactMiSelector, createTopNSelector } from '@mi-prun/selector-baselines'

const here = dirname(fileURLToPath(import.meta.url))

function residualScorer(T: number, seed: number) {
  const rng = createRng(seed)
  const v = Array.from({ length: T }, () => Math.exp(1.5 * rng.normal() - 1))
  const V = [1]
  for (let i = 0; i < T; i++) V.push(V[i]! + v[i]!)
  return createSpanScorer({
    name: 'residual-table',
    numBlocks: T,
    settings: { kind: 'residual-table', seed },
    higherMeansRemovable: true,
    evaluate: (j, L) => {
      let s = 0
      for (let b = j; b < j + L; b++) s += v[b]!
      return 0.5 * Math.log(1 + V[j]! / s)
    },
  })
}

const median = (x: number[]): number => {
  const s = [...x].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

interface Row {
  name: string
  T: number
  N: number
  seeds: number
  fbsEvals: number
  fbsMs: number
  fbsIterations: number
  fbsOptimalRate: number
  fbsObjectiveRatio: number
  greedyObjectiveRatio: number
  dpEvals: number
  dpMs: number
  enumCombinations: number
  enumMs: number | null
  contiguousSpans: number
}

const rows: Row[] = []
const SEEDS = 10
for (const T of [12, 16, 24, 32, 40]) {
  for (const ratio of [0.15, 0.25]) {
    const N = blocksForRatio(T, ratio)
    const r = {
      fbsEvals: [] as number[],
      fbsMs: [] as number[],
      it: [] as number[],
      opt: 0,
      fr: [] as number[],
      gr: [] as number[],
      dpE: [] as number[],
      dpMs: [] as number[],
      enMs: [] as number[],
    }
    const combos = binomial(T, N)
    for (let seed = 0; seed < SEEDS; seed++) {
      const s1 = residualScorer(T, 100 * T + seed)
      let t0 = performance.now()
      const fbs = createFastBlockSelectSelector().select({ numBlocks: T, scorer: s1 }, N)
      r.fbsMs.push(performance.now() - t0)
      r.fbsEvals.push(fbs.cost.miEvaluations)
      r.it.push((fbs.trace as FbsTrace).iterations.length)
      const s2 = residualScorer(T, 100 * T + seed)
      t0 = performance.now()
      const dp = createExactMiSelector({ algorithm: 'dynamic-programming' }).select(
        { numBlocks: T, scorer: s2 },
        N,
      )
      r.dpMs.push(performance.now() - t0)
      r.dpE.push(dp.cost.miEvaluations)
      if (combos <= 2e6 && seed < 3) {
        t0 = performance.now()
        const ex = createExactMiSelector().select(
          { numBlocks: T, scorer: residualScorer(T, 100 * T + seed) },
          N,
        )
        r.enMs.push(performance.now() - t0)
        if (ex.selected.join() !== dp.selected.join())
          throw new Error(`enumeration and DP disagree at T=${T} N=${N} seed=${seed}`)
      }
      const greedy = createTopNSelector().select({ numBlocks: T, scorer: s2 }, N)
      const best = setObjective(s2, dp.selected)
      const vF = setObjective(s2, fbs.selected)
      if (vF >= best - 1e-12 * Math.abs(best)) r.opt++
      r.fr.push(vF / best)
      r.gr.push(setObjective(s2, greedy.selected) / best)
    }
    rows.push({
      name: `fbs-vs-exact:T=${T},N=${N}`,
      T,
      N,
      seeds: SEEDS,
      fbsEvals: median(r.fbsEvals),
      fbsMs: median(r.fbsMs),
      fbsIterations: median(r.it),
      fbsOptimalRate: r.opt / SEEDS,
      fbsObjectiveRatio: median(r.fr),
      greedyObjectiveRatio: median(r.gr),
      dpEvals: median(r.dpE),
      dpMs: median(r.dpMs),
      enumCombinations: combos,
      enumMs: r.enMs.length ? median(r.enMs) : null,
      contiguousSpans: (T * (T + 1)) / 2,
    })
  }
}

console.table(
  rows.map((x) => ({
    run: x.name,
    'FBS evals': x.fbsEvals,
    'FBS iters': x.fbsIterations,
    'FBS ms': x.fbsMs.toFixed(2),
    'FBS optimal': `${(100 * x.fbsOptimalRate).toFixed(0)}%`,
    'FBS/opt': x.fbsObjectiveRatio.toFixed(3),
    'greedy/opt': x.greedyObjectiveRatio.toFixed(3),
    'DP evals': x.dpEvals,
    'DP ms': x.dpMs.toFixed(2),
    'C(T,N)': x.enumCombinations,
    'enum ms': x.enumMs === null ? '–' : x.enumMs.toFixed(1),
    'T(T+1)/2': x.contiguousSpans,
  })),
)
const result = {
  kind: 'bench-selectors',
  description:
    'Fast-Block-Select vs exact optimum (DP) and greedy top-N on residual-like Gaussian-chain MI tables; medians over seeds',
  node: process.version,
  unit: {
    evals: 'span-score evaluations (memoised)',
    ms: 'wall milliseconds',
    ratio: 'objective / optimum (nats / nats)',
  },
  rows,
}
mkdirSync(join(here, 'results'), { recursive: true })
const out = join(here, 'results', 'selectors.json')
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`)
renameSync(`${out}.tmp`, out)
console.log(`wrote ${out}`)
