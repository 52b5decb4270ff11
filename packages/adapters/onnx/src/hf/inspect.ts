// What `inspect` shows for a Hugging Face folder that the ONNX Runtime engine runs: the family's own reading
// of config.json (strict: a numerics key we do not implement is refused here too) and the tensor headers,
// without reading any weight data.

import { parseModel } from '@mi-prun/families'
import { openCheckpoint } from '@mi-prun/safetensors'
import { blockOwner } from './export.js'

export interface HfFolderSummary {
  readonly family: string
  readonly architecture: string
  readonly modelType: string
  readonly blocks: number
  readonly hiddenSize: number
  readonly vocabSize: number
  readonly maxPositions: number
  /** Weight elements over every tensor in the folder. */
  readonly parameters: number
  /** Parameters by stored dtype (`F32`, `BF16`, ...). */
  readonly dtypes: Readonly<Record<string, number>>
  /** The dtype holding most parameters. */
  readonly dtype: string
  /** Bytes of the largest block's tensors, and of the tensors outside every block. */
  readonly blockBytes: number
  readonly globalBytes: number
  readonly tensors: number
}

/** Summarises an HF folder from config.json and the safetensors headers (no weight data is read). */
export function inspectHfFolder(dir: string): HfFolderSummary {
  const ckpt = openCheckpoint(dir)
  const arch = parseModel(ckpt.config, new Set(ckpt.tensors.keys()))
  const T = arch.numBlocks
  const prefixes = Array.from({ length: T }, (_, i) => arch.blockPrefix(i))
  const perBlock = new Array<number>(T).fill(0)
  const dtypes: Record<string, number> = {}
  let parameters = 0
  let globalBytes = 0
  for (const [name, t] of ckpt.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1)
    parameters += n
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + n
    const owner = blockOwner(name, prefixes)
    if (owner >= 0) perBlock[owner]! += t.end - t.begin
    else globalBytes += t.end - t.begin
  }
  const dtype =
    Object.entries(dtypes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'none'
  return {
    family: arch.family,
    architecture: arch.architecture,
    modelType: arch.modelType,
    blocks: T,
    hiddenSize: arch.hiddenSize,
    vocabSize: arch.vocabSize,
    maxPositions: arch.maxPositions,
    parameters,
    dtypes,
    dtype,
    blockBytes: Math.max(0, ...perBlock),
    globalBytes,
    tensors: ckpt.tensors.size,
  }
}
