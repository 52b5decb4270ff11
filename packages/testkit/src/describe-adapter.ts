import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Matrix, type ModelAdapter, type TokenBatch, selectRows } from '@mi-prun/core'

export interface AdapterConformanceOptions {
  /** Suite title. */
  readonly name: string
  /** Loads the model under test (called once per suite). */
  readonly load: () => Promise<ModelAdapter>
  /** Loads an exported folder written by `exportPruned`; omit to skip the export tests. */
  readonly reload?: (dir: string) => Promise<ModelAdapter>
  /** Token batch to run (default: 2 sequences of 8 tokens, ids below min(vocab, 32)). */
  readonly batch?: TokenBatch
  /** Relative tolerance for values that must agree between two runs of the same math (default 1e-5). */
  readonly tol?: number
}

function maxAbs(a: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!))
  return m
}

/** max|a − b| / max(1e-12, max|b|): the largest difference relative to the reference's scale. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m / Math.max(1e-12, maxAbs(b))
}

function same(a: Matrix, b: Matrix): boolean {
  return a.rows === b.rows && a.cols === b.cols && a.data.every((v, i) => Object.is(v, b.data[i]))
}

/**
 * The contract every ModelAdapter must meet: `hiddenStates` has T+1 entries of (B·S)×d and h_0 is
 * the embedding output (position-wise: it does not depend on other tokens, while later states do,
 * causally); a skipped block passes the residual stream through; `captureRows` selects rows;
 * `onHiddenState` streams the same states; `nll` equals the next-token NLL recomputed from the
 * logits; an export with N blocks removed reloads with T−N blocks and the logits of the dense
 * model run with those blocks skipped.
 */
export function describeAdapter(opts: AdapterConformanceOptions): void {
  const tol = opts.tol ?? 1e-5
  describe(`ModelAdapter conformance: ${opts.name}`, () => {
    let model: ModelAdapter
    let batch: TokenBatch
    let T: number
    let d: number
    let dense: { hiddenStates: readonly Matrix[]; logits: Matrix }
    const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-adapter-'))
    beforeAll(async () => {
      model = await opts.load()
      T = model.info.numBlocks
      d = model.info.hiddenSize
      const V = Math.min(model.info.vocabSize, 32)
      batch = opts.batch ?? {
        batch: 2,
        seqLen: 8,
        ids: Int32Array.from({ length: 16 }, (_, i) => (i * 7 + 3) % V),
      }
      const r = await model.forward(batch, { hiddenStates: true })
      dense = { hiddenStates: r.hiddenStates!, logits: r.logits! }
    })
    afterAll(async () => {
      await model?.dispose()
      rmSync(tmp, { recursive: true, force: true })
    })

    it('reports its shape in info', () => {
      expect(T).toBeGreaterThanOrEqual(2)
      expect(d).toBeGreaterThan(0)
      expect(typeof model.info.backend).toBe('string')
      expect(model.info.backend.length).toBeGreaterThan(0)
    })

    it('returns T+1 hidden states of (B·S)×d, and logits of (B·S)×V', () => {
      expect(dense.hiddenStates.length).toBe(T + 1)
      for (const h of dense.hiddenStates) {
        expect([h.rows, h.cols, h.data.length]).toEqual([batch.ids.length, d, batch.ids.length * d])
      }
      expect([dense.logits.rows, dense.logits.cols]).toEqual([batch.ids.length, model.info.vocabSize])
      for (const v of dense.logits.data) expect(Number.isFinite(v)).toBe(true)
    })

    it('h_0 is the embedding output: position-wise, while later states see earlier tokens', async () => {
      const ids = batch.ids.slice()
      const S = batch.seqLen
      ids[2] = (ids[2]! + 1) % Math.min(model.info.vocabSize, 32) // change token 2 of sequence 0
      const r = await model.forward({ ...batch, ids }, { hiddenStates: true, logits: false })
      const h0 = r.hiddenStates![0]!
      const H0 = dense.hiddenStates[0]!
      for (let row = 0; row < ids.length; row++) {
        const a = h0.data.subarray(row * d, (row + 1) * d)
        const b = H0.data.subarray(row * d, (row + 1) * d)
        if (row === 2) expect(relDiff(a, b)).toBeGreaterThan(1e-3)
        else expect(relDiff(a, b)).toBeLessThanOrEqual(tol)
      }
      // causality: row 1 of h_T unchanged, row S-1 of sequence 0 changed, sequence 1 untouched
      const hT = r.hiddenStates![T]!
      const HT = dense.hiddenStates[T]!
      const row = (m: Matrix, i: number): Float32Array => m.data.subarray(i * d, (i + 1) * d)
      expect(relDiff(row(hT, 1), row(HT, 1))).toBeLessThanOrEqual(tol)
      expect(relDiff(row(hT, S - 1), row(HT, S - 1))).toBeGreaterThan(1e-4)
      if (batch.batch > 1) expect(relDiff(row(hT, S + 1), row(HT, S + 1))).toBeLessThanOrEqual(tol)
    })

    it('a skipped block passes the residual stream through; earlier states are unchanged', async () => {
      const k = Math.min(1, T - 1)
      const r = await model.forward(batch, { hiddenStates: true, skip: [k] })
      const hs = r.hiddenStates!
      expect(hs.length).toBe(T + 1)
      for (let i = 0; i <= k; i++)
        expect(relDiff(hs[i]!.data, dense.hiddenStates[i]!.data)).toBeLessThanOrEqual(tol)
      expect(relDiff(hs[k + 1]!.data, hs[k]!.data)).toBeLessThanOrEqual(tol)
      expect(relDiff(hs[k + 1]!.data, dense.hiddenStates[k + 1]!.data)).toBeGreaterThan(1e-4)
      const all = await model.forward(batch, {
        hiddenStates: true,
        skip: new Set(Array.from({ length: T }, (_, i) => i)),
      })
      for (const h of all.hiddenStates!)
        expect(relDiff(h.data, all.hiddenStates![0]!.data)).toBeLessThanOrEqual(tol)
    })

    it('captureRows keeps exactly those rows, in that order', async () => {
      const rows = Int32Array.from([batch.ids.length - 1, 0, 3, 3])
      const r = await model.forward(batch, { hiddenStates: true, captureRows: rows, logits: false })
      expect(r.logits).toBeUndefined()
      expect(r.hiddenStates!.length).toBe(T + 1)
      r.hiddenStates!.forEach((h, i) => {
        const want = selectRows(dense.hiddenStates[i]!, rows)
        expect([h.rows, h.cols]).toEqual([rows.length, d])
        expect(relDiff(h.data, want.data)).toBeLessThanOrEqual(tol)
      })
    })

    it('onHiddenState streams h_0..h_T in order; onProgress counts blocks', async () => {
      const seen: number[] = []
      const progress: number[] = []
      await model.forward(batch, {
        logits: false,
        onHiddenState: (i, h) => {
          seen.push(i)
          expect(relDiff(h.data, dense.hiddenStates[i]!.data)).toBeLessThanOrEqual(tol)
        },
        onProgress: (done, total) => {
          expect(total).toBe(T)
          progress.push(done)
        },
      })
      expect(seen).toEqual(Array.from({ length: T + 1 }, (_, i) => i))
      expect(progress).toEqual(Array.from({ length: T }, (_, i) => i + 1))
    })

    it('nll equals the next-token NLL computed from the logits (positions 1..S−1)', async () => {
      const check = async (skip: number[]): Promise<void> => {
        const { logits } = await model.forward(batch, { skip })
        const V = logits!.cols
        let want = 0
        for (let b = 0; b < batch.batch; b++) {
          for (let t = 0; t + 1 < batch.seqLen; t++) {
            const r = b * batch.seqLen + t
            const row = logits!.data.subarray(r * V, (r + 1) * V)
            const m = maxAbs(row) === 0 ? 0 : Math.max(...row)
            let z = 0
            for (const v of row) z += Math.exp(v - m)
            want += m + Math.log(z) - row[batch.ids[r + 1]!]!
          }
        }
        const got = await model.nll(batch, { skip })
        expect(got.tokens).toBe(batch.batch * (batch.seqLen - 1))
        expect(Math.abs(got.sumNll - want) / Math.abs(want)).toBeLessThanOrEqual(1e-4)
      }
      await check([])
      await check([T - 1])
    })

    it('is deterministic', async () => {
      const r = await model.forward(batch)
      expect(same(r.logits!, dense.logits)).toBe(true)
    })

    it.skipIf(opts.reload === undefined)(
      'an export without N blocks reloads with T−N blocks and the skipped model’s logits',
      async () => {
        const removed = T >= 3 ? [1, T - 1] : [T - 1]
        const out = join(tmp, 'pruned')
        const res = await model.exportPruned(removed, out, { method: 'conformance' })
        expect(res.numBlocks).toBe(T - removed.length)
        expect([...res.removed]).toEqual(removed)
        expect(existsSync(out)).toBe(true)
        const pruned = await opts.reload!(out)
        try {
          expect(pruned.info.numBlocks).toBe(T - removed.length)
          const a = await pruned.forward(batch, { hiddenStates: true })
          const b = await model.forward(batch, { hiddenStates: true, skip: removed })
          expect(relDiff(a.logits!.data, b.logits!.data)).toBeLessThanOrEqual(1e-5)
          expect(a.hiddenStates!.length).toBe(T - removed.length + 1)
          expect(relDiff(a.hiddenStates!.at(-1)!.data, b.hiddenStates!.at(-1)!.data)).toBeLessThanOrEqual(
            1e-5,
          )
        } finally {
          await pruned.dispose()
        }
      },
    )
  })
}
