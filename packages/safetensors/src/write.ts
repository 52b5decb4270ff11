import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { PruneError, assertKnownOptions } from '@mi-prun/core'
import { specDTypeBytes } from './dtype.js'

const P = '[@mi-prun/safetensors]'

/** One tensor to write: its bytes (little-endian, already in `dtype`) or a thunk that yields them when needed. */
export interface TensorSource {
  readonly name: string
  readonly dtype: string
  readonly shape: readonly number[]
  readonly data: Uint8Array | (() => Uint8Array | Promise<Uint8Array>)
}

export interface WriteOptions {
  /** String-to-string `__metadata__` (e.g. `{ format: 'pt' }`). */
  readonly metadata?: Readonly<Record<string, string>>
}

function byteLength(t: TensorSource): number {
  const size = specDTypeBytes[t.dtype]
  if (size === undefined)
    throw new PruneError('INVALID_INPUT', `${P} tensor "${t.name}" has unknown dtype ${t.dtype}`)
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new PruneError(
      'INVALID_INPUT',
      `${P} tensor "${t.name}" has an invalid shape ${JSON.stringify(t.shape)}`,
    )
  }
  return t.shape.reduce((a, d) => a * d, 1) * size
}

/**
 * Orders tensors as the reference serializer does: larger dtype alignment first, then by name, so
 * every tensor starts at a multiple of its element size.
 */
function ordered(tensors: readonly TensorSource[]): TensorSource[] {
  return [...tensors].sort(
    (a, b) =>
      specDTypeBytes[b.dtype]! - specDTypeBytes[a.dtype]! || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  )
}

/**
 * The header bytes (8-byte little-endian length + JSON padded with spaces to a multiple of 8) for
 * `tensors`, laid out contiguously in the order returned alongside.
 */
export function encodeHeader(
  tensors: readonly TensorSource[],
  options: WriteOptions = {},
): { header: Uint8Array; order: TensorSource[]; dataBytes: number } {
  assertKnownOptions('@mi-prun/safetensors', options, ['metadata'] satisfies (keyof WriteOptions)[])
  const names = new Set<string>()
  for (const t of tensors) {
    if (t.name === '__metadata__')
      throw new PruneError('INVALID_INPUT', `${P} "__metadata__" is reserved and cannot name a tensor`)
    if (names.has(t.name)) throw new PruneError('INVALID_INPUT', `${P} duplicate tensor name "${t.name}"`)
    names.add(t.name)
  }
  const order = ordered(tensors)
  const obj: Record<string, unknown> = {}
  if (options.metadata !== undefined) obj['__metadata__'] = { ...options.metadata }
  let off = 0
  for (const t of order) {
    const n = byteLength(t)
    obj[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [off, off + n] }
    off += n
  }
  const json = new TextEncoder().encode(JSON.stringify(obj))
  const padded = Math.ceil(json.length / 8) * 8
  const header = new Uint8Array(8 + padded).fill(0x20, 8)
  header.set(json, 8)
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true)
  return { header, order, dataBytes: off }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
}

/**
 * Writes a safetensors file atomically (a temp file in the same folder, fsync, then rename). Tensor
 * data given as thunks is fetched one tensor at a time, so a file larger than memory can be written.
 * Returns the number of bytes written.
 * @example
 * await writeSafetensors('w.safetensors', [{ name: 'a', dtype: 'F32', shape: [2], data: encodeFloats('F32', new Float32Array([1, 2])) }])
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly TensorSource[],
  options: WriteOptions = {},
): Promise<number> {
  const { header, order } = encodeHeader(tensors, options)
  mkdirSync(dirname(path), { recursive: true })
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`)
  let fd: number | undefined
  try {
    fd = openSync(tmp, 'w')
    writeAll(fd, header)
    let total = header.length
    for (const t of order) {
      const bytes = typeof t.data === 'function' ? await t.data() : t.data
      const want = byteLength(t)
      if (bytes.length !== want) {
        throw new PruneError(
          'INVALID_INPUT',
          `${P} tensor "${t.name}" is ${t.dtype} ${JSON.stringify(t.shape)} = ${want} bytes but ${bytes.length} bytes were given`,
        )
      }
      writeAll(fd, bytes)
      total += bytes.length
    }
    fsyncSync(fd)
    closeSync(fd)
    fd = undefined
    renameSync(tmp, path)
    return total
  } catch (e) {
    if (fd !== undefined) closeSync(fd)
    rmSync(tmp, { force: true })
    throw e
  }
}

export interface ShardedWriteOptions extends WriteOptions {
  /** Largest shard, bytes of tensor data (a single larger tensor gets a shard of its own). Default 5 GB. */
  readonly maxShardBytes?: number
  /** File name prefix, default 'model'. */
  readonly prefix?: string
}

/**
 * Writes `tensors` into `dir` as `model.safetensors` when they fit one shard, otherwise as
 * `model-0000i-of-0000n.safetensors` plus `model.safetensors.index.json` (`metadata.total_size`,
 * `weight_map`), in Hugging Face's layout. Tensors are assigned to shards in name order. Each file
 * is written atomically; returns the file names written.
 */
export async function writeShardedSafetensors(
  dir: string,
  tensors: readonly TensorSource[],
  options: ShardedWriteOptions = {},
): Promise<string[]> {
  assertKnownOptions('@mi-prun/safetensors', options, [
    'metadata',
    'maxShardBytes',
    'prefix',
  ] satisfies (keyof ShardedWriteOptions)[])
  const { maxShardBytes = 5e9, prefix = 'model', metadata } = options
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const shards: TensorSource[][] = []
  let cur: TensorSource[] = []
  let curBytes = 0
  let total = 0
  for (const t of sorted) {
    const n = byteLength(t)
    total += n
    if (cur.length > 0 && curBytes + n > maxShardBytes) {
      shards.push(cur)
      cur = []
      curBytes = 0
    }
    cur.push(t)
    curBytes += n
  }
  if (cur.length > 0 || shards.length === 0) shards.push(cur)
  const opts = metadata === undefined ? {} : { metadata }
  if (shards.length === 1) {
    await writeSafetensors(join(dir, `${prefix}.safetensors`), shards[0]!, opts)
    return [`${prefix}.safetensors`]
  }
  const pad = (i: number): string => String(i).padStart(5, '0')
  const files: string[] = []
  const weightMap: Record<string, string> = {}
  for (let s = 0; s < shards.length; s++) {
    const file = `${prefix}-${pad(s + 1)}-of-${pad(shards.length)}.safetensors`
    await writeSafetensors(join(dir, file), shards[s]!, opts)
    for (const t of shards[s]!) weightMap[t.name] = file
    files.push(file)
  }
  const index = { metadata: { total_size: total }, weight_map: weightMap }
  const idx = `${prefix}.safetensors.index.json`
  const tmp = join(dir, `.${idx}.tmp-${process.pid}`)
  const fd = openSync(tmp, 'w')
  writeAll(fd, new TextEncoder().encode(JSON.stringify(index, null, 2) + '\n'))
  closeSync(fd)
  renameSync(tmp, join(dir, idx))
  files.push(idx)
  return files
}
