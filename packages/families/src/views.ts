// Materialises the view a `WeightRef` describes from the tensor stored in the checkpoint. Every
// engine loads weights through `viewWeight`, so expert selection, fused-projection slices and
// Gemma's (1 + w) mean the same thing everywhere.

import { PruneError } from '@mi-prun/core'
import type { OutSelection, WeightRef } from './arch.js'

const P = '[@mi-prun/families]'

/** A dense float32 tensor: row-major data and its shape. */
export interface DenseTensor {
  readonly data: Float32Array
  readonly shape: readonly number[]
}

/** Indices of an output selection over `n` features. */
export function selectedIndices(sel: OutSelection | undefined, n: number): Int32Array {
  if (sel === undefined) return Int32Array.from({ length: n }, (_, i) => i)
  if ('indices' in sel) return Int32Array.from(sel.indices)
  return Int32Array.from({ length: sel.to - sel.from }, (_, i) => sel.from + i)
}

/** Number of output features of a view of a tensor with the given stored shape. */
export function viewOutSize(ref: WeightRef, storedShape: readonly number[]): number {
  const shape = ref.expert === undefined ? storedShape : storedShape.slice(1)
  const n = ref.layout === 'vector' ? shape[0]! : ref.layout === 'out-in' ? shape[0]! : shape[1]!
  if (ref.out === undefined) return n
  return 'indices' in ref.out ? ref.out.indices.length : ref.out.to - ref.out.from
}

/**
 * The weight as the program means it: a matrix [out, in] for `out-in` and `in-out` layouts (the
 * latter transposed), or a vector [out]. `orient: 'in-out'` returns matrices as [in, out] instead
 * (what a plain MatMul wants). Out-of-range selections are PruneError INVALID_CHECKPOINT.
 */
export function viewWeight(
  ref: WeightRef,
  stored: DenseTensor,
  orient: 'out-in' | 'in-out' = 'out-in',
): DenseTensor {
  let data = stored.data
  let shape = stored.shape
  if (ref.expert !== undefined) {
    const e = ref.expert
    if (shape.length < 2 || e < 0 || e >= shape[0]!)
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${P} ${ref.name}: expert ${e} out of range for a tensor of shape [${shape.join(', ')}]`,
      )
    const per = shape.slice(1).reduce((a, b) => a * b, 1)
    data = data.subarray(e * per, (e + 1) * per)
    shape = shape.slice(1)
  }
  const want = ref.layout === 'vector' ? 1 : 2
  if (shape.length !== want)
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${ref.name}: expected a ${want}-D tensor${ref.expert === undefined ? '' : ' per expert'}, got shape [${shape.join(', ')}]`,
    )
  if (ref.layout === 'vector') {
    const idx = selectedIndices(ref.out, shape[0]!)
    const out = new Float32Array(idx.length)
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i]!
      if (j < 0 || j >= shape[0]!) throw rangeError(ref, shape)
      out[i] = data[j]! + (ref.offset ?? 0)
    }
    return { data: out, shape: [idx.length] }
  }
  // normalise to [out, in] indexing: element (o, i)
  const outer = ref.layout === 'out-in' ? shape[0]! : shape[1]!
  const inner = ref.layout === 'out-in' ? shape[1]! : shape[0]!
  const at =
    ref.layout === 'out-in'
      ? (o: number, i: number) => data[o * inner + i]!
      : (o: number, i: number) => data[i * outer + o]!
  const idx = selectedIndices(ref.out, outer)
  const nOut = idx.length
  const res = new Float32Array(nOut * inner)
  const off = ref.offset ?? 0
  for (let r = 0; r < nOut; r++) {
    const o = idx[r]!
    if (o < 0 || o >= outer) throw rangeError(ref, shape)
    for (let i = 0; i < inner; i++) {
      const v = at(o, i) + off
      if (orient === 'out-in') res[r * inner + i] = v
      else res[i * nOut + r] = v
    }
  }
  return { data: res, shape: orient === 'out-in' ? [nOut, inner] : [inner, nOut] }
}

function rangeError(ref: WeightRef, shape: readonly number[]): PruneError {
  return new PruneError(
    'INVALID_CHECKPOINT',
    `${P} ${ref.name}: selected features out of range for a tensor of shape [${shape.join(', ')}]`,
  )
}
