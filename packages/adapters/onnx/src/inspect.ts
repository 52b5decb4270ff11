// A no-runtime summary of an ONNX model folder, for the CLI's `inspect`.
import { join } from 'node:path'
import { existsSync, statSync } from 'node:fs'
import { isPruneError } from '@mi-prun/core'
import { discoverBlocks, type BlockStructure } from './graph.js'
import { listOnnxFiles, readModelFile } from './io.js'
import { defaultOpset } from './proto.js'
import { weightSummary } from './weights.js'
import { kvLayer } from './surgery.js'

/** Summary of one .onnx file. */
export interface OnnxFileSummary {
  readonly file: string
  readonly irVersion: number
  readonly opset: number | undefined
  readonly producer: string
  readonly nodes: number
  readonly initializers: number
  /** Weight elements, quantized weights counted as the matrices they encode (see weightSummary). */
  readonly parameters: number
  /** Parameters by storage type (`F32`, `F16`, `I8`, `U8`, `Q4`, ...). */
  readonly dtypes: Readonly<Record<string, number>>
  /** The storage type holding most parameters. */
  readonly dtype: string
  /** Bytes of weights stored in external data files (0 when inline). */
  readonly externalBytes: number
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  /** Number of KV-cache layers among the inputs (past_key_values.N.*). */
  readonly kvLayers: number
  /** What block discovery found, or why it failed. */
  readonly structure: BlockStructure | { readonly error: string; readonly code: string }
}

/** Summary of a model folder (or one .onnx file). */
export interface OnnxModelSummary {
  readonly kind: 'onnx-model-summary'
  readonly path: string
  readonly config: Readonly<Record<string, unknown>> | undefined
  readonly files: readonly OnnxFileSummary[]
}

/**
 * Reads every .onnx file of a transformers.js-style folder (`onnx/*.onnx`, or `*.onnx` at the root,
 * or the given file) and reports opset, size, I/O and the discovered block structure. Needs no ORT.
 * Block-count hints come from `config.json` (`num_hidden_layers`, `n_layer` or `num_layers`).
 */
export async function inspectOnnxModel(path: string): Promise<OnnxModelSummary> {
  let dir = path
  let paths: string[]
  if (existsSync(path) && statSync(path).isFile()) {
    paths = [path]
    dir = join(path, '..')
    if (!existsSync(join(dir, 'config.json')) && existsSync(join(dir, '..', 'config.json')))
      dir = join(dir, '..')
  } else {
    const { sub, files } = await listOnnxFiles(path)
    paths = files.map((f) => join(path, sub, f))
  }
  let config: Record<string, unknown> | undefined
  try {
    const { readFileSync } = await import('node:fs')
    const p = join(dir, 'config.json')
    if (existsSync(p)) config = JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>
  } catch {
    config = undefined
  }
  const nb = config?.num_hidden_layers ?? config?.n_layer ?? config?.num_layers
  const files: OnnxFileSummary[] = []
  for (const p of paths) {
    const lf = await readModelFile(p)
    const g = lf.model.graph!
    let structure: OnnxFileSummary['structure']
    try {
      structure = discoverBlocks(lf.model, { where: p, ...(typeof nb === 'number' ? { numBlocks: nb } : {}) })
    } catch (e) {
      if (!isPruneError(e)) throw e
      structure = { error: e.message, code: e.code }
    }
    const w = weightSummary(g)
    files.push({
      file: p,
      irVersion: Number(lf.model.irVersion),
      opset: defaultOpset(lf.model),
      producer: `${lf.model.producerName} ${lf.model.producerVersion}`.trim(),
      nodes: g.node.length,
      initializers: g.initializer.length,
      parameters: w.parameters,
      dtypes: w.dtypes,
      dtype: w.dtype,
      externalBytes: lf.externalBytes,
      inputs: g.input.map((v) => v.name),
      outputs: g.output.map((v) => v.name),
      kvLayers: new Set(g.input.map((v) => kvLayer(v.name)).filter((x) => x !== undefined)).size,
      structure,
    })
  }
  return { kind: 'onnx-model-summary', path, config, files }
}
