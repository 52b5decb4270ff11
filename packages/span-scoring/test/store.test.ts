import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type Matrix, PruneError, matrix } from '@mi-prun/core'
import { encodeFloats, writeSafetensors } from '@mi-prun/safetensors'
import { TOL_F32_REL, TOL_F64_ABS } from '@mi-prun/testkit'
import {
  collectActivations,
  createActivationStore,
  createAngularDistanceScorer,
  createBlockInfluenceScorer,
  createRandomProjection,
  createWindowCosineScorer,
  loadActivationDump,
} from '@mi-prun/span-scoring'
import { toyAdapter, toyBatches } from './toy-model.js'

/** Float64 reference: per-token cosines of rows of a and b. */
function cosines(a: Matrix, b: Matrix): number[] {
  const out: number[] = []
  for (let r = 0; r < a.rows; r++) {
    let dot = 0
    let na = 0
    let nb = 0
    for (let c = 0; c < a.cols; c++) {
      const u = a.data[r * a.cols + c]!
      const v = b.data[r * a.cols + c]!
      dot += u * v
      na += u * u
      nb += v * v
    }
    out.push(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))))
  }
  return out
}
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length

describe('collectActivations (one forward pass per batch)', async () => {
  const T = 6
  const d = 5
  const adapter = toyAdapter(T, d)
  const batches = toyBatches(3, 4, 9) // 12 sequences × 9 tokens = 108 tokens, 96 eligible
  const store = await collectActivations(adapter, batches, { maxTokens: 40, seed: 3 })
  const full = batches.map((b) => adapter.allStates(b))
  const allRows = (i: number): Matrix => {
    const parts = full.map((hs) => hs[i]!)
    const data = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0))
    let o = 0
    for (const p of parts) {
      data.set(p.data, o)
      o += p.data.length
    }
    return matrix(data.length / d, d, data)
  }

  it('runs the dense model once per batch and keeps T+1 states of the seeded sample', () => {
    expect(adapter.forwards).toBe(3)
    expect(store.states.length).toBe(T + 1)
    expect(store.samples).toBe(40)
    for (const h of store.states) expect([h.rows, h.cols]).toEqual([40, d])
    expect(store.settings).toMatchObject({
      source: 'forward',
      tokensSeen: 108,
      sequences: 12,
      maxTokens: 40,
      seed: 3,
      excludeFirst: true,
    })
  })

  it('excludes position 0, tags rows with global sequence ids, and pairs the same token across states', () => {
    expect(Array.from(store.tags.position).every((p) => p >= 1 && p < 9)).toBe(true)
    expect(Math.max(...store.tags.sequence)).toBeLessThan(12)
    for (let r = 0; r < store.samples; r++) {
      const s = store.tags.sequence[r]!
      const row = (s % 4) * 9 + store.tags.position[r]!
      const hs = full[Math.floor(s / 4)]!
      for (const i of [0, 3, T]) {
        expect(Array.from(store.states[i]!.data.subarray(r * d, (r + 1) * d))).toEqual(
          Array.from(hs[i]!.data.subarray(row * d, (row + 1) * d)),
        )
      }
    }
  })

  it('is deterministic for a seed and changes with it', async () => {
    const again = await collectActivations(toyAdapter(T, d), batches, { maxTokens: 40, seed: 3 })
    expect(Array.from(again.tags.sequence)).toEqual(Array.from(store.tags.sequence))
    expect(again.states[2]!.data).toEqual(store.states[2]!.data)
    const other = await collectActivations(toyAdapter(T, d), batches, { maxTokens: 40, seed: 4 })
    expect(Array.from(other.tags.position)).not.toEqual(Array.from(store.tags.position))
  })

  it('streams all-token statistics equal to a float64 recomputation over every token', () => {
    const bi = createBlockInfluenceScorer({ store })
    const ang = createAngularDistanceScorer({ store, tokens: 'all' })
    for (const [j, L] of [
      [0, 1],
      [2, 1],
      [1, 3],
      [0, T],
    ] as const) {
      const c = cosines(allRows(j), allRows(j + L))
      expect(bi.score(j, L)).toBeCloseTo(1 - mean(c), 6)
      expect(ang.score(j, L)).toBeCloseTo(mean(c.map((x) => Math.acos(x) / Math.PI)), 6)
    }
    expect(store.stats.tokens).toBe(108)
  })

  it('keeps each sequence’s last token for Gromov’s last-token angular distance', () => {
    const last = createAngularDistanceScorer({ store })
    const pick = (i: number): Matrix => {
      const rows: number[] = []
      full.forEach((hs) => {
        for (let s = 0; s < 4; s++) rows.push(...hs[i]!.data.subarray((s * 9 + 8) * d, (s * 9 + 9) * d))
      })
      return matrix(12, d, Float32Array.from(rows))
    }
    const ref = mean(cosines(pick(1), pick(4)).map((x) => Math.acos(x) / Math.PI))
    expect(Math.abs(last.score(1, 3) - ref)).toBeLessThan(TOL_F64_ABS * 1e3)
    expect(last.settings).toMatchObject({ kind: 'angular-distance', tokens: 'last', count: 12 })
  })

  it('gives the same statistics as createActivationStore over the full states (one pass serves all scorers)', () => {
    const seq = new Int32Array(108)
    const pos = new Int32Array(108)
    for (let r = 0; r < 108; r++) {
      seq[r] = Math.floor(r / 9)
      pos[r] = r % 9
    }
    const mem = createActivationStore({
      states: Array.from({ length: T + 1 }, (_, i) => allRows(i)),
      tags: { sequence: seq, position: pos },
    })
    for (let k = 0; k < store.stats.cosSum.length; k++) {
      expect(Math.abs(mem.stats.cosSum[k]! - store.stats.cosSum[k]!)).toBeLessThan(1e-9)
      expect(Math.abs(mem.stats.seqMeanCosSum[k]! - store.stats.seqMeanCosSum[k]!)).toBeLessThan(1e-9)
    }
    const wc = createWindowCosineScorer({ store })
    const wm = createWindowCosineScorer({ store: mem })
    expect(Math.abs(wc.score(2, 2) - wm.score(2, 2))).toBeLessThan(1e-12)
    expect(createAngularDistanceScorer({ store: mem }).score(0, 4)).toBeCloseTo(
      createAngularDistanceScorer({ store }).score(0, 4),
      12,
    )
  })

  it('bounds memory with a shared seeded random projection of every sampled state', async () => {
    const rp = await collectActivations(toyAdapter(T, d), batches, {
      maxTokens: 40,
      seed: 3,
      reducer: createRandomProjection({ rank: 3, seed: 9 }),
    })
    expect(rp.dims).toBe(3)
    expect(rp.hiddenSize).toBe(d)
    expect(rp.states[0]!.cols).toBe(3)
    expect(rp.settings['reducer']).toEqual({ kind: 'random-projection', rank: 3, seed: 9 })
    const proj = createRandomProjection({ rank: 3, seed: 9 })
    expect(proj.reduce(store.states[2]!).data).toEqual(rp.states[2]!.data)
  })

  it('rejects impossible inputs with PruneErrors', async () => {
    await expect(
      collectActivations(toyAdapter(2, 3), [{ batch: 1, seqLen: 1, ids: new Int32Array(1) }]),
    ).rejects.toThrow(PruneError)
    await expect(collectActivations(toyAdapter(2, 3), batches, { maxSpan: 9 })).rejects.toThrow(RangeError)
    const silent = toyAdapter(2, 3)
    const forward = silent.forward.bind(silent)
    silent.forward = (b, o = {}) => forward(b, { ...o, onHiddenState: () => {} }) // never streams to the caller
    await expect(collectActivations(silent, batches)).rejects.toThrow(/streamed 0 hidden states/)
    const short = createActivationStore(
      { states: [matrix(3, 2, [1, 0, 0, 1, 1, 1]), matrix(3, 2, [1, 1, 0, 1, 2, 1])] },
      { maxSpan: 1 },
    )
    expect(() => createBlockInfluenceScorer({ store: short }).score(0, 2)).toThrow(PruneError)
  })
})

describe('Block Influence NaN policy', () => {
  it("counts a zero-norm token as BI 0.5 under 'half' and drops it under 'skip'", () => {
    // token 0: cos = 1 (BI 0); token 1: zero vector in h_1 (NaN cosine); token 2: cos = 0 (BI 1)
    const h0 = matrix(3, 2, [1, 0, 1, 1, 1, 0])
    const h1 = matrix(3, 2, [2, 0, 0, 0, 0, 1])
    const store = createActivationStore({ states: [h0, h1] }, { excludeFirst: false })
    expect(createBlockInfluenceScorer({ store }).score(0, 1)).toBeCloseTo((0 + 0.5 + 1) / 3, 12)
    expect(createBlockInfluenceScorer({ store, nanPolicy: 'skip' }).score(0, 1)).toBeCloseTo(0.5, 12)
    expect(createBlockInfluenceScorer({ store }).settings['nanTokens']).toBe(1)
    // angular: arccos(1)/π = 0, arccos(0)/π = 0.5
    expect(createBlockInfluenceScorer({ store, angular: true, nanPolicy: 'skip' }).score(0, 1)).toBeCloseTo(
      0.25,
      12,
    )
  })
})

describe('loadActivationDump (safetensors h.0 … h.T)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mi-prun-dump-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const T = 3
  const n = 10
  const d = 4
  const states = Array.from({ length: T + 1 }, (_, i) =>
    matrix(
      n,
      d,
      Float32Array.from({ length: n * d }, (_, k) => Math.sin(k * 0.37 + i) + 0.1 * i),
    ),
  )
  const seq = Int32Array.from({ length: n }, (_, r) => (r < 5 ? 7 : 9))
  const pos = Int32Array.from({ length: n }, (_, r) => r % 5)

  it.each(['F32', 'F16', 'BF16'] as const)(
    'reads %s states plus I64 sequence/position tensors',
    async (dtype) => {
      const path = join(dir, `dump-${dtype}.safetensors`)
      const i64 = (v: Int32Array): Uint8Array =>
        new Uint8Array(BigInt64Array.from(v, (x) => BigInt(x)).buffer)
      await writeSafetensors(path, [
        ...states.map((h, i) => ({
          name: `h.${i}`,
          dtype,
          shape: [n, d],
          data: encodeFloats(dtype, h.data),
        })),
        { name: 'sequence', dtype: 'I64', shape: [n], data: i64(seq) },
        { name: 'position', dtype: 'I64', shape: [n], data: i64(pos) },
      ])
      const store = loadActivationDump(path, { maxTokens: 6, seed: 1 })
      expect(store.numBlocks).toBe(T)
      expect(store.samples).toBe(6)
      expect(Array.from(store.tags.position).every((p) => p !== 0)).toBe(true)
      expect(store.lastToken[0]!.rows).toBe(2)
      expect(store.stats.tokens).toBe(n)
      expect(store.stats.sequences).toBe(2)
      const tol = dtype === 'F32' ? TOL_F32_REL : dtype === 'F16' ? 2e-3 : 1.6e-2
      const ref = 1 - mean(cosines(states[0]!, states[2]!))
      expect(Math.abs(createBlockInfluenceScorer({ store }).score(0, 2) - ref)).toBeLessThan(tol)
      expect(String(store.settings['source'])).toContain('dump:')
    },
  )

  it('rejects a dump with a gap in h.0 … h.T', async () => {
    const path = join(dir, 'gap.safetensors')
    await writeSafetensors(
      path,
      [0, 2].map((i) => ({
        name: `h.${i}`,
        dtype: 'F32',
        shape: [n, d],
        data: encodeFloats('F32', states[i]!.data),
      })),
    )
    expect(() => loadActivationDump(path)).toThrow(/h\.1 is missing/)
  })
})
