import { PruneError, type RowTags, assertKnownOptions, matrix, type Matrix } from '@mi-prun/core'
import { readSafetensorsHeader, readTensorBytes, readTensorF32 } from '@mi-prun/safetensors'
import {
  ACTIVATION_OPTION_KEYS,
  type ActivationOptions,
  type ActivationStore,
  createActivationStore,
} from './store.js'

const P = '[@mi-prun/span-scoring]'

function readInts(file: ReturnType<typeof readSafetensorsHeader>, name: string, rows: number): Int32Array {
  const t = file.tensors.get(name)!
  const count = t.shape.reduce((a, b) => a * b, 1)
  if (t.shape.length !== 1 || count !== rows) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${file.path}: tensor "${name}" has shape ${JSON.stringify(t.shape)}, expected [${rows}]`,
    )
  }
  const bytes = readTensorBytes(file, name)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Int32Array(rows)
  if (t.dtype === 'I32') for (let i = 0; i < rows; i++) out[i] = view.getInt32(i * 4, true)
  else if (t.dtype === 'I64') {
    for (let i = 0; i < rows; i++) {
      const v = view.getBigInt64(i * 8, true)
      if (v < -2147483648n || v > 2147483647n)
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${P} ${file.path}: "${name}"[${i}] = ${v} does not fit int32`,
        )
      out[i] = Number(v)
    }
  } else {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${file.path}: tensor "${name}" is ${t.dtype}; use I32 or I64`,
    )
  }
  return out
}

/**
 * Loads a hidden-state dump written by another engine (the path for models too large for mi-prun's own
 * forward pass) and builds an {@link ActivationStore} from it. Layout (documented in the README, with a
 * Python snippet for Hugging Face `output_hidden_states`): one safetensors file with tensors `h.0` … `h.T`,
 * each F32, F16 or BF16 of shape [tokens, d] (row t of every tensor is the same token; `h.0` is the embedding
 * output and `h.T` the last block's output BEFORE the final norm), plus optional int tensors `sequence` and
 * `position` of shape [tokens] (I32 or I64). Statistics use every row; MI uses a seeded sample (options as
 * for {@link collectActivations}). Throws PruneError 'INVALID_CHECKPOINT' for a missing or misshapen tensor.
 */
export function loadActivationDump(path: string, options: ActivationOptions = {}): ActivationStore {
  assertKnownOptions('@mi-prun/span-scoring', options, ACTIVATION_OPTION_KEYS)
  const file = readSafetensorsHeader(path)
  let T = -1
  for (const name of file.tensors.keys()) {
    const m = /^h\.(\d+)$/.exec(name)
    if (m) T = Math.max(T, Number(m[1]))
  }
  if (T < 1)
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${path}: no tensors h.0 … h.T (T ≥ 1) found; see the dump layout in @mi-prun/span-scoring's README`,
    )
  const states: Matrix[] = []
  let rows = -1
  let d = -1
  for (let i = 0; i <= T; i++) {
    const t = file.tensors.get(`h.${i}`)
    if (t === undefined)
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${P} ${path}: h.${i} is missing (found up to h.${T}); states must be h.0 … h.T without gaps`,
      )
    if (t.shape.length !== 2)
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${P} ${path}: h.${i} has shape ${JSON.stringify(t.shape)}, expected [tokens, d]`,
      )
    const [r, c] = t.shape as [number, number]
    if (rows < 0) {
      rows = r
      d = c
    } else if (r !== rows || c !== d) {
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${P} ${path}: h.${i} is [${r}, ${c}] but h.0 is [${rows}, ${d}]`,
      )
    }
    states.push(matrix(r, c, readTensorF32(file, `h.${i}`)))
  }
  const hasSeq = file.tensors.has('sequence')
  const hasPos = file.tensors.has('position')
  let tags: RowTags | undefined
  if (hasSeq || hasPos) {
    tags = {
      sequence: hasSeq ? readInts(file, 'sequence', rows) : new Int32Array(rows),
      position: hasPos ? readInts(file, 'position', rows) : Int32Array.from({ length: rows }, (_, i) => i),
    }
  }
  return createActivationStore({ states, ...(tags ? { tags } : {}), source: `dump:${path}` }, options)
}
