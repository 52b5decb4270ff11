import { PruneError } from '@mi-prun/core'
import { type Checkpoint, openCheckpoint, specDTypeBytes } from '@mi-prun/safetensors'
import { type ArchConfig, blockTensorShapes, globalTensorShapes, parseArchitecture } from './arch.js'

const P = '[@mi-prun/adapter-tfjs]'

/** One tensor of the checkpoint as listed by `inspectHfModel`. */
export interface TensorSummary {
  readonly name: string
  readonly dtype: string
  readonly shape: readonly number[]
  readonly file: string
  readonly bytes: number
}

/** Config, architecture and tensor index of a model folder; no weight is loaded. */
export interface HfModelSummary {
  readonly dir: string
  readonly config: Readonly<Record<string, unknown>>
  readonly arch: ArchConfig
  readonly tensors: readonly TensorSummary[]
  /** Bytes on disk of each block's tensors. */
  readonly blockBytes: readonly number[]
  /** Bytes on disk of the embeddings, final norm and head. */
  readonly globalBytes: number
  readonly parameters: number
  /** Most common storage dtype among the tensors. */
  readonly dtype: string
}

/** Validated checkpoint + architecture (tensor names and shapes checked against the config). */
export function openModel(dir: string): { ckpt: Checkpoint; arch: ArchConfig; summary: HfModelSummary } {
  const ckpt = openCheckpoint(dir)
  let arch = parseArchitecture(ckpt.config)
  if (arch.family === 'gpt2' && !ckpt.tensors.has('transformer.wte.weight') && ckpt.tensors.has('wte.weight'))
    arch = { ...arch, prefix: '' }
  const check = (want: Map<string, number[]>): number => {
    let bytes = 0
    for (const [name, shape] of want) {
      const t = ckpt.tensors.get(name)
      if (t === undefined) {
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${P} ${dir}: tensor "${name}" is missing, but config.json (${arch.modelType}) needs it`,
        )
      }
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${P} ${dir}: tensor "${name}" has shape ${JSON.stringify(t.shape)}, config.json implies ${JSON.stringify(shape)}`,
        )
      }
      if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') {
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${P} ${dir}: tensor "${name}" is ${t.dtype}; only F32, F16 and BF16 weights are supported`,
        )
      }
      bytes += t.end - t.begin
    }
    return bytes
  }
  const globalBytes = check(globalTensorShapes(arch))
  const blockBytes: number[] = []
  for (let i = 0; i < arch.numBlocks; i++) blockBytes.push(check(blockTensorShapes(arch, i)))
  const tensors: TensorSummary[] = []
  const counts = new Map<string, number>()
  let parameters = 0
  for (const t of ckpt.tensors.values()) {
    const n = t.shape.reduce((x, y) => x * y, 1)
    parameters += n
    counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + n * (specDTypeBytes[t.dtype] ?? 0))
    tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, file: t.file, bytes: t.end - t.begin })
  }
  const dtype = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32'
  return {
    ckpt,
    arch,
    summary: { dir, config: ckpt.config, arch, tensors, blockBytes, globalBytes, parameters, dtype },
  }
}

/**
 * Reads a model folder's `config.json` and tensor index (headers only, no weights) and checks that
 * every tensor the architecture needs is present with the right shape. For the CLI's `inspect`.
 * @example
 * const s = inspectHfModel('models/llama-kjv') // s.arch.numBlocks, s.blockBytes
 */
export function inspectHfModel(dir: string): HfModelSummary {
  return openModel(dir).summary
}
