import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { PruneError, assertKnownOptions } from '@mi-prun/core'
import { type FloatDType, decodeFloats, isFloatDType, specDTypeBytes } from './dtype.js'

const P = '[@mi-prun/safetensors]'

/** Default cap on the JSON header size in bytes (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000

/** One tensor entry of a safetensors header. Offsets are absolute byte positions in the file. */
export interface TensorEntry {
  readonly name: string
  readonly dtype: string
  readonly shape: readonly number[]
  /** First byte of the tensor's data, counted from the start of the file. */
  readonly begin: number
  /** One past the last byte. */
  readonly end: number
}

/** A validated safetensors file: its header, never its data. */
export interface SafetensorsFile {
  readonly path: string
  readonly fileSize: number
  /** Byte where the data section starts (8 + header length). */
  readonly dataStart: number
  readonly tensors: ReadonlyMap<string, TensorEntry>
  readonly metadata: Readonly<Record<string, string>>
}

export interface ReadHeaderOptions {
  /** Largest accepted header, bytes (default MAX_HEADER_BYTES). */
  readonly maxHeaderBytes?: number
}

function bad(path: string, what: string, cause?: unknown): PruneError {
  return new PruneError(
    'INVALID_CHECKPOINT',
    `${P} ${path}: ${what}`,
    cause === undefined ? undefined : { cause },
  )
}

function readExact(
  fd: number,
  length: number,
  position: number,
  path: string,
  into?: Uint8Array,
): Uint8Array {
  const buf = into ?? new Uint8Array(length)
  let done = 0
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done)
    if (n === 0)
      throw bad(
        path,
        `file ended after ${position + done} bytes while reading ${length} bytes at ${position}`,
      )
    done += n
  }
  return buf
}

/**
 * Reads and validates the header of a safetensors file [1] without touching its data: the header
 * length must fit both the file and `maxHeaderBytes`, the JSON must be an object of entries
 * `{ dtype, shape, data_offsets }` plus an optional string map `__metadata__`, every dtype must be a
 * spec dtype, byte lengths must equal prod(shape)·sizeof(dtype), and the offsets must lie inside the
 * data section without overlapping. Any violation throws PruneError `INVALID_CHECKPOINT` naming the
 * file and the problem.
 * [1] Hugging Face, "safetensors" format specification, https://github.com/huggingface/safetensors
 * @example
 * const f = readSafetensorsHeader('model.safetensors') // f.tensors.get('lm_head.weight')?.shape
 */
export function readSafetensorsHeader(path: string, options: ReadHeaderOptions = {}): SafetensorsFile {
  assertKnownOptions('@mi-prun/safetensors', options, [
    'maxHeaderBytes',
  ] satisfies (keyof ReadHeaderOptions)[])
  const { maxHeaderBytes = MAX_HEADER_BYTES } = options
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw new PruneError('IO_ERROR', `${P} cannot open ${path}: ${(e as Error).message}`, { cause: e })
  }
  try {
    const fileSize = fstatSync(fd).size
    if (fileSize < 8) throw bad(path, `file has ${fileSize} bytes, too short for the 8-byte header length`)
    const lenBytes = readExact(fd, 8, 0, path)
    const len = new DataView(lenBytes.buffer).getBigUint64(0, true)
    if (len > BigInt(maxHeaderBytes)) {
      throw bad(
        path,
        `header length ${len} exceeds the cap of ${maxHeaderBytes} bytes: the file is corrupt or not safetensors`,
      )
    }
    const headerLen = Number(len)
    if (8 + headerLen > fileSize) {
      throw bad(
        path,
        `header length ${headerLen} runs past the end of the ${fileSize}-byte file: the file is truncated or corrupt`,
      )
    }
    const headerBytes = readExact(fd, headerLen, 8, path)
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes))
    } catch (e) {
      throw bad(path, `header is not valid UTF-8 JSON (${(e as Error).message})`, e)
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw bad(path, 'header JSON must be an object')
    const dataStart = 8 + headerLen
    const dataLen = fileSize - dataStart
    const tensors = new Map<string, TensorEntry>()
    let metadata: Record<string, string> = {}
    for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (v === null || typeof v !== 'object' || Array.isArray(v))
          throw bad(path, '__metadata__ must be an object of strings')
        for (const [k, s] of Object.entries(v))
          if (typeof s !== 'string') throw bad(path, `__metadata__.${k} must be a string`)
        metadata = { ...(v as Record<string, string>) }
        continue
      }
      if (v === null || typeof v !== 'object') throw bad(path, `tensor "${name}" must be an object`)
      const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>
      if (typeof dtype !== 'string' || specDTypeBytes[dtype] === undefined)
        throw bad(path, `tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}`)
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        throw bad(
          path,
          `tensor "${name}" has an invalid shape ${JSON.stringify(shape)} (must be non-negative integers)`,
        )
      }
      if (
        !Array.isArray(offs) ||
        offs.length !== 2 ||
        !offs.every((o) => Number.isSafeInteger(o) && o >= 0) ||
        offs[0] > offs[1]
      ) {
        throw bad(
          path,
          `tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)} (need [begin, end] with 0 <= begin <= end)`,
        )
      }
      const [b, e] = offs as [number, number]
      if (e > dataLen)
        throw bad(
          path,
          `tensor "${name}" data_offsets [${b}, ${e}] run past the ${dataLen}-byte data section`,
        )
      const elems = (shape as number[]).reduce((a, d) => a * d, 1)
      const want = elems * specDTypeBytes[dtype]!
      if (e - b !== want) {
        throw bad(
          path,
          `tensor "${name}" is ${dtype} ${JSON.stringify(shape)} = ${want} bytes but data_offsets span ${e - b} bytes`,
        )
      }
      tensors.set(name, { name, dtype, shape: shape as number[], begin: dataStart + b, end: dataStart + e })
    }
    const sorted = [...tensors.values()].sort((x, y) => x.begin - y.begin || x.end - y.end)
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!
      const cur = sorted[i]!
      if (cur.begin < prev.end)
        throw bad(path, `tensors "${prev.name}" and "${cur.name}" overlap in the data section`)
    }
    return { path, fileSize, dataStart, tensors, metadata }
  } finally {
    closeSync(fd)
  }
}

/** Reads the raw bytes of one tensor by byte range (no other bytes of the file are read). */
export function readTensorBytes(file: SafetensorsFile, name: string): Uint8Array {
  const t = file.tensors.get(name)
  if (t === undefined)
    throw new PruneError('INVALID_CHECKPOINT', `${P} ${file.path}: no tensor named "${name}"`)
  let fd: number
  try {
    fd = openSync(file.path, 'r')
  } catch (e) {
    throw new PruneError('IO_ERROR', `${P} cannot open ${file.path}: ${(e as Error).message}`, { cause: e })
  }
  try {
    return readExact(fd, t.end - t.begin, t.begin, file.path)
  } finally {
    closeSync(fd)
  }
}

/**
 * Reads one tensor as float32 (F16 and BF16 are converted on load), reading only its byte range.
 * Non-float dtypes throw PruneError `INVALID_CHECKPOINT`.
 */
export function readTensorF32(file: SafetensorsFile, name: string): Float32Array {
  const t = file.tensors.get(name)
  if (t === undefined)
    throw new PruneError('INVALID_CHECKPOINT', `${P} ${file.path}: no tensor named "${name}"`)
  if (!isFloatDType(t.dtype)) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${file.path}: tensor "${name}" is ${t.dtype}; only F32, F16 and BF16 weights are supported`,
    )
  }
  const bytes = readTensorBytes(file, name)
  // F32 from a fresh, aligned buffer: view it instead of copying (halves peak memory per tensor)
  if (t.dtype === 'F32' && bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
  return decodeFloats(t.dtype as FloatDType, bytes)
}

/**
 * Reads elements [start, start + count) of one float tensor (flattened, row-major) as float32,
 * reading only those bytes: e.g. a few embedding rows or a slice of an output head. With `into`
 * (at least `count` long) the values land there and its filled prefix is returned.
 */
export function readTensorRangeF32(
  file: SafetensorsFile,
  name: string,
  start: number,
  count: number,
  into?: Float32Array,
): Float32Array {
  const t = file.tensors.get(name)
  if (t === undefined)
    throw new PruneError('INVALID_CHECKPOINT', `${P} ${file.path}: no tensor named "${name}"`)
  if (!isFloatDType(t.dtype)) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${file.path}: tensor "${name}" is ${t.dtype}; only F32, F16 and BF16 weights are supported`,
    )
  }
  const size = specDTypeBytes[t.dtype]!
  const n = (t.end - t.begin) / size
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(count) ||
    start < 0 ||
    count < 0 ||
    start + count > n
  ) {
    throw new RangeError(
      `${P} elements [${start}, ${start + count}) are outside tensor "${name}" of ${n} elements`,
    )
  }
  let fd: number
  try {
    fd = openSync(file.path, 'r')
  } catch (e) {
    throw new PruneError('IO_ERROR', `${P} cannot open ${file.path}: ${(e as Error).message}`, { cause: e })
  }
  if (into !== undefined && into.length < count) {
    closeSync(fd)
    throw new RangeError(`${P} output holds ${into.length} values, ${count} needed`)
  }
  const direct = t.dtype === 'F32' && into !== undefined
  let bytes: Uint8Array
  try {
    bytes = readExact(
      fd,
      count * size,
      t.begin + start * size,
      file.path,
      direct ? new Uint8Array(into.buffer, into.byteOffset, count * 4) : undefined,
    )
  } finally {
    closeSync(fd)
  }
  if (direct) return into.subarray(0, count)
  if (t.dtype === 'F32') return new Float32Array(bytes.buffer, 0, count)
  return decodeFloats(t.dtype as FloatDType, bytes, into)
}

/**
 * Reads one float tensor into `out` (at least as long as the tensor; the filled prefix is
 * returned), converting F16/BF16. Lets a caller reuse one buffer across tensors instead of
 * allocating per tensor. F32 data is read straight into `out`.
 */
export function readTensorF32Into(file: SafetensorsFile, name: string, out: Float32Array): Float32Array {
  const t = file.tensors.get(name)
  if (t === undefined)
    throw new PruneError('INVALID_CHECKPOINT', `${P} ${file.path}: no tensor named "${name}"`)
  if (!isFloatDType(t.dtype)) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${P} ${file.path}: tensor "${name}" is ${t.dtype}; only F32, F16 and BF16 weights are supported`,
    )
  }
  if (t.dtype !== 'F32') return decodeFloats(t.dtype as FloatDType, readTensorBytes(file, name), out)
  const n = (t.end - t.begin) / 4
  if (out.length < n)
    throw new RangeError(`${P} output holds ${out.length} values, tensor "${name}" has ${n}`)
  let fd: number
  try {
    fd = openSync(file.path, 'r')
  } catch (e) {
    throw new PruneError('IO_ERROR', `${P} cannot open ${file.path}: ${(e as Error).message}`, { cause: e })
  }
  try {
    readExact(fd, n * 4, t.begin, file.path, new Uint8Array(out.buffer, out.byteOffset, n * 4))
  } finally {
    closeSync(fd)
  }
  return out.subarray(0, n)
}
