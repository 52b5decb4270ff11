import { describe, expect, it } from 'vitest'
import { PruneError, createRng, isPruneError, matrix } from '@mi-prun/core'
import { createRandomProjectionReducer, gaussianProjection } from '@mi-prun/mi-reducers'
import { correlatedGaussian, meanSd } from '@mi-prun/testkit'

describe('random projection', () => {
  const { x, y } = correlatedGaussian(createRng(5), 60, 2000, 0.5)
  it('is deterministic for a seed (same bytes) and changes with the seed', () => {
    const a = createRandomProjectionReducer({ rank: 32, seed: 7 }).reducePair(x, y)
    const b = createRandomProjectionReducer({ rank: 32, seed: 7 }).reducePair(x, y)
    const c = createRandomProjectionReducer({ rank: 32, seed: 8 }).reducePair(x, y)
    expect(Buffer.from(a.x.data.buffer).equals(Buffer.from(b.x.data.buffer))).toBe(true)
    expect(Buffer.from(a.y.data.buffer).equals(Buffer.from(b.y.data.buffer))).toBe(true)
    expect(Buffer.from(a.x.data.buffer).equals(Buffer.from(c.x.data.buffer))).toBe(false)
    expect([a.x.rows, a.x.cols]).toEqual([60, 32])
  })
  it('uses one R for x and y in a shared space, and N(0, 1/r) entries', () => {
    const r = createRandomProjectionReducer({ rank: 16, seed: 1 }).reducePair(x, x)
    expect(Buffer.from(r.x.data.buffer).equals(Buffer.from(r.y.data.buffer))).toBe(true)
    const rt = gaussianProjection(500, 100, 3)
    const { mean, sd } = meanSd(Array.from(rt))
    expect(Math.abs(mean)).toBeLessThan((4 * 0.1) / Math.sqrt(rt.length))
    expect(sd).toBeCloseTo(0.1, 2)
    // R is x ↦ xR exactly: row 0 of the projection equals the dot products with R's columns
    const rt16 = gaussianProjection(2000, 16, 1)
    for (let c = 0; c < 16; c++) {
      let s = 0
      for (let k = 0; k < 2000; k++) s += x.data[k]! * rt16[c * 2000 + k]!
      expect(r.x.data[c]).toBeCloseTo(s, 4)
    }
  })
  it('approximately preserves Euclidean distances (Johnson–Lindenstrauss), d = 2000 → r = 400', () => {
    const p = createRandomProjectionReducer({ rank: 400, seed: 2 }).reducePair(x, y).x
    const ratios: number[] = []
    const dist = (m: { cols: number; data: Float32Array }, i: number, j: number): number => {
      let s = 0
      for (let k = 0; k < m.cols; k++) s += (m.data[i * m.cols + k]! - m.data[j * m.cols + k]!) ** 2
      return s
    }
    for (let i = 0; i < 60; i++) for (let j = i + 1; j < 60; j++) ratios.push(dist(p, i, j) / dist(x, i, j))
    const { mean } = meanSd(ratios)
    // squared-distance ratio ~ χ²_r / r: mean 1, sd √(2/r) ≈ 0.071
    expect(Math.abs(mean - 1)).toBeLessThan(0.05)
    expect(Math.min(...ratios)).toBeGreaterThan(0.6)
    expect(Math.max(...ratios)).toBeLessThan(1.4)
  })
  it('draws independent matrices for x and y when dx ≠ dy', () => {
    const a = matrix(3, 4, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0])
    const b = matrix(3, 5, [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0])
    const r = createRandomProjectionReducer({ rank: 2, seed: 4 }).reducePair(a, b)
    expect(r.info!.shared).toBe(0)
    expect(r.x.data[0]).toBeCloseTo(gaussianProjection(4, 2, 4)[0]!, 6)
    expect(r.y.data[0]).toBeCloseTo(gaussianProjection(5, 2, 5)[0]!, 6)
  })
  it('rejects rank < 1 and rank > d', () => {
    expect(() => createRandomProjectionReducer({ rank: 0 })).toThrow(RangeError)
    expect(() => createRandomProjectionReducer({ rank: 1, seed: Number.NaN })).toThrow(/seed/)
    let err: unknown
    try {
      createRandomProjectionReducer({ rank: 2001 }).reducePair(x, y)
    } catch (e) {
      err = e
    }
    expect(isPruneError(err, 'INVALID_CONFIG')).toBe(true)
    expect((err as PruneError).message).toContain('random projection rank 2001 exceeds the input dimension')
  })
})
