import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { PruneError } from '@mi-prun/core'
import {
  evaluateMultipleChoice,
  loadMcTasks,
  loadTokenizer,
  measureLatency,
  parseMcTasks,
  perplexity,
  tokenWindows,
} from '@mi-prun/eval'
import type { TextTokenizer } from '@mi-prun/eval'
import { TOL_F32_REL, TOL_F64_ABS } from '@mi-prun/testkit'
import { createFakeAdapter, fakeNll } from './fake-adapter.js'

const ascending = (n: number, vocab: number): Int32Array =>
  Int32Array.from({ length: n }, (_, i) => i % vocab)

describe('tokenWindows', () => {
  it('cuts non-overlapping windows and drops the tail', () => {
    const w = tokenWindows(ascending(10, 100), { windowLength: 4 })
    expect(w.batch.batch).toBe(2)
    expect(Array.from(w.batch.ids)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(Array.from(w.scoredFrom)).toEqual([1, 1])
  })
  it('scores every stream token after the first exactly once with a sliding stride', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 12, max: 80 }),
        (W, s, n) => {
          fc.pre(s <= W)
          const w = tokenWindows(ascending(n, 1000), { windowLength: W, stride: s })
          const covered = new Set<number>()
          for (let b = 0; b < w.batch.batch; b++) {
            for (let t = w.scoredFrom[b]!; t < W; t++) {
              const pos = w.starts[b]! + t
              if (s < W) expect(covered.has(pos)).toBe(false)
              covered.add(pos)
            }
          }
          if (s < W) {
            const last = w.starts[w.batch.batch - 1]! + W
            expect(covered.size).toBe(last - 1)
          }
        },
      ),
    )
  })
  it('rejects bad settings and too-short text', () => {
    expect(() => tokenWindows(ascending(10, 100), { windowLength: 4, stride: 5 })).toThrow(RangeError)
    expect(() => tokenWindows(ascending(3, 100), { windowLength: 4 })).toThrow(/fewer than one window/)
  })
})

describe('perplexity', () => {
  it('matches the closed form of the fake model (non-overlapping windows, via nll)', async () => {
    const V = 11
    const a = createFakeAdapter({ vocab: V, blocks: 4, gain: 0.7 })
    const r = await perplexity(a, ascending(100, V), { windowLength: 10, batchSize: 3 })
    expect(r.windows).toBe(10)
    expect(r.tokens).toBe(90)
    expect(Math.abs(r.meanNll - fakeNll(V, 4, 0.7))).toBeLessThan(TOL_F64_ABS)
    expect(Math.abs(r.perplexity - Math.exp(fakeNll(V, 4, 0.7)))).toBeLessThan(1e-9)
    expect(r.settings).toMatchObject({ windowLength: 10, stride: 10, unit: 'nats', streamTokens: 100 })
  })
  it('skips blocks: two of four skipped gives the two-block closed form', async () => {
    const V = 7
    const a = createFakeAdapter({ vocab: V, blocks: 4 })
    const r = await perplexity(a, ascending(64, V), { windowLength: 8, skip: [3, 1, 3] })
    expect(Math.abs(r.meanNll - fakeNll(V, 2))).toBeLessThan(TOL_F64_ABS)
    expect(r.settings.skip).toEqual([1, 3])
  })
  it('sliding stride reads logits and scores each later window’s last `stride` targets', async () => {
    const V = 13
    const a = createFakeAdapter({ vocab: V, blocks: 3 })
    // wrong tokens at known positions: target 5 and target 30 are not (prev+1) mod V
    const ids = ascending(50, V)
    ids[5] = 0
    ids[30] = 0
    const r = await perplexity(a, ids, { windowLength: 10, stride: 4 })
    // windows start 0,4,...,40 → 11 windows; scored targets 1..49 → 49 tokens
    expect(r.windows).toBe(11)
    expect(r.tokens).toBe(49)
    const s = 3
    const lse = Math.log(Math.exp(s) + V - 1)
    // targets 5, 6, 30, 31 are "wrong" (5: 4→0, 6: 0→6, 30: 29→0, 31: 0→5 ≠ 1)
    const expected = (45 * (lse - s) + 4 * lse) / 49
    expect(Math.abs(r.meanNll - expected)).toBeLessThan(TOL_F64_ABS)
  })
  it('fails on non-finite losses with NON_FINITE', async () => {
    const a = createFakeAdapter({ vocab: 5, blocks: 2, gain: Number.NaN })
    await expect(perplexity(a, ascending(20, 5), { windowLength: 5 })).rejects.toMatchObject({
      code: 'NON_FINITE',
    })
  })
})

/** Character tokenizer: ' ' → 0, 'a'..'z' → 1..26 (V = 27), so "abc" is an ascending stream. */
const charTokenizer: TextTokenizer = {
  vocabSize: 27,
  settings: { kind: 'hf-tokenizer', path: 'test', addSpecialTokens: false },
  encode: (text) => Int32Array.from([...text].map((c) => (c === ' ' ? 0 : c.charCodeAt(0) - 96))),
  decode: (ids) => Array.from(ids, (i) => (i === 0 ? ' ' : String.fromCharCode(96 + i))).join(''),
}

describe('multiple choice', () => {
  it('acc sums log-likelihoods, acc_norm divides by character length (closed form)', async () => {
    const a = createFakeAdapter({ vocab: 27, blocks: 2 })
    const items = parseMcTasks(
      [
        // acc picks "x" (one wrong token) over "dex" (two right, one wrong); acc_norm picks "dex"
        JSON.stringify({ context: 'abc', choices: ['x', 'dex'], gold: 1 }),
        // both metrics pick the ascending continuation
        JSON.stringify({ context: 'fgh', choices: ['iz', 'ij', 'qq'], gold: 1 }),
      ].join('\n'),
    )
    const r = await evaluateMultipleChoice(a, charTokenizer, items)
    const s = 2
    const L = Math.log(Math.exp(s) + 26)
    expect(r.logLikelihoods[0]![0]).toBeCloseTo(-L, 12)
    expect(r.logLikelihoods[0]![1]).toBeCloseTo(2 * (s - L) - L, 12)
    expect(r.logLikelihoods[1]).toEqual([
      expect.closeTo(s - L - L, 12),
      expect.closeTo(2 * (s - L), 12),
      expect.closeTo(-2 * L, 12),
    ])
    expect(r.acc).toBe(0.5)
    expect(r.accNorm).toBe(1)
    expect(r.items).toBe(2)
  })
  it('names the malformed line', () => {
    expect(() =>
      parseMcTasks(
        '{"context":"a","choices":["b","c"],"gold":0}\n{"context":"a","choices":["b"],"gold":0}',
        'f.jsonl',
      ),
    ).toThrow(/f\.jsonl:2 must be/)
    expect(() => parseMcTasks('\n\n')).toThrow(PruneError)
  })
})

describe('latency', () => {
  it('reports medians and a speed-up when most blocks are skipped', async () => {
    const a = createFakeAdapter({ vocab: 16, blocks: 8, workPerBlock: 20_000 })
    const r = await measureLatency(a, [0, 1, 2, 3, 4, 5], {
      promptLength: 32,
      decodeTokens: 2,
      runs: 5,
      warmup: 1,
    })
    expect(r.settings).toMatchObject({
      kind: 'latency',
      promptLength: 32,
      runs: 5,
      kvCache: false,
      backend: 'js',
    })
    expect(r.dense.prefillTokensPerSecond).toBeCloseTo((32 * 1000) / r.dense.prefillMs, 9)
    // 8 active blocks vs 2: the work is 4× larger, so the measured speed-up must clearly exceed 1
    expect(r.prefillSpeedup!).toBeGreaterThan(1.5)
    expect(r.decodeSpeedup!).toBeGreaterThan(1.5)
    // (1 warm-up + 5 runs) × 2 configs × (1 prefill + 2 decode steps)
    expect(a.forwardCalls).toBe(6 * 2 * 3)
  })
  it('uses an adapter KV-cache generator for decode, with the spread over runs', async () => {
    const a = createFakeAdapter({ vocab: 16, blocks: 4, workPerBlock: 1000 })
    const calls: { maxNewTokens: number; removed?: readonly number[] }[] = []
    let k = 0
    const withKv = Object.assign(a, {
      generate: async (_p: unknown, o: { maxNewTokens: number; removed?: readonly number[] }) => {
        calls.push(o)
        k++
        return { prefillMs: 1, stepMs: Array.from({ length: o.maxNewTokens - 1 }, () => k) }
      },
    })
    const r = await measureLatency(withKv, [1], { promptLength: 8, decodeTokens: 3, runs: 3, warmup: 1 })
    expect(r.settings.kvCache).toBe(true)
    expect(calls.length).toBe(8)
    expect(calls[1]).toEqual({ maxNewTokens: 4, removed: [1] })
    // runs alternate dense/pruned: dense timed runs got k = 3, 5, 7
    expect(r.dense.decodeMsPerToken).toBe(5)
    expect(r.dense.decodeMsPerTokenRange).toEqual([3, 7])
    expect(r.dense.prefillMsRange[0]).toBeLessThanOrEqual(r.dense.prefillMs)
    // only the prefills go through forward: (1 + 3) runs × 2 configs
    expect(a.forwardCalls).toBe(8)
  })
})

describe('loadTokenizer', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mi-prun-eval-'))
    const vocab: Record<string, number> = { ' ': 0 }
    for (let i = 0; i < 26; i++) vocab[String.fromCharCode(97 + i)] = i + 1
    vocab['ab'] = 27
    const tokenizerJson = {
      version: '1.0',
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: { type: 'Fuse' },
      model: {
        type: 'BPE',
        vocab,
        merges: ['a b'],
        dropout: null,
        unk_token: null,
        fuse_unk: false,
        byte_fallback: false,
      },
    }
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  it('encodes with the merges of tokenizer.json and decodes back', async () => {
    const tok = await loadTokenizer(dir)
    expect(tok.vocabSize).toBe(28)
    expect(Array.from(tok.encode('abc ab'))).toEqual([27, 3, 0, 27])
    expect(tok.decode(tok.encode('abc ab'))).toBe('abc ab')
  })
  it('says what is missing', async () => {
    await expect(loadTokenizer(join(dir, 'nope'))).rejects.toThrow(
      /cannot read tokenizer\.json .* needs a Hugging Face tokenizer\.json/,
    )
  })
})

const taskFile = new URL('../tasks/kjv-cloze.jsonl', import.meta.url)
describe.skipIf(!existsSync(taskFile))('bundled kjv-cloze task', () => {
  it('has a few hundred valid 4-way items', async () => {
    const items = await loadMcTasks(taskFile.pathname)
    expect(items.length).toBeGreaterThanOrEqual(200)
    for (const it of items) expect(it.choices).toHaveLength(4)
    // gold positions are balanced by the generator (each position 25 % ± 5 %)
    const counts = [0, 0, 0, 0]
    for (const it of items) counts[it.gold]!++
    for (const c of counts) expect(Math.abs(c / items.length - 0.25)).toBeLessThan(0.05)
    const text = await readFile(taskFile, 'utf8')
    expect(text.endsWith('\n')).toBe(true)
  })
})

const repo = new URL('../../../', import.meta.url)
const realModel = new URL('models/llama-kjv/', repo).pathname
describe.skipIf(!existsSync(join(realModel, 'model.safetensors')))('reference model models/llama-kjv', () => {
  it('tokenizer round-trips KJV text; adapter nll agrees with the logits path', async () => {
    const { loadHfModel } = await import('@mi-prun/adapter-tfjs')
    const text = (await readFile(new URL('data/kjv/test.txt', repo), 'utf8')).slice(0, 6000)
    const tok = await loadTokenizer(realModel)
    const ids = tok.encode(text)
    expect(tok.decode(ids)).toBe(text)
    expect(Math.max(...ids)).toBeLessThan(tok.vocabSize)
    const model = await loadHfModel(realModel, { backend: 'wasm' })
    try {
      const a = await perplexity(model, ids, { windowLength: 64, maxWindows: 4 })
      const b = await perplexity(model, ids, { windowLength: 64, maxWindows: 4, method: 'logits' })
      expect(a.tokens).toBe(4 * 63)
      expect(b.tokens).toBe(a.tokens)
      expect(Math.abs(a.meanNll - b.meanNll) / a.meanNll).toBeLessThan(TOL_F32_REL)
      // a language model over a 2048-token vocabulary: better than uniform
      expect(a.perplexity).toBeLessThan(tok.vocabSize)
    } finally {
      model.dispose()
    }
  })
})
