import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { inspectHfFolder, inspectOnnxModel, loadHfOnOrt, loadOnnxModel } from '@mi-prun/adapter-onnx'
import { inspectHfModel, loadHfModel } from '@mi-prun/adapter-tfjs'
import type { ModelAdapter } from '@mi-prun/core'
import { CliError, exitCodes } from './errors.js'

export type DetectedFormat = 'hf-safetensors' | 'onnx'

/** Where a model lives and in which format; `root` is the folder that holds tokenizer.json. */
export interface ModelLocation {
  readonly path: string
  readonly root: string
  readonly format: DetectedFormat
}

const HINT =
  'pass a Hugging Face folder (config.json + *.safetensors), an ONNX folder (onnx/*.onnx or *.onnx) or one .onnx file'

/** Decides the format of a model path without reading weights. */
export function locateModel(path: string): ModelLocation {
  const abs = resolve(path)
  if (!existsSync(abs)) throw new CliError(exitCodes.input, `[@mi-prun/cli] no model at ${abs}: ${HINT}`)
  const st = statSync(abs)
  if (st.isFile()) {
    if (!abs.endsWith('.onnx'))
      throw new CliError(exitCodes.input, `[@mi-prun/cli] ${abs} is a file but not an .onnx model: ${HINT}`)
    const dir = dirname(abs)
    const root = basename(dir) === 'onnx' ? dirname(dir) : dir
    return { path: abs, root, format: 'onnx' }
  }
  const entries = readdirSync(abs)
  const hasOnnx =
    entries.some((e) => e.endsWith('.onnx')) ||
    (entries.includes('onnx') && statSync(join(abs, 'onnx')).isDirectory())
  const hasSafetensors = entries.some(
    (e) => e.endsWith('.safetensors') || e === 'model.safetensors.index.json',
  )
  if (hasSafetensors) return { path: abs, root: abs, format: 'hf-safetensors' }
  if (hasOnnx) {
    // an ONNX subfolder (models/x/onnx) keeps its tokenizer and config.json in the parent folder
    const parent = dirname(abs)
    const root =
      !entries.includes('tokenizer.json') && existsSync(join(parent, 'tokenizer.json')) ? parent : abs
    return { path: abs, root, format: 'onnx' }
  }
  if (entries.includes('config.json')) {
    throw new CliError(
      exitCodes.input,
      `[@mi-prun/cli] ${abs} has a config.json but no *.safetensors weights: add the weights or ${HINT}`,
    )
  }
  throw new CliError(
    exitCodes.input,
    `[@mi-prun/cli] ${abs} holds no model (no *.safetensors, no .onnx): ${HINT}`,
  )
}

/** Loads a model as a ModelAdapter on the requested backend. */
export async function openModel(
  path: string,
  backend: string | undefined,
): Promise<{ adapter: ModelAdapter; location: ModelLocation }> {
  const location = locateModel(path)
  if (location.format === 'hf-safetensors') {
    // default: the graph built from config.json on ONNX Runtime; wasm/cpu/tensorflow/auto: TF.js
    const b = backend ?? 'ort'
    if (b === 'ort') return { adapter: await loadHfOnOrt(location.path, { providers: ['cpu'] }), location }
    if (b !== 'wasm' && b !== 'cpu' && b !== 'tensorflow' && b !== 'auto') {
      throw new CliError(
        exitCodes.usage,
        `[@mi-prun/cli] --backend ${b} is not available for Hugging Face folders: choose ort, wasm, cpu, tensorflow or auto`,
      )
    }
    return { adapter: await loadHfModel(location.path, { backend: b }), location }
  }
  const b = backend ?? 'cpu'
  if (b !== 'cpu' && b !== 'cuda')
    throw new CliError(
      exitCodes.usage,
      `[@mi-prun/cli] --backend ${b} is not available for ONNX models: choose cpu (or cuda where ORT has it)`,
    )
  return { adapter: await loadOnnxModel(location.path, { executionProviders: [b] }), location }
}

/** What `inspect` prints: architecture, blocks, parameters, dtype, format, without loading weights. */
export async function inspectModel(path: string): Promise<Record<string, unknown>> {
  const location = locateModel(path)
  if (location.format === 'hf-safetensors') {
    // The TF.js reading (four families) keeps its richer fields; every other family the ONNX Runtime engine
    // runs is summarised from the families' reading of config.json and the tensor headers.
    let s: ReturnType<typeof inspectHfModel>
    try {
      s = inspectHfModel(location.path)
    } catch (e) {
      if ((e as { code?: string }).code !== 'UNSUPPORTED_ARCHITECTURE') throw e
      const h = inspectHfFolder(location.path)
      return {
        path: location.path,
        format: location.format,
        architecture: h.architecture,
        modelType: h.modelType,
        family: h.family,
        blocks: h.blocks,
        hiddenSize: h.hiddenSize,
        vocabSize: h.vocabSize,
        maxPositions: h.maxPositions,
        parameters: h.parameters,
        dtype: h.dtype,
        dtypes: h.dtypes,
        blockBytes: h.blockBytes,
        globalBytes: h.globalBytes,
        tensors: h.tensors,
      }
    }
    return {
      path: location.path,
      format: location.format,
      architecture: s.arch.architecture,
      modelType: s.arch.modelType,
      blocks: s.arch.numBlocks,
      hiddenSize: s.arch.hiddenSize,
      heads: s.arch.numHeads,
      kvHeads: s.arch.numKvHeads,
      intermediateSize: s.arch.intermediateSize,
      vocabSize: s.arch.vocabSize,
      maxPositions: s.arch.maxPositions,
      tiedEmbeddings: s.arch.tied,
      parameters: s.parameters,
      dtype: s.dtype,
      blockBytes: s.blockBytes,
      globalBytes: s.globalBytes,
      tensors: s.tensors.length,
    }
  }
  const s = await inspectOnnxModel(location.path)
  const main = s.files.find((f) => !('error' in f.structure)) ?? s.files[0]
  if (!main)
    throw new CliError(exitCodes.input, `[@mi-prun/cli] ${location.path} holds no .onnx file: ${HINT}`)
  if ('error' in main.structure) {
    throw new CliError(
      exitCodes.input,
      `[@mi-prun/cli] ${main.file}: no transformer blocks found (${main.structure.error})`,
    )
  }
  let cfg: Record<string, unknown> = s.config ?? {}
  if (cfg['hidden_size'] === undefined && cfg['n_embd'] === undefined) {
    const parentConfig = join(location.root, 'config.json')
    if (existsSync(parentConfig))
      cfg = JSON.parse(readFileSync(parentConfig, 'utf8')) as Record<string, unknown>
  }
  const archs = cfg['architectures']
  return {
    path: location.path,
    format: location.format,
    architecture:
      Array.isArray(archs) && typeof archs[0] === 'string'
        ? archs[0]
        : String(cfg['model_type'] ?? 'unknown'),
    modelType: String(cfg['model_type'] ?? 'unknown'),
    blocks: main.structure.numBlocks,
    hiddenSize: Number(cfg['hidden_size'] ?? cfg['n_embd'] ?? Number.NaN),
    vocabSize: Number(cfg['vocab_size'] ?? Number.NaN),
    parameters: main.parameters,
    dtype: main.dtype,
    dtypes: main.dtypes,
    file: main.file,
    opset: main.opset,
    nodes: main.nodes,
    kvLayers: main.kvLayers,
    files: s.files.map((f) => f.file),
  }
}

/**
 * Wraps an adapter so every forward or nll call (one batch) is counted and reported; `passes`
 * counts calls, not whole calibration passes.
 */
export function countingAdapter(
  adapter: ModelAdapter,
  onCall?: (calls: number) => void,
): ModelAdapter & { readonly calls: number } {
  let calls = 0
  const tick = (): void => {
    calls++
    onCall?.(calls)
  }
  return {
    get calls() {
      return calls
    },
    info: adapter.info,
    forward: async (b, o) => {
      const r = await adapter.forward(b, o)
      tick()
      return r
    },
    nll: async (b, o) => {
      const r = await adapter.nll(b, o)
      tick()
      return r
    },
    exportPruned: (removed, out, prov) => adapter.exportPruned(removed, out, prov),
    dispose: () => adapter.dispose(),
  }
}
