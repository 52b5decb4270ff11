// Evidence for issue 14 items 2 and 4: on every reference model under models/ and N = 1..⌈T/4⌉, held-out
// perplexity (± standard error over windows) of mi-rerank (the exact-MI shortlist re-ranked by calibration
// loss from cached states), ShortGPT, Fast-Block-Select (paper-faithful), SLEB, random (mean ± sd over seeds)
// and the held-out-PPL oracle (exhaustive over every N-subset where C(T, N) ≤ oracleCap); forward passes,
// MI evaluations, time; Jaccard of the selected sets over disjoint calibration subsets; and the Spearman rank
// correlation between each estimator's single-block score and the drop-one calibration-loss increase.
// Every method sees the same calibration tokens: subset s's draw of `samples` × `seqLen` tokens (MI states
// and the loss-based selectors alike). Writes bench/results/selection-evidence.{json,md}.
// SELECTION_EVIDENCE_MODELS=a,b picks models; SELECTION_EVIDENCE_QUICK=1 runs a smoke-test size.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BlockIndex, Selection, TokenBatch } from '@mi-prun/core'
import { createMiRerankSelector, forEachSubset, binomial } from '@mi-prun/selector-baselines'
import { removability } from '@mi-prun/span-scoring'
import {
  heldoutIds,
  openSession,
  pairwiseJaccard,
  quietContext,
  selectorRegistry,
  sessionSettings,
} from './evidence/cli.js'
import { firstRows, mdTable, meanSd } from './evidence/stats.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..')
const quick = process.env.SELECTION_EVIDENCE_QUICK === '1'
const S = {
  seed: 0,
  calibChars: 400_000,
  samples: quick ? 4 : 8,
  seqLen: 64,
  tokens: 512,
  subsets: quick ? 2 : 4,
  reducer: 'pca:32',
  estimator: 'gaussian',
  spearmanEstimators: ['gaussian', 'binning', 'ksg'],
  heldWindows: quick ? 4 : 8,
  heldWindow: 128,
  randomSeeds: 10,
  oracleCap: quick ? 40 : 80,
}
const all = ['gpt2-kjv', 'llama-kjv', 'llama-kjv-24', 'qwen3-kjv-16']
const models = (process.env.SELECTION_EVIDENCE_MODELS ?? all.join(','))
  .split(',')
  .filter((m) => existsSync(join(root, 'models', m, 'config.json')))
const t00 = performance.now()
const log = (m: string) =>
  process.stderr.write(`[selection ${((performance.now() - t00) / 1000).toFixed(0)}s] ${m}\n`)

function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (x: readonly number[]) => {
    const idx = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0])
    const r = new Array<number>(x.length)
    for (let i = 0; i < idx.length;) {
      let j = i
      while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++
      for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2
      i = j + 1
    }
    return r
  }
  const ra = rank(a)
  const rb = rank(b)
  const ma = ra.reduce((s, v) => s + v, 0) / ra.length
  const mb = rb.reduce((s, v) => s + v, 0) / rb.length
  let sab = 0
  let saa = 0
  let sbb = 0
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i]! - ma) * (rb[i]! - mb)
    saa += (ra[i]! - ma) ** 2
    sbb += (rb[i]! - mb) ** 2
  }
  return sab / Math.sqrt(saa * sbb)
}

const results: Array<Record<string, unknown>> = []
const md: string[] = ['# Selection evidence (issue 14)', '']
/** Writes the results so far (after every model, so a long run leaves its finished models on disk). */
function write(): void {
  const settingsLine = `Settings: calibration = ${S.samples} × ${S.seqLen} tokens per subset drawn from the first ${S.calibChars} characters of data/kjv/train.txt (seed ${S.seed}), the same tokens for the MI states and every loss-based selector (SLEB, mi-rerank); MI estimator ${S.estimator}, reducer ${S.reducer}; held-out PPL on the first ${S.heldWindows} windows × ${S.heldWindow} tokens of data/kjv/test.txt, ± = standard error over windows (delta method); random over ${S.randomSeeds} seeds; oracle = exhaustive held-out PPL over every N-subset (cap ${S.oracleCap}). FP = forward-pass equivalents (T blocks over the calibration tokens; the LM head not counted): mi-rerank 1 dense pass + Σ (T − start − N)/T per re-ranked set; FBS/ShortGPT 1; SLEB full passes. mi-rerank protects block 0 and T−1 (endPolicy 'protect'), SLEB its default barriers, FBS/ShortGPT nothing. ${quick ? 'QUICK smoke-test size.' : ''}`
  const out = join(here, 'results', process.env.SELECTION_EVIDENCE_OUT ?? 'selection-evidence')
  writeFileSync(`${out}.json.tmp`, `${JSON.stringify({ settings: S, models: results }, null, 2)}\n`)
  renameSync(`${out}.json.tmp`, `${out}.json`)
  writeFileSync(`${out}.md.tmp`, `${[...md, settingsLine].join('\n')}\n`)
  renameSync(`${out}.md.tmp`, `${out}.md`)
}

for (const m of models) {
  const modelDir = join(root, 'models', m)
  const calibFile = join(here, 'results', `.selection-calib-${process.pid}.txt`)
  writeFileSync(calibFile, readFileSync(join(root, 'data/kjv/train.txt'), 'utf8').slice(0, S.calibChars))
  const values = {
    calib: [calibFile],
    samples: String(S.samples),
    'seq-len': String(S.seqLen),
    tokens: String(S.tokens),
    subsets: String(S.subsets),
    reducer: S.reducer,
    seed: String(S.seed),
    estimator: [S.estimator],
  }
  const ctx = quietContext(values as never)
  const session = await openSession(ctx, modelDir, sessionSettings(ctx))
  const adapter = session.adapter
  const T = adapter.info.numBlocks
  rmSync(calibFile, { force: true }) // the session has read it
  const Ns = [...Array(Math.ceil(T / 4)).keys()].map((i) => i + 1)
  log(`${m}: T=${T}, N=${Ns.join(',')}`)
  // calibration loss of subset s: all of its calibration sequences (the tokens the MI states come from)
  const lossBatch: TokenBatch[] = [...Array(S.subsets).keys()].map((s) =>
    firstRows(session.batches(s), S.samples),
  )
  const calibTokens = lossBatch[0]!.batch * lossBatch[0]!.seqLen
  const lossFull = (s: number) => async (removed: readonly BlockIndex[]) => {
    const r = await adapter.nll(lossBatch[s]!, { skip: removed })
    return r.sumNll / r.tokens
  }
  const cached: Array<readonly import('@mi-prun/core').Matrix[]> = []
  for (let s = 0; s < S.subsets; s++) {
    const f = await adapter.forward(lossBatch[s]!, { hiddenStates: true })
    cached.push(f.hiddenStates!)
  }
  const lossFrom = (s: number) => async (removed: readonly BlockIndex[], start: BlockIndex) => {
    const r = await adapter.nll(lossBatch[s]!, {
      start: { block: start, state: cached[s]![start]! },
      skip: removed,
    })
    return r.sumNll / r.tokens
  }
  // the cached start reproduces the full forward's loss
  const probe = [Math.floor(T / 2)]
  const a = await lossFull(0)(probe)
  const b = await lossFrom(0)(probe, probe[0]!)
  if (Math.abs(a - b) > 1e-4 * Math.max(1, Math.abs(a))) throw new Error(`cached start loss ${b} ≠ full ${a}`)

  // held-out PPL with a standard error over windows (per-window mean NLL; SE of PPL by the delta method)
  const ids = await heldoutIds([join(root, 'data/kjv/test.txt')], session.tokenizer, adapter.info.vocabSize)
  const W = S.heldWindow
  const nW = Math.min(S.heldWindows, Math.floor(ids.length / W))
  const held: TokenBatch = { batch: nW, seqLen: W, ids: Int32Array.from(ids.slice(0, nW * W)) }
  const heldRows = [...Array(nW).keys()].map((i) => ({
    batch: 1,
    seqLen: W,
    ids: held.ids.slice(i * W, (i + 1) * W),
  }))
  const pplCache = new Map<string, { ppl: number; se: number; meanNll: number }>()
  const ppl = async (removed: readonly number[]) => {
    const key = [...removed].sort((x, y) => x - y).join(',')
    let r = pplCache.get(key)
    if (!r) {
      const per: number[] = []
      for (const w of heldRows) {
        const q = await adapter.nll(w, { skip: removed })
        per.push(q.sumNll / q.tokens)
      }
      const { mean, sd } = meanSd(per)
      const se = sd / Math.sqrt(per.length)
      r = { ppl: Math.exp(mean), se: Math.exp(mean) * se, meanNll: mean }
      pplCache.set(key, r)
    }
    return r
  }
  const dense = await ppl([])
  log(`${m}: dense held-out PPL ${dense.ppl.toFixed(3)} ± ${dense.se.toFixed(3)}`)

  const mi = (s = 0) => session.miScorer(S.estimator, s)
  const bi = (s = 0) => session.scorerFor('bi', s)
  const runMethod = async (method: string, n: number, s = 0): Promise<Selection> => {
    if (method === 'mi-rerank')
      return createMiRerankSelector().select(
        { numBlocks: T, scorer: await mi(s), objectiveFrom: lossFrom(s) } as never,
        n,
      )
    if (method === 'fbs')
      return selectorRegistry.fbs
        .create({ seed: S.seed, fbsK: 5 })
        .select({ numBlocks: T, scorer: await mi(s) }, n)
    if (method === 'shortgpt')
      return selectorRegistry.shortgpt
        .create({ seed: S.seed, fbsK: 5 })
        .select({ numBlocks: T, scorer: (await bi(s))! }, n)
    if (method === 'sleb')
      return selectorRegistry.sleb
        .create({ seed: S.seed, fbsK: 5 })
        .select({ numBlocks: T, objective: lossFull(s) }, n)
    throw new Error(method)
  }
  const cells: Array<Record<string, unknown>> = []
  for (const n of Ns) {
    const row: Record<string, unknown> = { N: n }
    for (const method of ['mi-rerank', 'fbs', 'shortgpt', 'sleb']) {
      const t = performance.now()
      const sel = await runMethod(method, n)
      const ms = performance.now() - t
      const p = await ppl(sel.selected)
      // score-based: + the one dense calibration pass that made the states; mi-rerank counts it itself
      const fp =
        method === 'fbs' || method === 'shortgpt' ? 1 + sel.cost.forwardPasses : sel.cost.forwardPasses
      row[method] = {
        selected: sel.selected,
        ppl: p.ppl,
        se: p.se,
        forwardPasses: fp,
        miEvaluations: sel.cost.miEvaluations,
        ms,
        ...(method === 'mi-rerank'
          ? {
              chosenRank: (sel.trace as { chosenRank: number }).chosenRank,
              evaluated: (sel.trace as { evaluated: unknown[] }).evaluated.length,
            }
          : {}),
      }
    }
    const rnd: number[] = []
    for (let seed = 0; seed < S.randomSeeds; seed++) {
      const sel = await selectorRegistry.random.create({ seed, fbsK: 5 }).select({ numBlocks: T }, n)
      rnd.push((await ppl(sel.selected)).ppl)
    }
    row['random'] = meanSd(rnd)
    const comb = binomial(T, n)
    if (comb <= S.oracleCap) {
      let best = { set: [] as number[], ppl: Infinity, se: 0 }
      const sets: number[][] = []
      forEachSubset([...Array(T).keys()], n, (s) => sets.push([...s]))
      for (const s of sets) {
        const p = await ppl(s)
        if (p.ppl < best.ppl) best = { set: s, ppl: p.ppl, se: p.se }
      }
      row['oracle'] = { selected: best.set, ppl: best.ppl, se: best.se, combinations: comb }
    } else row['oracle'] = { skipped: `C(${T}, ${n}) = ${comb} > ${S.oracleCap}` }
    cells.push(row)
    log(
      `${m} N=${n}: ${JSON.stringify(Object.fromEntries(['mi-rerank', 'fbs', 'shortgpt', 'sleb', 'oracle'].map((k) => [k, (row[k] as { ppl?: number }).ppl?.toFixed(3)])))}`,
    )
  }
  // stability: Jaccard over the disjoint subsets at the middle N
  const nMid = Ns[Math.floor((Ns.length - 1) / 2)]!
  const stability: Record<string, unknown> = { N: nMid }
  for (const method of ['mi-rerank', 'fbs', 'shortgpt', 'sleb']) {
    const sets: number[][] = []
    for (let s = 0; s < S.subsets; s++) sets.push([...(await runMethod(method, nMid, s)).selected])
    stability[method] = { sets, ...pairwiseJaccard(sets) }
  }
  // Spearman: single-block score (direction applied: higher = more removable) vs −(drop-one loss increase)
  const base = await lossFull(0)([])
  const dropOne: number[] = []
  for (let j = 0; j < T; j++) dropOne.push((await lossFull(0)([j])) - base)
  const neg = dropOne.map((d) => -d)
  const spear: Record<string, number> = {}
  for (const e of S.spearmanEstimators) {
    const sc = await session.miScorer(e, 0)
    spear[`mi:${e}`] = spearman(
      [...Array(T).keys()].map((j) => removability(sc, j, 1)),
      neg,
    )
  }
  const b0 = (await bi(0))!
  spear['shortgpt-bi'] = spearman(
    [...Array(T).keys()].map((j) => removability(b0, j, 1)),
    neg,
  )
  const ang = (await session.scorerFor('angular', 0))!
  spear['angular'] = spearman(
    [...Array(T).keys()].map((j) => removability(ang, j, 1)),
    neg,
  )
  results.push({ model: m, T, dense, calibTokens, cells, stability, dropOne, spearman: spear })

  const f = (x: number, d = 3) => x.toFixed(d)
  const cellP = (c: unknown) => {
    const x = c as { ppl?: number; se?: number; selected?: number[]; skipped?: string }
    return x.ppl === undefined
      ? `— (${x.skipped})`
      : `${f(x.ppl, 2)} ± ${f(x.se!, 2)} {${x.selected!.join(',')}}`
  }
  md.push(`## ${m} (T = ${T}, dense held-out PPL ${f(dense.ppl, 2)} ± ${f(dense.se, 2)})`, '')
  md.push(
    mdTable(
      [
        'N',
        'mi-rerank',
        'FP mi-rerank',
        'ShortGPT',
        'FBS',
        'SLEB',
        'FP SLEB',
        'random (mean ± sd)',
        'oracle (held-out)',
      ],
      cells.map((c) => [
        String(c['N']),
        cellP(c['mi-rerank']),
        f((c['mi-rerank'] as { forwardPasses: number }).forwardPasses, 3),
        cellP(c['shortgpt']),
        cellP(c['fbs']),
        cellP(c['sleb']),
        String((c['sleb'] as { forwardPasses: number }).forwardPasses),
        `${f((c['random'] as { mean: number }).mean, 2)} ± ${f((c['random'] as { sd: number }).sd, 2)}`,
        cellP(c['oracle']),
      ]),
    ),
    '',
  )
  md.push(
    `Jaccard over ${S.subsets} disjoint calibration subsets at N = ${nMid}: ${['mi-rerank', 'fbs', 'shortgpt', 'sleb'].map((k) => `${k} ${JSON.stringify((stability[k] as { mean?: number }).mean ?? stability[k])}`).join('; ')}`,
    '',
  )
  md.push(
    `Spearman(single-block score, −drop-one calibration-loss increase): ${Object.entries(spear)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(', ')}`,
    '',
  )
  write()
}
write()
console.log(md.join('\n'))
