import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { PruneError, createRng, matrix, type Matrix } from '@mi-prun/core'
import {
  type SafetensorsFile,
  readSafetensorsHeader,
  readTensorBytes,
  readTensorRangeF32,
} from '@mi-prun/safetensors'
import { SpanStatsAccumulator } from './stats.js'
import type { ActivationOptions, ActivationStore } from './store.js'

const P = '[@mi-prun/span-scoring]'
const FLOATS = new Set(['F32', 'F16', 'BF16'])

function bad(where: string, problem: string): PruneError {
  return new PruneError('INVALID_DUMP', `${P} ${where}: ${problem}`)
}

/** One shard of a hidden-state dump: its file and how many token rows it holds. */
export interface DumpShard {
  readonly path: string
  readonly file: SafetensorsFile
  readonly rows: number
}

/**
 * An opened and validated hidden-state dump (one safetensors file, or a folder of shards with
 * `index.json` as written by `scripts/capture/capture.py`). Only headers and the int tags are read.
 */
export interface OpenedDump {
  readonly path: string
  /** T. */
  readonly numBlocks: number
  /** d. */
  readonly hiddenSize: number
  /** Stored dtype of the states (every shard the same). */
  readonly dtype: 'F32' | 'F16' | 'BF16'
  readonly rows: number
  readonly shards: readonly DumpShard[]
  /** Sequence id and position of every row; undefined when the dump has neither tensor (one sequence). */
  readonly tags: { readonly sequence: Int32Array; readonly position: Int32Array } | undefined
  /** index.json of a folder dump (model, revision, tokens, tokenizerHash, …); undefined for one file. */
  readonly index: Readonly<Record<string, unknown>> | undefined
}

function readInts(shard: string, file: SafetensorsFile, name: string, rows: number): Int32Array {
  const t = file.tensors.get(name)!
  if (t.shape.length !== 1 || t.shape[0] !== rows)
    throw bad(shard, `"${name}" has shape ${JSON.stringify(t.shape)}, expected [${rows}] (mismatched rows)`)
  const bytes = readTensorBytes(file, name)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Int32Array(rows)
  if (t.dtype === 'I32') for (let i = 0; i < rows; i++) out[i] = view.getInt32(i * 4, true)
  else if (t.dtype === 'I64') {
    for (let i = 0; i < rows; i++) {
      const v = view.getBigInt64(i * 8, true)
      if (v < -2147483648n || v > 2147483647n) throw bad(shard, `"${name}"[${i}] = ${v} does not fit int32`)
      out[i] = Number(v)
    }
  } else throw bad(shard, `"${name}" is ${t.dtype}; use I32 or I64`)
  return out
}

function header(path: string): SafetensorsFile {
  try {
    return readSafetensorsHeader(path)
  } catch (e) {
    throw new PruneError('INVALID_DUMP', `${P} ${path}: ${(e as Error).message}`, { cause: e })
  }
}

function openShard(
  path: string,
  expect: { T: number; d: number; dtype: string; rows: number } | undefined,
): { file: SafetensorsFile; T: number; d: number; dtype: string; rows: number } {
  const file = header(path)
  let T = -1
  for (const name of file.tensors.keys()) {
    const m = /^h\.(\d+)$/.exec(name)
    if (m) T = Math.max(T, Number(m[1]))
  }
  if (T < 1) throw bad(path, 'no tensors h.0 … h.T (T ≥ 1); see the dump layout in the README')
  if (expect !== undefined && T !== expect.T)
    throw bad(path, `has states up to h.${T}, the dump has h.0 … h.${expect.T}`)
  let rows = -1
  let d = -1
  let dtype = ''
  for (let i = 0; i <= T; i++) {
    const t = file.tensors.get(`h.${i}`)
    if (t === undefined) throw bad(path, `h.${i} is missing (found up to h.${T})`)
    if (t.shape.length !== 2)
      throw bad(path, `h.${i} has shape ${JSON.stringify(t.shape)}, expected [tokens, d]`)
    if (!FLOATS.has(t.dtype)) throw bad(path, `h.${i} is ${t.dtype}; use F32, F16 or BF16`)
    const [r, c] = t.shape as [number, number]
    if (i === 0) {
      rows = r
      d = c
      dtype = t.dtype
    } else if (r !== rows || c !== d)
      throw bad(path, `h.${i} is [${r}, ${c}] but h.0 is [${rows}, ${d}] (mismatched rows)`)
    else if (t.dtype !== dtype) throw bad(path, `h.${i} is ${t.dtype} but h.0 is ${dtype} (dtype mismatch)`)
  }
  if (expect !== undefined) {
    if (d !== expect.d) throw bad(path, `states have d = ${d}, the dump has d = ${expect.d}`)
    if (dtype !== expect.dtype)
      throw bad(path, `states are ${dtype}, the dump is ${expect.dtype} (dtype mismatch)`)
    if (rows !== expect.rows)
      throw bad(path, `holds ${rows} rows, index.json says ${expect.rows} (mismatched rows)`)
  }
  return { file, T, d, dtype, rows }
}

function tagsOf(
  path: string,
  file: SafetensorsFile,
  rows: number,
): { sequence: Int32Array; position: Int32Array } | undefined {
  const hasSeq = file.tensors.has('sequence')
  const hasPos = file.tensors.has('position')
  if (!hasSeq && !hasPos) return undefined
  return {
    sequence: hasSeq ? readInts(path, file, 'sequence', rows) : new Int32Array(rows),
    position: hasPos
      ? readInts(path, file, 'position', rows)
      : Int32Array.from({ length: rows }, (_, i) => i),
  }
}

function intList(where: string, v: unknown, n: number, key: string): Int32Array | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isInteger(x)))
    throw bad(where, `tokens.${key} must be an array of ${n} integers (one per row)`)
  return Int32Array.from(v as number[])
}

/**
 * Opens a hidden-state dump: a single `.safetensors` file in the documented layout, or a folder with
 * `index.json` and its shards (as `scripts/capture/capture.py` writes). Validates every header — states
 * h.0 … h.T all present, [rows, d] everywhere, one float dtype matching the index, shard row counts and
 * tags matching the index, every shard file inside the folder — and reads only headers and int tags.
 * Throws PruneError 'INVALID_DUMP' naming the file and the problem.
 */
export function openActivationDump(path: string): OpenedDump {
  if (!existsSync(path)) throw bad(path, 'does not exist')
  if (!statSync(path).isDirectory()) {
    const s = openShard(path, undefined)
    return {
      path,
      numBlocks: s.T,
      hiddenSize: s.d,
      dtype: s.dtype as OpenedDump['dtype'],
      rows: s.rows,
      shards: [{ path, file: s.file, rows: s.rows }],
      tags: tagsOf(path, s.file, s.rows),
      index: undefined,
    }
  }
  const indexPath = join(path, 'index.json')
  let index: Record<string, unknown>
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8')) as Record<string, unknown>
  } catch (e) {
    throw new PruneError(
      'INVALID_DUMP',
      `${P} ${indexPath}: cannot read the dump index: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
  if (index === null || typeof index !== 'object' || Array.isArray(index))
    throw bad(indexPath, 'is not a JSON object')
  if (index.format !== 'mi-prun-hidden-states' || index.version !== 1)
    throw bad(
      indexPath,
      `format/version must be "mi-prun-hidden-states"/1, got ${JSON.stringify(index.format)}/${JSON.stringify(index.version)}`,
    )
  const T = index.numBlocks
  const d = index.hiddenSize
  const dtype = index.dtype
  if (!Number.isInteger(T) || (T as number) < 1)
    throw bad(indexPath, `numBlocks must be an integer ≥ 1, got ${JSON.stringify(T)}`)
  if (!Number.isInteger(d) || (d as number) < 1)
    throw bad(indexPath, `hiddenSize must be a positive integer, got ${JSON.stringify(d)}`)
  if (typeof dtype !== 'string' || !FLOATS.has(dtype))
    throw bad(indexPath, `dtype must be F32, F16 or BF16, got ${JSON.stringify(dtype)}`)
  const list = index.shards
  if (!Array.isArray(list) || list.length === 0)
    throw bad(indexPath, 'shards must be a non-empty array of {file, rows}')
  const root = realpathSync(path)
  const shards: DumpShard[] = []
  const seq: Int32Array[] = []
  const pos: Int32Array[] = []
  let tagged = 0
  for (const [k, entry] of list.entries()) {
    const e = entry as { file?: unknown; rows?: unknown }
    if (typeof e?.file !== 'string' || !Number.isInteger(e.rows) || (e.rows as number) < 1)
      throw bad(indexPath, `shards[${k}] must be {file: string, rows: positive integer}`)
    const full = resolve(path, e.file)
    const rel = relative(root, existsSync(full) ? realpathSync(full) : full)
    if (isAbsolute(e.file) || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw bad(indexPath, `shards[${k}].file "${e.file}" points outside the dump folder`)
    if (!existsSync(full)) throw bad(indexPath, `shards[${k}].file "${e.file}" does not exist`)
    const s = openShard(full, { T: T as number, d: d as number, dtype, rows: e.rows as number })
    shards.push({ path: full, file: s.file, rows: s.rows })
    const t = tagsOf(full, s.file, s.rows)
    if (t !== undefined) tagged++
    seq.push(t?.sequence ?? new Int32Array(s.rows))
    pos.push(t?.position ?? Int32Array.from({ length: s.rows }, (_, i) => i))
  }
  if (tagged !== 0 && tagged !== shards.length)
    throw bad(indexPath, 'some shards have sequence/position tensors and some do not')
  const rows = shards.reduce((a, s) => a + s.rows, 0)
  const cat = (parts: Int32Array[]): Int32Array => {
    const out = new Int32Array(rows)
    let o = 0
    for (const p of parts) {
      out.set(p, o)
      o += p.length
    }
    return out
  }
  const tags = tagged > 0 ? { sequence: cat(seq), position: cat(pos) } : undefined
  const tokens = index.tokens as Record<string, unknown> | undefined
  if (tokens !== undefined) {
    if (tokens === null || typeof tokens !== 'object')
      throw bad(indexPath, 'tokens must be an object {ids, sequence, position}')
    intList(indexPath, tokens.ids, rows, 'ids')
    const is = intList(indexPath, tokens.sequence, rows, 'sequence')
    const ip = intList(indexPath, tokens.position, rows, 'position')
    for (const [name, a, b] of [
      ['sequence', is, tags?.sequence],
      ['position', ip, tags?.position],
    ] as const) {
      if (a === undefined || b === undefined) continue
      const at = a.findIndex((v, i) => v !== b[i])
      if (at >= 0) throw bad(indexPath, `tokens.${name}[${at}] = ${a[at]} but the shards say ${b[at]}`)
    }
  }
  return {
    path,
    numBlocks: T as number,
    hiddenSize: d as number,
    dtype: dtype as OpenedDump['dtype'],
    rows,
    shards,
    tags,
    index,
  }
}

/** Options of {@link loadActivationDumpFolder}: those of the activation store, reducer applied shard by shard. */
export type DumpLoadOptions = ActivationOptions

/**
 * Builds an {@link ActivationStore} from a hidden-state dump (one file or a folder of shards, see
 * {@link openActivationDump}) without holding the dump in memory: rows are streamed in chunks of 1024
 * (read across shard boundaries, converted from BF16/F16 to float32 chunk by chunk) into the all-token
 * statistics, and only the seeded sample rows (reduced by `options.reducer` chunk by chunk, so the
 * reducer must be row-wise, as the random projection is) and the last token of every sequence are kept.
 * Peak memory is the reduced store plus one chunk of T+1 states. The store equals
 * `createActivationStore` on the same states and tags (same sample, same chunking, same statistics).
 * A non-finite value in any state is refused as PruneError 'INVALID_DUMP' naming the file, tensor and row.
 */
export function loadActivationDumpFolder(path: string, options: DumpLoadOptions = {}): ActivationStore {
  const dump = openActivationDump(path)
  return storeFromDump(dump, options)
}

/** {@link loadActivationDumpFolder} on an already opened dump. */
export function storeFromDump(dump: OpenedDump, options: DumpLoadOptions = {}): ActivationStore {
  const T = dump.numBlocks
  const d = dump.hiddenSize
  const n = dump.rows
  const { maxTokens = 4096, seed = 0, excludeFirst = true, maxSpan = T, reducer } = options
  if (!Number.isInteger(maxTokens) || maxTokens < 2)
    throw new RangeError(`${P} maxTokens must be an integer ≥ 2, got ${maxTokens}`)
  if (!Number.isInteger(maxSpan) || maxSpan < 1 || maxSpan > T)
    throw new RangeError(`${P} maxSpan must be an integer in 1..${T}, got ${maxSpan}`)
  const tags = dump.tags ?? {
    sequence: new Int32Array(n),
    position: Int32Array.from({ length: n }, (_, i) => i),
  }
  const dense = new Map<number, number>()
  const seqIds = new Int32Array(n)
  const lastRow: number[] = []
  for (let r = 0; r < n; r++) {
    const s = tags.sequence[r]!
    let id = dense.get(s)
    if (id === undefined) {
      id = dense.size
      dense.set(s, id)
      lastRow.push(r)
    }
    seqIds[r] = id
    if (tags.position[r]! >= tags.position[lastRow[id]!]!) lastRow[id] = r
  }
  const eligible: number[] = []
  for (let r = 0; r < n; r++)
    if (!excludeFirst || dump.tags === undefined || tags.position[r]! !== 0) eligible.push(r)
  if (eligible.length < 2)
    throw new PruneError(
      'INSUFFICIENT_SAMPLES',
      `${P} only ${eligible.length} eligible rows: pass more tokens`,
    )
  const pick = createRng(seed).sample(eligible.length, Math.min(maxTokens, eligible.length))
  const rows = Int32Array.from(pick, (k) => eligible[k]!)
  // slot of each row in the sample / in lastToken (−1 when not kept); rows and lastRow are increasing
  const sampleAt = new Int32Array(n).fill(-1)
  rows.forEach((r, k) => (sampleAt[r] = k))
  const lastAt = new Int32Array(n).fill(-1)
  lastRow.forEach((r, k) => (lastAt[r] = k))
  const S = rows.length
  const lastData = Array.from({ length: T + 1 }, () => new Float32Array(lastRow.length * d))
  const sampled: Array<Float32Array | undefined> = new Array(T + 1).fill(undefined)
  let dims = d
  const acc = new SpanStatsAccumulator(T, maxSpan, dense.size)
  // shard of each global row range
  const starts = [0]
  for (const s of dump.shards) starts.push(starts[starts.length - 1]! + s.rows)
  const readRows = (i: number, r0: number, r1: number): Float32Array => {
    const out = new Float32Array((r1 - r0) * d)
    for (let k = 0; k < dump.shards.length; k++) {
      const a = Math.max(r0, starts[k]!)
      const b = Math.min(r1, starts[k + 1]!)
      if (a >= b) continue
      const sh = dump.shards[k]!
      const local = a - starts[k]!
      const part = readTensorRangeF32(sh.file, `h.${i}`, local * d, (b - a) * d)
      for (let j = 0; j < part.length; j++) {
        if (!Number.isFinite(part[j]!))
          throw bad(sh.path, `h.${i} row ${local + Math.floor(j / d)} holds a non-finite value (NaN row)`)
      }
      out.set(part, (a - r0) * d)
    }
    return out
  }
  const CHUNK = 1024
  for (let r0 = 0; r0 < n; r0 += CHUNK) {
    const r1 = Math.min(n, r0 + CHUNK)
    acc.begin(seqIds.subarray(r0, r1))
    const inChunk: number[] = []
    for (let r = r0; r < r1; r++) if (sampleAt[r]! >= 0) inChunk.push(r)
    for (let i = 0; i <= T; i++) {
      const data = readRows(i, r0, r1)
      const h = matrix(r1 - r0, d, data)
      acc.add(i, h)
      for (let r = r0; r < r1; r++) {
        const k = lastAt[r]!
        if (k >= 0) lastData[i]!.set(data.subarray((r - r0) * d, (r - r0 + 1) * d), k * d)
      }
      if (inChunk.length === 0) continue
      let m: Matrix = matrix(inChunk.length, d, new Float32Array(inChunk.length * d))
      inChunk.forEach((r, j) => m.data.set(data.subarray((r - r0) * d, (r - r0 + 1) * d), j * d))
      if (reducer) m = reducer.reduce(m)
      if (sampled[i] === undefined) {
        dims = m.cols
        sampled[i] = new Float32Array(S * dims)
      } else if (m.cols !== dims)
        throw new PruneError(
          'INVALID_INPUT',
          `${P} reducer ${reducer?.name} changed width from ${dims} to ${m.cols}`,
        )
      sampled[i]!.set(m.data, sampleAt[inChunk[0]!]! * dims)
    }
  }
  return {
    kind: 'activation-store',
    numBlocks: T,
    hiddenSize: d,
    dims,
    samples: S,
    states: sampled.map((s) => matrix(S, dims, s!)),
    tags: {
      sequence: Int32Array.from(rows, (r) => tags.sequence[r]!),
      position: Int32Array.from(rows, (r) => tags.position[r]!),
    },
    lastToken: lastData.map((x) => matrix(lastRow.length, d, x)),
    stats: acc.finish(),
    settings: {
      kind: 'activation-store',
      source: `dump:${dump.path}`,
      tokensSeen: n,
      sequences: dense.size,
      maxTokens,
      seed,
      excludeFirst,
      maxSpan,
      reducer: reducer?.settings ?? null,
    },
  }
}
