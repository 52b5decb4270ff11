import type { Matrix } from '@mi-prun/core'

/**
 * Streamed all-token statistics of every span [start, start+length) with length ≤ maxSpan, over every
 * token that went through the forward pass (or every row of a dump). Index of a span:
 * `start * maxSpan + (length − 1)`. A token whose cosine is undefined (zero norm or non-finite state)
 * is counted in `tokens` but not in `finite`; scorers apply their NaN policy (baselines.md §2).
 */
export interface SpanStatistics {
  readonly numBlocks: number
  readonly maxSpan: number
  /** Tokens accumulated for every span. */
  readonly tokens: number
  /** Sequences seen. */
  readonly sequences: number
  /** Σ_t cos(h_start,t, h_start+length,t) over finite tokens (float64, clamped to [−1, 1]). */
  readonly cosSum: Float64Array
  /** Σ_t arccos(cos)/π over finite tokens. */
  readonly angleSum: Float64Array
  /** Tokens whose cosine is finite. */
  readonly finite: Float64Array
  /** Σ over sequences of that sequence's mean finite cosine (LLM-Streamline's sample mean). */
  readonly seqMeanCosSum: Float64Array
  /** Sequences with at least one finite token, per span. */
  readonly seqCount: Float64Array
}

/** Index of span (start, length) in the arrays of {@link SpanStatistics}. */
export function spanStatIndex(stats: Pick<SpanStatistics, 'maxSpan'>, start: number, length: number): number {
  return start * stats.maxSpan + (length - 1)
}

/**
 * Accumulates {@link SpanStatistics} chunk by chunk: `begin(sequenceIds)` then `add(i, h_i)` for i = 0..T
 * in order, repeated for each chunk of tokens. Holds the normalised rows of the last maxSpan states of the
 * current chunk only, so memory is O(maxSpan · chunkRows · d), plus per-sequence sums.
 */
export class SpanStatsAccumulator {
  readonly numBlocks: number
  readonly maxSpan: number
  private readonly numSequences: number
  private readonly cosSum: Float64Array
  private readonly angleSum: Float64Array
  private readonly finite: Float64Array
  private readonly seqSum: Float64Array
  private readonly seqCnt: Float64Array
  private tokens = 0
  private ring: Array<Float32Array | undefined>
  private valid: Array<Uint8Array | undefined>
  private seq: Int32Array = new Int32Array(0)
  private expect = 0

  constructor(numBlocks: number, maxSpan: number, numSequences: number) {
    this.numBlocks = numBlocks
    this.maxSpan = maxSpan
    this.numSequences = numSequences
    const slots = numBlocks * maxSpan
    this.cosSum = new Float64Array(slots)
    this.angleSum = new Float64Array(slots)
    this.finite = new Float64Array(slots)
    this.seqSum = new Float64Array(slots * numSequences)
    this.seqCnt = new Float64Array(slots * numSequences)
    this.ring = new Array<Float32Array | undefined>(maxSpan + 1)
    this.valid = new Array<Uint8Array | undefined>(maxSpan + 1)
  }

  /** Starts a chunk of rows; `sequenceIds[r]` in 0..numSequences−1 is the sequence of row r. */
  begin(sequenceIds: Int32Array): void {
    this.seq = sequenceIds
    this.expect = 0
    this.ring.fill(undefined)
    this.valid.fill(undefined)
    this.tokens += sequenceIds.length
  }

  /** Adds state h_i of the current chunk (rows × d); states must come in order 0..T. */
  add(index: number, h: Matrix): void {
    if (index !== this.expect)
      throw new RangeError(`[@mi-prun/span-scoring] hidden state ${index} arrived, expected ${this.expect}`)
    this.expect++
    const rows = this.seq.length
    if (h.rows !== rows)
      throw new RangeError(
        `[@mi-prun/span-scoring] hidden state ${index} has ${h.rows} rows, the chunk has ${rows}`,
      )
    const d = h.cols
    const nrm = new Float32Array(rows * d)
    const ok = new Uint8Array(rows)
    for (let r = 0; r < rows; r++) {
      let ss = 0
      const o = r * d
      for (let c = 0; c < d; c++) {
        const v = h.data[o + c]!
        ss += v * v
      }
      const n = Math.sqrt(ss)
      if (n > 0 && Number.isFinite(n)) {
        ok[r] = 1
        for (let c = 0; c < d; c++) nrm[o + c] = h.data[o + c]! / n
      }
    }
    const slot = index % (this.maxSpan + 1)
    this.ring[slot] = nrm
    this.valid[slot] = ok
    const S = this.numSequences
    for (let length = 1; length <= this.maxSpan && index - length >= 0; length++) {
      const start = index - length
      const prev = this.ring[start % (this.maxSpan + 1)]!
      const pok = this.valid[start % (this.maxSpan + 1)]!
      const k = start * this.maxSpan + (length - 1)
      let cs = 0
      let as = 0
      let fin = 0
      const sbase = k * S
      for (let r = 0; r < rows; r++) {
        if (!ok[r] || !pok[r]) continue
        const o = r * d
        let dot = 0
        for (let c = 0; c < d; c++) dot += prev[o + c]! * nrm[o + c]!
        if (dot > 1) dot = 1
        else if (dot < -1) dot = -1
        cs += dot
        as += Math.acos(dot) / Math.PI
        fin++
        const s = sbase + this.seq[r]!
        this.seqSum[s] = this.seqSum[s]! + dot
        this.seqCnt[s] = this.seqCnt[s]! + 1
      }
      this.cosSum[k] = this.cosSum[k]! + cs
      this.angleSum[k] = this.angleSum[k]! + as
      this.finite[k] = this.finite[k]! + fin
    }
  }

  /** Number of states added to the current chunk (T+1 when the chunk is complete). */
  get statesInChunk(): number {
    return this.expect
  }

  /** The statistics so far. */
  finish(): SpanStatistics {
    const slots = this.numBlocks * this.maxSpan
    const S = this.numSequences
    const seqMeanCosSum = new Float64Array(slots)
    const seqCount = new Float64Array(slots)
    for (let k = 0; k < slots; k++) {
      let m = 0
      let c = 0
      for (let s = 0; s < S; s++) {
        const n = this.seqCnt[k * S + s]!
        if (n > 0) {
          m += this.seqSum[k * S + s]! / n
          c++
        }
      }
      seqMeanCosSum[k] = m
      seqCount[k] = c
    }
    return {
      numBlocks: this.numBlocks,
      maxSpan: this.maxSpan,
      tokens: this.tokens,
      sequences: S,
      cosSum: this.cosSum.slice(),
      angleSum: this.angleSum.slice(),
      finite: this.finite.slice(),
      seqMeanCosSum,
      seqCount,
    }
  }
}
