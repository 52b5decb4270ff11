// Every selector on a reference model (default models/llama-kjv; pass another folder as the first argument):
// one calibration pass fills the activation store, then each selector chooses N blocks for N = 2, 3 and the
// pruned model's mean next-token NLL is measured on held-out KJV text (data/kjv/valid.txt, a different slice
// from the calibration text). Reports, per selector: the set, the held-out NLL and its excess over the best
// set found by exhaustive search of the held-out NLL, MI evaluations, forward passes, wall time.
// Prints a table and writes bench/results/selectors-reference.json.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BlockIndex, Selection, SelectionContext, Selector, TokenBatch } from '@mi-prun/core'
import { loadHfModel } from '@mi-prun/adapter-tfjs'
import { loadTokenizer } from '@mi-prun/eval'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import {
  collectActivations,
  createAngularDistanceScorer,
  createBlockInfluenceScorer,
  createMiSpanScorer,
  createRandomProjection,
  createWindowCosineScorer,
} from '@mi-prun/span-scoring'
import { createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'
import {
  createBestWindowSelector,
  createExactMiSelector,
  createPerplexityRankSelector,
  createRandomSelector,
  createSlebSelector,
  createTopNSelector,
  forEachSubset,
} from '@mi-prun/selector-baselines'

const here = dirname(fileURLToPath(import.meta.url))
const modelDir = resolve(here, '..', process.argv[2] ?? 'models/llama-kjv')
const textPath = resolve(here, '../data/kjv/valid.txt')
if (!existsSync(join(modelDir, 'config.json')) || !existsSync(textPath)) {
  console.log(`skipped: ${modelDir} or ${textPath} is absent`)
  process.exit(0)
}

const adapter = await loadHfModel(modelDir, { backend: 'wasm' })
const T = adapter.info.numBlocks
const tok = await loadTokenizer(modelDir)
const ids = tok.encode(readFileSync(textPath, 'utf8').slice(0, 60_000))
const batch = (offset: number, b: number, len: number): TokenBatch => ({
  batch: b,
  seqLen: len,
  ids: ids.slice(offset, offset + b * len),
})
const calib = [batch(0, 4, 64), batch(256, 4, 64)]
const calibLoss = batch(512, 2, 64)
const heldOut = batch(2048, 2, 64)
const BUDGETS = [2, 3]

const nllOf = async (b: TokenBatch, removed: readonly BlockIndex[]): Promise<number> => {
  const r = await adapter.nll(b, { skip: removed })
  return r.sumNll / r.tokens
}
const t0 = performance.now()
const store = await collectActivations(adapter, calib, {
  maxTokens: 400,
  seed: 0,
  reducer: createRandomProjection({ rank: 16, seed: 0 }),
})
const passMs = performance.now() - t0
const dense = await nllOf(heldOut, [])

const heldOutCache = new Map<string, number>()
const heldOutNll = async (s: readonly number[]): Promise<number> => {
  const k = s.join(',')
  if (!heldOutCache.has(k)) heldOutCache.set(k, await nllOf(heldOut, s))
  return heldOutCache.get(k)!
}

interface Entry {
  selector: string
  N: number
  selected: readonly number[]
  heldOutNll: number
  excessOverBest: number
  miEvaluations: number
  forwardPasses: number
  wallMs: number
}
const entries: Entry[] = []
const bestByN: Record<number, { set: number[]; nll: number }> = {}
for (const N of BUDGETS) {
  let best = { set: [] as number[], nll: Infinity }
  const subsets: number[][] = []
  forEachSubset([...Array(T).keys()], N, (s) => subsets.push([...s]))
  for (const s of subsets) {
    const v = await heldOutNll(s)
    if (v < best.nll) best = { set: s, nll: v }
  }
  bestByN[N] = best
  const mi = (): SelectionContext => ({
    numBlocks: T,
    scorer: createMiSpanScorer({ store, estimator: createGaussianEstimator(), shareCache: false }),
  })
  const runs: Array<[string, Selector, () => SelectionContext]> = [
    ['fbs (gaussian MI)', createFastBlockSelectSelector(), mi],
    ['greedy top-N (gaussian MI)', createTopNSelector(), mi],
    ['exact MI objective (DP)', createExactMiSelector({ algorithm: 'dynamic-programming' }), mi],
    [
      'shortgpt BI',
      createTopNSelector(),
      () => ({ numBlocks: T, scorer: createBlockInfluenceScorer({ store }) }),
    ],
    [
      'gromov angular (last token)',
      createBestWindowSelector(),
      () => ({ numBlocks: T, scorer: createAngularDistanceScorer({ store }) }),
    ],
    [
      'llm-streamline cosine',
      createBestWindowSelector(),
      () => ({ numBlocks: T, scorer: createWindowCosineScorer({ store }) }),
    ],
    ['sleb', createSlebSelector(), () => ({ numBlocks: T, objective: (r) => nllOf(calibLoss, r) })],
    [
      'shortened-llama ppl',
      createPerplexityRankSelector(),
      () => ({ numBlocks: T, objective: (r) => nllOf(calibLoss, r) }),
    ],
    ['random (seed 0)', createRandomSelector({ seed: 0 }), () => ({ numBlocks: T })],
  ]
  for (const [name, sel, ctx] of runs) {
    const res: Selection = await sel.select(ctx(), N)
    const v = await heldOutNll(res.selected)
    entries.push({
      selector: name,
      N,
      selected: res.selected,
      heldOutNll: v,
      excessOverBest: v - best.nll,
      miEvaluations: res.cost.miEvaluations,
      forwardPasses: res.cost.forwardPasses,
      wallMs: res.cost.wallMs,
    })
  }
}
await adapter.dispose()

console.log(
  `model ${modelDir}: T=${T}, dense held-out NLL ${dense.toFixed(4)} nats/token, calibration pass ${passMs.toFixed(0)} ms`,
)
for (const N of BUDGETS)
  console.log(
    `N=${N}: best set by held-out NLL ${JSON.stringify(bestByN[N]!.set)} = ${bestByN[N]!.nll.toFixed(4)}`,
  )
console.table(
  entries.map((e) => ({
    N: e.N,
    selector: e.selector,
    set: JSON.stringify(e.selected),
    'held-out NLL': e.heldOutNll.toFixed(4),
    'excess vs best': e.excessOverBest.toFixed(4),
    'MI evals': e.miEvaluations,
    passes: e.forwardPasses,
    ms: e.wallMs.toFixed(0),
  })),
)
const result = {
  kind: 'bench-selectors-reference',
  model: modelDir,
  numBlocks: T,
  node: process.version,
  calibration: { sequences: 8, seqLen: 64, sampledTokens: store.samples, reducer: store.settings['reducer'] },
  heldOut: { sequences: 2, seqLen: 64, denseNll: dense, unit: 'nats per predicted token' },
  calibrationPassMs: passMs,
  bestByN,
  entries,
}
mkdirSync(join(here, 'results'), { recursive: true })
const out = join(here, 'results', 'selectors-reference.json')
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`)
renameSync(`${out}.tmp`, out)
console.log(`wrote ${out}`)
