// Evidence items 1–5 on one reference model (argv[2] = model folder, argv[3] = output stem).
// Everything runs in this one process on the CLI's session (apps/cli/src/session.ts): one calibration
// draw from data/kjv/train.txt (K disjoint subsets), one activation store per subset, the CLI's MI
// scorers/reducer and selector registry; held-out perplexity on data/kjv/test.txt with the CLI's
// evalPerplexity. Settings come from settings.ts and are written into the output.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BlockIndex, Selection, SpanScorer, TokenBatch } from '@mi-prun/core'
import { evaluateMultipleChoice, loadMcTasks } from '@mi-prun/eval'
import {
  createAngularDistanceScorer,
  createBlockInfluenceScorer,
  createEnsembleScorer,
  createMiSpanScorer,
  setObjective,
} from '@mi-prun/span-scoring'
import {
  bundledTasks,
  estimatorFactories,
  parseReducerSpec,
  parseEstimatorSpec,
  evalPerplexity,
  heldoutIds,
  openSession,
  pairwiseJaccard,
  prefixable,
  quietContext,
  selectorRegistry,
  sessionSettings,
} from './cli.js'
import type { SelectorName, Session } from './cli.js'
import { evidenceSettings } from './settings.js'
import { choose, countingView, firstRows, mdTable, meanSd } from './stats.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const modelDir = resolve(root, process.argv[2]!)
const name = basename(modelDir)
const S = evidenceSettings(process.env.EVIDENCE_QUICK === '1')
const t00 = performance.now()
const log = (m: string) =>
  process.stderr.write(`[${name} ${((performance.now() - t00) / 1000).toFixed(0)}s] ${m}\n`)
const deadline = t00 + S.budgetS * 1000
/** Milliseconds left of the run's time budget (sections that would overrun it are skipped and say so). */
const left = () => deadline - performance.now()
const skipped: string[] = []
const metrics = JSON.parse(readFileSync(join(modelDir, 'metrics.json'), 'utf8'))

// the first S.calibBytes of the train split (tokenising all 3.7 MB costs ~20 s per session on this machine)
const calibFile = join(tmpdir(), `mi-prun-evidence-${process.pid}-train-head.txt`)
writeFileSync(calibFile, readFileSync(join(root, 'data/kjv/train.txt'), 'utf8').slice(0, S.calibChars))
const values = {
  calib: [calibFile],
  samples: String(S.samples),
  'seq-len': String(S.seqLen),
  tokens: String(S.tokens),
  subsets: String(S.subsets),
  reducer: S.reducer,
  seed: String(S.seed),
  k: String(S.ksgK),
}
const ctx = quietContext(values as never)
const session: Session = await openSession(ctx, modelDir, sessionSettings(ctx))
const adapter = session.adapter
const T = adapter.info.numBlocks
const levels = T <= 8 ? [1, 2, 3] : [Math.round(T * 0.15), Math.round(T * 0.25), Math.round(T / 3)]
const mid = levels[1]!
const estimators = S.estimators

// --- the one calibration forward pass (timed), then the other subsets' stores
let t = performance.now()
const store0 = await session.store(0)
const calibrationPassMs = performance.now() - t
log(`calibration pass ${calibrationPassMs.toFixed(0)} ms, ${store0.samples} MI samples`)

const stores = [store0]
for (let s = 1; s < S.subsets; s++) stores.push(await session.store(s))

// calibration loss for loss-based selectors: the first objRows sequences of each subset's draw
const lossBatch: TokenBatch[] = [...Array(S.subsets).keys()].map((s) =>
  firstRows(session.batches(s), S.objRows),
)
let lossPasses = 0
const lossOf = (s: number) => async (removed: readonly BlockIndex[]) => {
  lossPasses++
  const r = await adapter.nll(lossBatch[s]!, { skip: removed })
  return r.sumNll / r.tokens
}
t = performance.now()
await lossOf(0)([])
const lossPassMs = performance.now() - t

// --- held-out perplexity (memoised by set)
const ids = await heldoutIds([join(root, 'data/kjv/test.txt')], session.tokenizer, adapter.info.vocabSize)
const pplCache = new Map<string, { meanNll: number; perplexity: number; tokens: number }>()
const ppl = async (skip: readonly number[]) => {
  const key = [...skip].sort((a, b) => a - b).join(',')
  let r = pplCache.get(key)
  if (!r) {
    const p = await evalPerplexity(ctx, adapter, ids, {
      windowLength: S.pplWindow,
      maxWindows: S.pplWindows,
      skip: [...skip].sort((a, b) => a - b),
      label: key,
    })
    r = { meanNll: p.meanNll, perplexity: p.perplexity, tokens: p.tokens }
    pplCache.set(key, r)
  }
  return r
}
const dense = await ppl([])
log(`dense held-out PPL ${dense.perplexity.toFixed(3)} over ${dense.tokens} tokens`)

const run = async (
  sel: SelectorName,
  n: number,
  scorer?: SpanScorer,
  objective?: (r: readonly BlockIndex[]) => Promise<number>,
): Promise<Selection> =>
  selectorRegistry[sel]
    .create({ seed: S.seed, fbsK: 5 })
    .select({ numBlocks: T, ...(scorer ? { scorer } : {}), ...(objective ? { objective } : {}) }, n)
// ===== 4. Cost at the largest level, measured first: the MI scorers are the session's shared ones, cold
// at their first use here (an ensemble's members are then cached, so its time is its warm run plus its
// members' cold times); whole time over the one calibration pass. SLEB/PPL-rank runs here are reused
// for quality (their lower levels are prefixes of the order at the largest level).
const costN = levels[levels.length - 1]!
log('4. cost')
const cost: Array<Record<string, unknown>> = []
const coldMs = new Map<string, number>()
for (const e of estimators) {
  const t2 = performance.now()
  const sc = await session.miScorer(e, 0)
  const sel = await run('fbs', costN, sc)
  let ms = performance.now() - t2
  const members = parseEstimatorSpec(e)
  if (members.length > 1) ms += members.reduce((acc, m) => acc + (coldMs.get(m) ?? 0), 0)
  else coldMs.set(e, ms)
  cost.push({
    method: `mi-prun fbs:${e}`,
    N: costN,
    selectionMs: ms,
    forwardPasses: 1,
    tokensForward: S.samples * S.seqLen,
    miEvaluations: members.length > 1 ? `${sel.cost.miEvaluations} (warm) + members` : sc.evaluations,
  })
}
for (const [label, selName, mk] of [
  ['shortgpt-bi', 'shortgpt', () => createBlockInfluenceScorer({ store: store0 })],
  ['angular-window', 'angular', () => createAngularDistanceScorer({ store: store0 })],
] as const) {
  const t2 = performance.now()
  const sel = await run(selName, costN, mk())
  cost.push({
    method: label,
    N: costN,
    selectionMs: performance.now() - t2,
    forwardPasses: 1 + sel.cost.forwardPasses,
    tokensForward: S.samples * S.seqLen,
    miEvaluations: 0,
  })
}
const lossSelections = new Map<string, Selection>()
for (const [label, selName] of [
  ['sleb-greedy', 'sleb'],
  ['ppl-rank', 'ppl-rank'],
] as const) {
  const t2 = performance.now()
  const sel = await run(selName, costN, undefined, lossOf(0))
  lossSelections.set(selName, sel)
  cost.push({
    method: label,
    N: costN,
    selectionMs: performance.now() - t2,
    forwardPasses: sel.cost.forwardPasses,
    tokensForward: sel.cost.forwardPasses * S.objRows * S.seqLen,
    miEvaluations: 0,
    passBatch: `${S.objRows}×${S.seqLen}`,
  })
}

// --- shared memoised MI scorers per (estimator, subset)
const miShared = (e: string, s = 0) => session.miScorer(e, s)
const sorted = (x: readonly number[]) => [...x].sort((a, b) => a - b)

// ===== 1. Optimality: FBS vs exact MI search, N = 1..floor(T/3), each estimator
log('1. optimality')
const optimality: Array<Record<string, unknown>> = []
for (const e of estimators) {
  const shared = await miShared(e)
  for (let n = 1; n <= Math.floor(T / 3); n++) {
    const fv = countingView(shared)
    const fbs = await selectorRegistry.fbs
      .create({ seed: S.seed, fbsK: 5 })
      .select({ numBlocks: T, scorer: fv }, n)
    const ev = countingView(shared)
    const ex = await selectorRegistry['exact-mi']
      .create({ seed: S.seed, fbsK: 5 })
      .select({ numBlocks: T, scorer: ev }, n)
    const of = setObjective(shared, fbs.selected)
    const oe = setObjective(shared, ex.selected)
    optimality.push({
      estimator: e,
      N: n,
      fbs: fbs.selected,
      exact: ex.selected,
      objFbs: of,
      objExact: oe,
      gap: oe - of,
      fbsMiEvals: fv.asked,
      exactMiEvals: ev.asked,
      exactSettings: ex.settings,
    })
  }
}

// ===== 2 + 5. Quality at three levels (and the top-N ablation)
log('2. quality')
interface Row {
  method: string
  N: number
  selected: number[]
  ppl: number
  meanNll: number
  objective?: number
}
const quality: Row[] = []
const selectionsAt = new Map<string, number[]>() // `${method}@${N}`
const push = async (method: string, n: number, selected: readonly number[], objective?: number) => {
  const p = await ppl(selected)
  selectionsAt.set(`${method}@${n}`, sorted(selected))
  quality.push({
    method,
    N: n,
    selected: sorted(selected),
    ppl: p.perplexity,
    meanNll: p.meanNll,
    ...(objective !== undefined ? { objective } : {}),
  })
}
for (const e of estimators) {
  const shared = await miShared(e)
  for (const n of levels) {
    const f = await run('fbs', n, shared)
    await push(`mi-prun fbs:${e}`, n, f.selected, setObjective(shared, f.selected))
    if (e === estimators[0]) {
      const ex = await run('exact-mi', n, shared)
      await push(`exact-mi:${e}`, n, ex.selected, setObjective(shared, ex.selected))
    }
  }
}
// ablation: greedy top-N by single-block MI
const ablation: Array<Record<string, unknown>> = []
for (const e of estimators) {
  const shared = await miShared(e)
  for (const n of levels) {
    const top = await selectorRegistry.shortgpt
      .create({ seed: S.seed, fbsK: 5 })
      .select({ numBlocks: T, scorer: shared }, n) // top-N selector
    const fbsSel = selectionsAt.get(`mi-prun fbs:${e}@${n}`)!
    const pt = await ppl(top.selected)
    const pf = await ppl(fbsSel)
    ablation.push({
      estimator: e,
      N: n,
      topN: sorted(top.selected),
      fbs: fbsSel,
      objTopN: setObjective(shared, top.selected),
      objFbs: setObjective(shared, fbsSel),
      pplTopN: pt.perplexity,
      pplFbs: pf.perplexity,
    })
  }
}
const bi = await session.scorerFor('bi', 0)
const ang = await session.scorerFor('angular', 0)
for (const n of levels) {
  await push('shortgpt-bi', n, (await run('shortgpt', n, bi)).selected)
  await push('angular-window', n, (await run('angular', n, ang)).selected)
}
// SLEB and PPL-rank: the runs of the cost section; lower levels are prefixes of their orders (as the CLI does)
for (const m of ['sleb', 'ppl-rank'] as const) {
  const sel = lossSelections.get(m)!
  for (const n of levels)
    await push(
      m === 'sleb' ? 'sleb-greedy' : 'ppl-rank',
      n,
      prefixable.has(m) && sel.order
        ? sel.order.slice(0, n)
        : (await run(m, n, undefined, lossOf(0))).selected,
    )
}
// random: mean ± sd over seeds
const randomRows: Array<Record<string, unknown>> = []
for (const n of levels) {
  const ps: number[] = []
  const sets: number[][] = []
  for (let seed = 0; seed < S.randomSeeds; seed++) {
    const r = await selectorRegistry.random.create({ seed, fbsK: 5 }).select({ numBlocks: T }, n)
    sets.push(sorted(r.selected))
    ps.push((await ppl(r.selected)).perplexity)
  }
  const ms = meanSd(ps)
  randomRows.push({
    N: n,
    seeds: S.randomSeeds,
    pplMean: ms.mean,
    pplSd: ms.sd,
    pplMin: Math.min(...ps),
    pplMax: Math.max(...ps),
    sets,
  })
}
const oracle: Array<Record<string, unknown>> = []

// multiple choice at the middle level for each distinct set (and dense)
log('2. multiple choice')
const mcItems = await loadMcTasks(bundledTasks())
const mcCache = new Map<string, { acc: number; accNorm: number; accStderr: number; items: number }>()
const mc = async (skip: readonly number[]) => {
  const key = sorted(skip).join(',')
  if (!mcCache.has(key)) {
    const r = await evaluateMultipleChoice(adapter, session.tokenizer, mcItems, {
      skip: sorted(skip),
      limit: S.mcItems,
      maxLength: Math.min(256, adapter.info.maxPositions),
    })
    mcCache.set(key, { acc: r.acc, accNorm: r.accNorm, accStderr: r.accStderr, items: r.items })
  }
  return mcCache.get(key)!
}
const mcDense = await mc([])
const mcRows: Array<Record<string, unknown>> = []
for (const q of quality.filter((r) => r.N === mid)) {
  if (!mcCache.has(q.selected.join(',')) && left() < S.reserveMs) {
    skipped.push(`multiple choice of ${q.method}: out of time`)
    continue
  }
  mcRows.push({ method: q.method, selected: q.selected, ...(await mc(q.selected)) })
}
const randMid = randomRows.find((r) => r['N'] === mid)!['sets'] as number[][]
const randMc: number[] = []
for (const s of randMid.slice(0, S.mcRandomSeeds)) if (left() > S.reserveMs) randMc.push((await mc(s)).acc)

// ===== 3. Stability across disjoint calibration subsets (middle level)
log('3. stability')
const stability: Array<Record<string, unknown>> = []
const stab = async (method: string, pick: (s: number) => Promise<readonly number[]>) => {
  const sets: number[][] = []
  for (let s = 0; s < S.subsets; s++) sets.push(sorted(await pick(s)))
  const j = pairwiseJaccard(sets)
  stability.push({ method, N: mid, meanJaccard: j.mean, minJaccard: j.min, sets })
}
for (const e of estimators)
  await stab(`mi-prun fbs:${e}`, async (s) => (await run('fbs', mid, await miShared(e, s))).selected)
await stab(
  'shortgpt-bi',
  async (s) => (await run('shortgpt', mid, await session.scorerFor('bi', s))).selected,
)
await stab(
  'angular-window',
  async (s) => (await run('angular', mid, await session.scorerFor('angular', s))).selected,
)
// across calibration sizes: fresh sessions with other samples × seqLen, same subsets count
const sizeStability: Array<Record<string, unknown>> = []
for (const [samples, seqLen] of S.sizes) {
  if (left() < S.reserveMs * 2) {
    skipped.push(`calibration size ${samples}×${seqLen}: out of time`)
    continue
  }
  const v2 = {
    ...values,
    samples: String(samples),
    'seq-len': String(seqLen),
    tokens: String(Math.min(S.tokens, samples * (seqLen - 1))),
  }
  const c2 = quietContext(v2 as never)
  const s2 = await openSession(c2, modelDir, sessionSettings(c2))
  try {
    for (const e of S.sizeEstimators) {
      const sets: number[][] = []
      for (let s = 0; s < S.subsets; s++) sets.push(sorted((await s2.select('fbs', mid, s, e)).selected))
      const j = pairwiseJaccard(sets)
      sizeStability.push({
        method: `mi-prun fbs:${e}`,
        samples,
        seqLen,
        miSamples: (await s2.store(0)).samples,
        N: mid,
        meanJaccard: j.mean,
        minJaccard: j.min,
        sets,
      })
    }
  } finally {
    await s2.dispose()
  }
}

for (const c of cost) {
  const usesStore = !String(c['method']).startsWith('sleb') && !String(c['method']).startsWith('ppl-rank')
  c['wholeOverPass'] = usesStore
    ? (calibrationPassMs + (c['selectionMs'] as number)) / calibrationPassMs
    : (c['selectionMs'] as number) / calibrationPassMs
  c['calibPassEquivalents'] = (c['tokensForward'] as number) / (S.samples * S.seqLen)
}
const slebTokens = cost.find((c) => c['method'] === 'sleb-greedy')!['tokensForward'] as number
const slebPasses = cost.find((c) => c['method'] === 'sleb-greedy')!['forwardPasses'] as number

// ===== reducer comparison (for the CLI default): FBS with each estimator of S.reducerEstimators under each
// reducer: held-out PPL at every level, Jaccard across the subsets at the middle level, cold time at the middle level
log('reducers')
const reducers: Array<Record<string, unknown>> = []
for (const e of S.reducerEstimators) {
  for (const spec of S.reducers) {
    if (left() < S.reserveMs * 2) {
      skipped.push(`reducer ${spec} with ${e}: out of time`)
      continue
    }
    const red = parseReducerSpec(spec, adapter.info.hiddenSize, S.seed)
    const mk = (s: number) =>
      createMiSpanScorer({
        store: stores[s]!,
        estimator: estimatorFactories[e as 'gaussian']({ k: S.ksgK, seed: S.seed }),
        ...(red ? { reducer: red } : {}),
        shareCache: false,
      })
    const t3 = performance.now()
    const sc0 = mk(0)
    const atMid = await run('fbs', mid, sc0)
    const ms = performance.now() - t3
    const ppls: number[] = []
    for (const n of levels)
      ppls.push((await ppl(n === mid ? atMid.selected : (await run('fbs', n, sc0)).selected)).perplexity)
    const sets: number[][] = [sorted(atMid.selected)]
    for (let s = 1; s < S.subsets; s++) sets.push(sorted((await run('fbs', mid, mk(s))).selected))
    const j = pairwiseJaccard(sets)
    reducers.push({
      estimator: e,
      reducer: spec,
      selectionMs: ms,
      wholeOverPass: (calibrationPassMs + ms) / calibrationPassMs,
      ppl: ppls,
      meanJaccard: j.mean,
      minJaccard: j.min,
      sets,
    })
  }
}

// loss-based stability last but one (the most forward passes): subset 0 is the cost-section run
log('3. stability (loss-based)')
for (const [label, m] of [
  ['sleb-greedy', 'sleb'],
  ['ppl-rank', 'ppl-rank'],
] as const) {
  const est = (m === 'sleb' ? mid * T : T) * lossPassMs * (S.subsets - 1)
  if (est > left()) {
    skipped.push(
      `stability of ${label}: estimated ${(est / 1000).toFixed(0)} s > ${(left() / 1000).toFixed(0)} s left`,
    )
    continue
  }
  await stab(label, async (s) =>
    s === 0
      ? lossSelections.get(m)!.order!.slice(0, mid)
      : (await run(m, mid, undefined, lossOf(s))).selected,
  )
}

// perplexity oracle: exhaustive over all N-subsets of the calibration loss set (capped by estimated time)
log('2. oracle')
let oracleSpentMs = 0
for (const n of levels) {
  const passes = choose(T, n)
  const estMs = passes * lossPassMs
  if (oracleSpentMs + estMs > S.oracleCapMs || estMs > left()) {
    oracle.push({
      N: n,
      passes,
      skipped: `estimated ${(estMs / 1000).toFixed(0)} s (${passes} passes × ${lossPassMs.toFixed(0)} ms) exceeds the remaining oracle cap of ${((S.oracleCapMs - oracleSpentMs) / 1000).toFixed(0)} s or the run's remaining time ${(left() / 1000).toFixed(0)} s`,
    })
    continue
  }
  const t1 = performance.now()
  const sel = await run('exact-ppl', n, undefined, lossOf(0))
  oracleSpentMs += performance.now() - t1
  await push('ppl-oracle (calib loss, exhaustive)', n, sel.selected)
  oracle.push({
    N: n,
    passes: sel.cost.forwardPasses,
    selected: sel.selected,
    wallMs: performance.now() - t1,
  })
}

// ===== output
const result = {
  kind: 'bench-evidence',
  model: {
    path: process.argv[2],
    numBlocks: T,
    hiddenSize: adapter.info.hiddenSize,
    parameters: adapter.info.parameters,
    architecture: adapter.info.architecture,
    backend: adapter.info.backend,
    trainedSteps: metrics.valid?.best_step ?? null,
    validLoss: metrics.valid?.best_loss_nats ?? null,
  },
  settings: {
    ...S,
    levels,
    mid,
    calibrationSource: `data/kjv/train.txt, first ${S.calibChars} characters`,
    heldOut: 'data/kjv/test.txt',
    lossSet: `first ${S.objRows} sequences of each calibration subset (${S.objRows * S.seqLen} tokens)`,
  },
  node: process.version,
  createdAt: new Date().toISOString(),
  timing: { calibrationPassMs, lossPassMs, totalMs: performance.now() - t00 },
  dense: { ...dense, mc: mcDense },
  optimality,
  quality,
  random: randomRows,
  oracle,
  multipleChoice: { dense: mcDense, rows: mcRows, randomAccMean: meanSd(randMc) },
  ablation,
  reducers,
  stability,
  sizeStability,
  skipped,
  cost,
  slebPassesOverMiPasses: slebPasses / 1,
}

// markdown
const f = (x: number, d = 3) => x.toFixed(d)
const md: string[] = []
md.push(
  `# Evidence: ${name} (T = ${T} blocks, hidden ${adapter.info.hiddenSize}, ${adapter.info.parameters} parameters, trained steps ${result.model.trainedSteps})`,
)
md.push('')
md.push(
  `Settings: calibration ${S.samples}×${S.seqLen} tokens from the first ${S.calibChars} characters of data/kjv/train.txt (seed ${S.seed}), ${store0.samples} MI samples, reducer ${S.reducer}, KSG k=${S.ksgK}, ${S.subsets} disjoint calibration subsets; loss-based selectors and the oracle use the first ${S.objRows} sequences of the subset (${S.objRows * S.seqLen} tokens); held-out PPL on data/kjv/test.txt, ${S.pplWindows} windows × ${S.pplWindow} tokens (${dense.tokens} predicted tokens); MC: first ${S.mcItems} items of kjv-cloze; random: ${S.randomSeeds} seeds. Backend ${adapter.info.backend}, ${process.version}, 2 shared CPU cores. Calibration pass ${f(calibrationPassMs, 0)} ms; one loss pass ${f(lossPassMs, 0)} ms.`,
)
md.push('')
md.push(
  `Dense held-out PPL ${f(dense.perplexity)}; dense MC acc ${f(mcDense.acc)} ± ${f(mcDense.accStderr)}.`,
)
md.push('')
md.push('## 1. Optimality: Fast-Block-Select vs exact search of the same MI objective')
md.push('')
md.push(
  mdTable(
    [
      'estimator',
      'N',
      'FBS set',
      'exact set',
      'objective FBS (nats)',
      'objective exact',
      'gap (0 = optimum)',
      'MI evals FBS',
      'MI evals exact',
    ],
    optimality.map((o) => [
      o['estimator'] as string,
      o['N'] as number,
      JSON.stringify(o['fbs']),
      JSON.stringify(o['exact']),
      f(o['objFbs'] as number, 4),
      f(o['objExact'] as number, 4),
      f(o['gap'] as number, 4),
      o['fbsMiEvals'] as number,
      o['exactMiEvals'] as number,
    ]),
  ),
)
md.push('')
md.push(
  `## 2. Quality: held-out perplexity of the pruned model (lower is better; dense ${f(dense.perplexity)})`,
)
md.push('')
const methodsOrder = [...new Set(quality.map((q) => q.method))]
md.push(
  mdTable(
    ['method', ...levels.map((n) => `N=${n} PPL`), ...levels.map((n) => `N=${n} set`)],
    [
      ...methodsOrder.map((m) => [
        m,
        ...levels.map((n) => {
          const q = quality.find((r) => r.method === m && r.N === n)
          return q ? f(q.ppl) : 'skipped (cap)'
        }),
        ...levels.map((n) => {
          const q = quality.find((r) => r.method === m && r.N === n)
          return q ? JSON.stringify(q.selected) : '–'
        }),
      ]),
      [
        `random (${S.randomSeeds} seeds, mean ± sd)`,
        ...randomRows.map((r) => `${f(r['pplMean'] as number)} ± ${f(r['pplSd'] as number)}`),
        ...randomRows.map((r) => `min ${f(r['pplMin'] as number)} / max ${f(r['pplMax'] as number)}`),
      ],
    ],
  ),
)
md.push('')
md.push(
  `Oracle: ${oracle.map((o) => (o['skipped'] ? `N=${o['N']} skipped — ${o['skipped']}` : `N=${o['N']} ${o['passes']} passes, ${f((o['wallMs'] as number) / 1000, 0)} s`)).join('; ')}.`,
)
md.push('')
md.push(
  `Multiple choice (kjv-cloze, ${mcDense.items} items, N=${mid}; dense acc ${f(mcDense.acc)}; random mean acc over ${randMc.length} seeds ${f(meanSd(randMc).mean)} ± ${f(meanSd(randMc).sd)}):`,
)
md.push('')
md.push(
  mdTable(
    ['method', 'set', 'acc', '± stderr', 'acc_norm'],
    mcRows.map((r) => [
      r['method'] as string,
      JSON.stringify(r['selected']),
      f(r['acc'] as number),
      f(r['accStderr'] as number),
      f(r['accNorm'] as number),
    ]),
  ),
)
md.push('')
md.push('## 3. Stability: pairwise Jaccard of the selected blocks across disjoint calibration subsets')
md.push('')
md.push(
  mdTable(
    ['method', 'N', 'mean Jaccard', 'min Jaccard', 'sets per subset'],
    stability.map((r) => [
      r['method'] as string,
      r['N'] as number,
      f(r['meanJaccard'] as number),
      f(r['minJaccard'] as number),
      JSON.stringify(r['sets']),
    ]),
  ),
)
md.push('')
md.push(
  'Across calibration sizes (Fast-Block-Select; each row: the same number of disjoint subsets at that size):',
)
md.push('')
md.push(
  mdTable(
    ['method', 'samples × seqLen', 'MI samples', 'mean Jaccard', 'min Jaccard', 'sets'],
    sizeStability.map((r) => [
      r['method'] as string,
      `${r['samples']}×${r['seqLen']}`,
      r['miSamples'] as number,
      f(r['meanJaccard'] as number),
      f(r['minJaccard'] as number),
      JSON.stringify(r['sets']),
    ]),
  ),
)
md.push('')
md.push(`## 4. Cost at N=${costN} (calibration pass ${f(calibrationPassMs, 0)} ms)`)
md.push('')
md.push(
  mdTable(
    [
      'method',
      'selection ms (after the pass)',
      'whole time / calibration pass (target ≤ 1.25 for MI-PRUN)',
      'forward passes',
      'tokens forwarded',
      'in calibration-pass equivalents',
      'MI evals',
    ],
    cost.map((c) => [
      c['method'] as string,
      f(c['selectionMs'] as number, 0),
      f(c['wholeOverPass'] as number, 2),
      c['forwardPasses'] as number,
      c['tokensForward'] as number,
      f(c['calibPassEquivalents'] as number, 2),
      c['miEvaluations'] as number,
    ]),
  ),
)
md.push('')
md.push(
  `Whole time for score-based methods = calibration pass + selection; for SLEB/PPL-rank = their own loss passes (on the smaller ${S.objRows}×${S.seqLen} loss set, so their ratio is a lower bound for a loss set the size of the calibration set).`,
)
md.push('')
md.push(
  `SLEB uses ${slebPasses} forward passes (of ${S.objRows}×${S.seqLen} tokens) for N=${costN} vs 1 calibration pass (${S.samples}×${S.seqLen}) for MI-PRUN: ${slebPasses}× more passes, ${f(slebTokens / (S.samples * S.seqLen), 2)}× more tokens (target ≥ 50× more passes).`,
)
md.push('')
md.push('## 5. Ablation: greedy top-N by single-block MI vs Fast-Block-Select (iterative refinement)')
md.push('')
md.push(
  mdTable(
    ['estimator', 'N', 'top-N set', 'FBS set', 'objective top-N', 'objective FBS', 'PPL top-N', 'PPL FBS'],
    ablation.map((a) => [
      a['estimator'] as string,
      a['N'] as number,
      JSON.stringify(a['topN']),
      JSON.stringify(a['fbs']),
      f(a['objTopN'] as number, 4),
      f(a['objFbs'] as number, 4),
      f(a['pplTopN'] as number),
      f(a['pplFbs'] as number),
    ]),
  ),
)
md.push('')
md.push(
  `## Reducers (Fast-Block-Select; PPL at N = ${levels.join(', ')}; Jaccard across ${S.subsets} subsets at N=${mid}; cold selection time at N=${mid})`,
)
md.push('')
md.push(
  mdTable(
    [
      'estimator',
      'reducer',
      ...levels.map((n) => `PPL N=${n}`),
      'mean Jaccard',
      'selection ms',
      'whole / pass',
    ],
    reducers.map((r) => [
      r['estimator'] as string,
      r['reducer'] as string,
      ...(r['ppl'] as number[]).map((x) => f(x)),
      f(r['meanJaccard'] as number),
      f(r['selectionMs'] as number, 0),
      f(r['wholeOverPass'] as number, 2),
    ]),
  ),
)
md.push('')
md.push(`Skipped for time: ${skipped.length ? skipped.join('; ') : 'nothing'}.`)
md.push('')
md.push(`Total wall time ${f(result.timing.totalMs / 1000, 0)} s.`)

mkdirSync(join(root, 'bench/results'), { recursive: true })
const stem = join(root, 'bench/results', `evidence-${process.argv[3] ?? name}`)
for (const [ext, body] of [
  ['json', `${JSON.stringify(result, null, 2)}\n`],
  ['md', `${md.join('\n')}\n`],
] as const) {
  writeFileSync(`${stem}.${ext}.tmp`, body)
  renameSync(`${stem}.${ext}.tmp`, `${stem}.${ext}`)
}
await session.dispose()
rmSync(calibFile, { force: true })
log(`wrote ${stem}.json/.md`)
