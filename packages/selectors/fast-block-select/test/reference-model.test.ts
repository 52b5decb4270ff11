import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { BlockIndex, SelectionContext, TokenBatch } from '@mi-prun/core'
import { loadHfModel, type TfjsModelAdapter } from '@mi-prun/adapter-tfjs'
import { loadTokenizer } from '@mi-prun/eval'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import {
  type ActivationStore,
  collectActivations,
  createAngularDistanceScorer,
  createBlockInfluenceScorer,
  createEnsembleScorer,
  createMiSpanScorer,
  createRandomProjection,
  createWindowCosineScorer,
  scoreTable,
  setObjective,
} from '@mi-prun/span-scoring'
import {
  createBestWindowSelector,
  createExactMiSelector,
  createExactPerplexitySelector,
  createPerplexityRankSelector,
  createRandomSelector,
  createSlebSelector,
  createTopNSelector,
} from '@mi-prun/selector-baselines'
import { type FbsTrace, createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'

const root = fileURLToPath(new URL('../../../../', import.meta.url))
const modelDir = join(root, 'models/llama-kjv')
const textPath = join(root, 'data/kjv/valid.txt')
const present = existsSync(join(modelDir, 'model.safetensors')) && existsSync(textPath)
if (!present)
  console.warn(
    `[reference-model.test] skipped: ${modelDir} or ${textPath} is absent (train the reference model first)`,
  )

function batchOf(ids: Int32Array, offset: number, batch: number, seqLen: number): TokenBatch {
  return { batch, seqLen, ids: ids.slice(offset, offset + batch * seqLen) }
}

describe.skipIf(!present)('every selector end to end on llama-kjv (T = 12, real cached states)', () => {
  let adapter: TfjsModelAdapter
  let store: ActivationStore
  let evalBatch: TokenBatch
  const losses = new Map<string, number>()
  let passes = 0
  /** Mean next-token NLL (nats) with `removed` skipped; memoised so brute force and selectors share passes. */
  const objective = async (removed: readonly BlockIndex[]): Promise<number> => {
    const key = removed.join(',')
    const hit = losses.get(key)
    if (hit !== undefined) return hit
    passes++
    const r = await adapter.nll(evalBatch, { skip: removed })
    const v = r.sumNll / r.tokens
    losses.set(key, v)
    return v
  }

  beforeAll(async () => {
    adapter = await loadHfModel(modelDir, { backend: 'wasm' })
    const tok = await loadTokenizer(modelDir)
    const ids = tok.encode(readFileSync(textPath, 'utf8').slice(0, 40_000))
    const calib = [batchOf(ids, 0, 4, 64), batchOf(ids, 256, 4, 64)]
    evalBatch = batchOf(ids, 1024, 2, 48)
    store = await collectActivations(adapter, calib, {
      maxTokens: 400,
      seed: 0,
      reducer: createRandomProjection({ rank: 16, seed: 0 }),
    })
  }, 300_000)
  afterAll(async () => {
    await adapter?.dispose()
  })

  it('fills the store from one pass: 13 states of 400 sampled tokens, all-token statistics of 512 tokens', () => {
    expect(store.numBlocks).toBe(12)
    expect(store.states.length).toBe(13)
    expect(store.samples).toBe(400)
    expect(store.dims).toBe(16)
    expect(store.stats.tokens).toBe(512)
    expect(store.lastToken[0]!.rows).toBe(8)
  })

  it('runs FBS, top-N, best-window, random, ensemble and the exact MI oracle on the cached states', () => {
    const ctx = (): SelectionContext => ({
      numBlocks: 12,
      scorer: createMiSpanScorer({ store, estimator: createGaussianEstimator() }),
    })
    const c1 = ctx()
    const fbs = createFastBlockSelectSelector().select(c1, 3)
    const greedy = createTopNSelector().select(c1, 3)
    const exact = createExactMiSelector().select(c1, 3)
    const dp = createExactMiSelector({ algorithm: 'dynamic-programming' }).select(c1, 3)
    const scorer = c1.scorer!
    const vF = setObjective(scorer, fbs.selected)
    expect(vF).toBeGreaterThanOrEqual(setObjective(scorer, greedy.selected))
    expect(setObjective(scorer, exact.selected)).toBeGreaterThanOrEqual(vF)
    expect(dp.selected).toEqual(exact.selected)
    expect((fbs.trace as FbsTrace).stop).toBe('converged')
    console.log(
      `[reference-model] MI (gaussian, r=16): fbs=${JSON.stringify(fbs.selected)} obj=${vF.toFixed(4)} evals=${fbs.cost.miEvaluations}; greedy=${JSON.stringify(greedy.selected)}; exact=${JSON.stringify(exact.selected)} obj=${setObjective(scorer, exact.selected).toFixed(4)}`,
    )
    const bi = createBlockInfluenceScorer({ store })
    const shortgpt = createTopNSelector().select({ numBlocks: 12, scorer: bi }, 3)
    const gromov = createBestWindowSelector().select(
      { numBlocks: 12, scorer: createAngularDistanceScorer({ store }) },
      3,
    )
    const streamline = createBestWindowSelector().select(
      { numBlocks: 12, scorer: createWindowCosineScorer({ store }) },
      3,
    )
    const ens = createFastBlockSelectSelector().select(
      { numBlocks: 12, scorer: createEnsembleScorer({ scorers: [scorer, bi] }) },
      3,
    )
    const rnd = createRandomSelector({ seed: 1 }).select({ numBlocks: 12 }, 3)
    for (const s of [shortgpt, gromov, streamline, ens, rnd]) {
      expect(s.selected.length).toBe(3)
      expect(new Set(s.selected).size).toBe(3)
    }
    console.log(
      `[reference-model] shortgpt=${JSON.stringify(shortgpt.selected)} gromov=${JSON.stringify(gromov.selected)} streamline=${JSON.stringify(streamline.selected)} ensemble-fbs=${JSON.stringify(ens.selected)}`,
    )
    const t = scoreTable(bi)
    expect(t.blocks.length).toBe(12)
    expect(t.blocks.every((v) => v !== null && v >= 0 && v <= 2)).toBe(true)
  })

  it('checks SLEB, PPL ranking and the perplexity oracle against brute-force losses (N = 2, ends protected)', async () => {
    const protect = { first: 1, last: 1 }
    const cand = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    const single = new Map<number, number>()
    for (const j of cand) single.set(j, await objective([j]))
    const pairs: Array<[number[], number]> = []
    for (let a = 0; a < cand.length; a++)
      for (let b = a + 1; b < cand.length; b++)
        pairs.push([[cand[a]!, cand[b]!], await objective([cand[a]!, cand[b]!])])
    const bestPair = pairs.reduce((x, y) => (y[1] < x[1] ? y : x))
    const ctx: SelectionContext = { numBlocks: 12, objective }
    const oracle = await createExactPerplexitySelector({ protect }).select(ctx, 2)
    expect(oracle.selected).toEqual(bestPair[0])
    expect(oracle.cost.forwardPasses).toBe(45)
    const ranked = [...cand].sort((a, b) => single.get(a)! - single.get(b)! || a - b)
    const ppl = await createPerplexityRankSelector({ protect }).select(ctx, 2)
    expect(ppl.order).toEqual(ranked.slice(0, 2))
    const sleb = await createSlebSelector().select(ctx, 2)
    const first = ranked[0]!
    const second = cand
      .filter((j) => j !== first)
      .reduce((x, y) =>
        pairs.find((p) => p[0].includes(first) && p[0].includes(y))![1] <
        pairs.find((p) => p[0].includes(first) && p[0].includes(x))![1]
          ? y
          : x,
      )
    expect(sleb.order).toEqual([first, second])
    expect(sleb.cost.forwardPasses).toBe(10 + 9)
    expect(oracle.trace).toMatchObject({ loss: bestPair[1] })
    const dense = await objective([])
    expect(bestPair[1]).toBeGreaterThan(dense - 1) // sanity: removing blocks never helps by a nat
    console.log(
      `[reference-model] dense NLL=${dense.toFixed(4)} oracle=${JSON.stringify(oracle.selected)} ${bestPair[1].toFixed(4)} sleb=${JSON.stringify(sleb.order)} ppl-rank=${JSON.stringify(ppl.order)} distinct passes=${passes}`,
    )
  }, 300_000)
})
