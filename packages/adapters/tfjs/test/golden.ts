import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A golden written by scripts/goldens/hf_forward.py: metadata + float64 logits and hidden states. */
export interface Golden {
  readonly batch: number
  readonly seqLen: number
  readonly ids: Int32Array
  readonly sumNll: number
  readonly logits: Float64Array
  readonly hidden: Float64Array[]
  readonly meta: Record<string, unknown>
}

/** Reads `<dir>/golden-forward.json` (+ .bin), or undefined when there is none. */
export function readGolden(dir: string, prefix = 'golden-forward'): Golden | undefined {
  const metaPath = join(dir, `${prefix}.json`)
  if (!existsSync(metaPath)) return undefined
  const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown> & {
    batch: number
    seqLen: number
    ids: number[]
    vocabSize: number
    hiddenSize: number
    numHiddenStates: number
    sumNll: number
    binary: string
  }
  const buf = readFileSync(join(dir, meta.binary))
  const all = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
  const N = meta.batch * meta.seqLen
  const logits = all.subarray(0, N * meta.vocabSize)
  const hidden: Float64Array[] = []
  for (let i = 0; i < meta.numHiddenStates; i++) {
    const o = N * meta.vocabSize + i * N * meta.hiddenSize
    hidden.push(all.subarray(o, o + N * meta.hiddenSize))
  }
  return {
    batch: meta.batch,
    seqLen: meta.seqLen,
    ids: Int32Array.from(meta.ids),
    sumNll: meta.sumNll,
    logits,
    hidden,
    meta,
  }
}

/** max|a − b| / max|b|: the largest error relative to the golden's scale. */
export function relErr(a: Float32Array, b: Float64Array): number {
  let m = 0
  let s = 0
  for (let i = 0; i < b.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!))
    s = Math.max(s, Math.abs(b[i]!))
  }
  return a.length === b.length ? m / Math.max(s, 1e-30) : Number.POSITIVE_INFINITY
}
