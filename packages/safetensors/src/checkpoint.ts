import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { PruneError, assertKnownOptions } from '@mi-prun/core'
import {
  type ReadHeaderOptions,
  type SafetensorsFile,
  type TensorEntry,
  readSafetensorsHeader,
  readTensorBytes,
  readTensorF32,
  readTensorF32Into,
  readTensorRangeF32,
} from './file.js'

const P = '[@mi-prun/safetensors]'

/** A Hugging Face model folder: config plus a tensor index over one or more safetensors shards. */
export interface Checkpoint {
  readonly dir: string
  /** Parsed `config.json`. */
  readonly config: Readonly<Record<string, unknown>>
  /** Shard file names relative to `dir`, in index order. */
  readonly shards: readonly string[]
  /** True when the folder has `model.safetensors.index.json`. */
  readonly sharded: boolean
  /** Every tensor with the shard that holds it. */
  readonly tensors: ReadonlyMap<string, TensorEntry & { readonly file: string }>
  /** Reads one tensor as float32 (byte-range read; F16/BF16 converted). */
  readF32(name: string): Float32Array
  /** Reads one tensor as float32 into a caller's buffer (reused across tensors); returns the filled prefix. */
  readF32Into(name: string, out: Float32Array): Float32Array
  /** Reads one tensor's raw bytes (byte-range read). */
  readBytes(name: string): Uint8Array
  /** Reads elements [start, start + count) of one tensor (flattened) as float32, touching only those bytes. */
  readF32Range(name: string, start: number, count: number, into?: Float32Array): Float32Array
}

function fail(
  code: 'INVALID_CHECKPOINT' | 'INVALID_CONFIG' | 'IO_ERROR',
  msg: string,
  cause?: unknown,
): PruneError {
  return new PruneError(code, `${P} ${msg}`, cause === undefined ? undefined : { cause })
}

/** Reads and parses `config.json` of a model folder (PruneError `INVALID_CONFIG` when missing or malformed). */
export function readConfig(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json')
  if (!existsSync(path))
    throw fail('INVALID_CONFIG', `${path} is missing: a Hugging Face model folder needs config.json`)
  let cfg: unknown
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw fail('INVALID_CONFIG', `${path} is not valid JSON (${(e as Error).message})`, e)
  }
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg))
    throw fail('INVALID_CONFIG', `${path} must hold a JSON object`)
  return cfg as Record<string, unknown>
}

/** Resolves a shard name from an index, refusing anything that leaves the model folder. */
function shardPath(dir: string, name: unknown, indexPath: string): string {
  if (typeof name !== 'string' || name.length === 0)
    throw fail(
      'INVALID_CHECKPOINT',
      `${indexPath}: weight_map values must be file names, got ${JSON.stringify(name)}`,
    )
  if (isAbsolute(name) || name.includes('\\') || name.split('/').includes('..') || name.includes('\0')) {
    throw fail(
      'INVALID_CHECKPOINT',
      `${indexPath}: shard "${name}" points outside the model folder; shard names must be plain file names inside it`,
    )
  }
  const root = realpathSync(dir)
  const full = resolve(root, name)
  const rel = relative(root, full)
  if (rel.startsWith('..') || isAbsolute(rel))
    throw fail('INVALID_CHECKPOINT', `${indexPath}: shard "${name}" points outside the model folder`)
  if (!existsSync(full))
    throw fail('INVALID_CHECKPOINT', `${indexPath}: shard "${name}" is missing from ${dir}`)
  const real = realpathSync(full)
  const relReal = relative(root, real)
  if (relReal.startsWith('..' + sep) || relReal === '..' || isAbsolute(relReal)) {
    throw fail(
      'INVALID_CHECKPOINT',
      `${indexPath}: shard "${name}" is a link to a file outside the model folder`,
    )
  }
  return full
}

/**
 * Opens a Hugging Face checkpoint folder: `config.json` plus either `model.safetensors` or
 * `model.safetensors.index.json` with its shards. Reads headers only; tensor data is read later by
 * byte range. Refuses pickled checkpoints (`*.bin`, `*.pt`, `*.pth`, `*.ckpt`) without opening them,
 * and index entries that escape the folder or name missing shards, with a PruneError naming the file.
 * @example
 * const ckpt = openCheckpoint('models/llama-kjv')
 * const emb = ckpt.readF32('model.embed_tokens.weight')
 */
export function openCheckpoint(dir: string, options: ReadHeaderOptions = {}): Checkpoint {
  assertKnownOptions('@mi-prun/safetensors', options, [
    'maxHeaderBytes',
  ] satisfies (keyof ReadHeaderOptions)[])
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw fail('IO_ERROR', `${dir} is not a folder`)
  const config = readConfig(dir)
  const indexPath = join(dir, 'model.safetensors.index.json')
  const single = join(dir, 'model.safetensors')
  let shards: string[]
  let weightMap: Record<string, string> | undefined
  let sharded = false
  if (existsSync(indexPath)) {
    let idx: unknown
    try {
      idx = JSON.parse(readFileSync(indexPath, 'utf8'))
    } catch (e) {
      throw fail('INVALID_CHECKPOINT', `${indexPath} is not valid JSON (${(e as Error).message})`, e)
    }
    const wm = (idx as { weight_map?: unknown } | null)?.weight_map
    if (wm === null || typeof wm !== 'object' || Array.isArray(wm))
      throw fail('INVALID_CHECKPOINT', `${indexPath} has no weight_map object`)
    weightMap = wm as Record<string, string>
    shards = [...new Set(Object.values(weightMap))]
    for (const s of shards) shardPath(dir, s, indexPath)
    sharded = true
  } else if (existsSync(single)) {
    shards = ['model.safetensors']
  } else {
    const pickles = readdirSync(dir).filter((f) => /\.(bin|pt|pth|ckpt)$/i.test(f))
    if (pickles.length > 0) {
      throw fail(
        'INVALID_CHECKPOINT',
        `${dir} holds only pickled weights (${pickles.join(', ')}), which mi-prun never unpickles: convert them once with Python, e.g. ` +
          `\`AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)\` or safetensors.torch.save_file`,
      )
    }
    throw fail('INVALID_CHECKPOINT', `${dir} has neither model.safetensors nor model.safetensors.index.json`)
  }
  const files = new Map<string, SafetensorsFile>()
  const tensors = new Map<string, TensorEntry & { file: string }>()
  for (const s of shards) {
    const f = readSafetensorsHeader(join(dir, s), options)
    files.set(s, f)
    for (const [name, t] of f.tensors) {
      if (weightMap !== undefined && weightMap[name] !== s) continue
      if (tensors.has(name))
        throw fail(
          'INVALID_CHECKPOINT',
          `${join(dir, s)}: tensor "${name}" also appears in ${tensors.get(name)!.file}`,
        )
      tensors.set(name, { ...t, file: s })
    }
  }
  if (weightMap !== undefined) {
    for (const [name, s] of Object.entries(weightMap)) {
      if (!tensors.has(name))
        throw fail(
          'INVALID_CHECKPOINT',
          `${indexPath}: tensor "${name}" is mapped to ${s} but that shard does not contain it`,
        )
    }
  }
  const lookup = (name: string): SafetensorsFile => {
    const t = tensors.get(name)
    if (t === undefined) throw fail('INVALID_CHECKPOINT', `${dir}: the checkpoint has no tensor "${name}"`)
    return files.get(t.file)!
  }
  return {
    dir,
    config,
    shards,
    sharded,
    tensors,
    readF32: (name) => readTensorF32(lookup(name), name),
    readF32Into: (name, out) => readTensorF32Into(lookup(name), name, out),
    readBytes: (name) => readTensorBytes(lookup(name), name),
    readF32Range: (name, start, count, into) => readTensorRangeF32(lookup(name), name, start, count, into),
  }
}
