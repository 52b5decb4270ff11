// The ModelAdapter over onnxruntime-node: forward with hidden states and skip sets, NLL, export.
import { existsSync, statSync } from 'node:fs'
import { copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import {
  PruneError,
  matrix,
  normaliseSkip,
  selectRows,
  validateTokenBatch,
  type ExportResult,
  type ForwardOptions,
  type ForwardResult,
  type Matrix,
  type ModelAdapter,
  type ModelInfo,
  type NllResult,
  type TokenBatch,
} from '@mi-prun/core'
import { TensorProto_DataType, type ValueInfoProto } from 'onnx-buf'
import { discoverBlocks, type BlockStructure } from './graph.js'
import {
  listOnnxFiles,
  readModelFile,
  writeFolderAtomic,
  writeModelFile,
  type LoadedModelFile,
} from './io.js'
import {
  createSession,
  defaultProviders,
  resolveOrt,
  type OrtModuleLike,
  type OrtSessionLike,
  type OrtSource,
  type OrtTensorLike,
} from './ort.js'
import { PKG, encodeModel, toSafeInt } from './proto.js'
import { weightSummary } from './weights.js'
import { pruneGraph, withHiddenOutputs } from './surgery.js'

/** This package's name, for the shared boundary checks of `@mi-prun/core`. */
const PKG_NAME = '@mi-prun/adapter-onnx'

/** Name of the provenance file written next to the pruned model (same as the TF.js adapter's). */
export const PROVENANCE_FILE = 'mi_prun_provenance.json'

/** Files copied verbatim from the source folder (tokenizer and generation settings). */
const COPIED =
  /^(tokenizer.*|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|generation_config\.json|chat_template\.(json|jinja))$/

export interface OnnxLoadOptions {
  /** The onnxruntime module or a thunk importing it; default: `import('onnxruntime-node')`. */
  readonly ort?: OrtSource
  /**
   * Execution providers to try in order, e.g. `['cuda', 'cpu']`. Default: CUDA first when this ORT
   * build reports it available, then CPU.
   */
  readonly executionProviders?: readonly string[]
  readonly intraOpNumThreads?: number
  /**
   * The .onnx file (relative to the folder's `onnx/` or root) that runs forward passes. Default:
   * `model_no_past.onnx` when present (no KV-cache inputs), else `model.onnx`, else the first file.
   */
  readonly file?: string
  /** How many per-skip-set sessions to keep (least recently used dropped). Default 4. */
  readonly maxSessions?: number
  /**
   * Tensor name of h_0 when discovery finds several equally long residual chains (its error names the
   * candidates).
   */
  readonly residualInput?: string
}

export interface CreateOnnxAdapterOptions extends OnnxLoadOptions {
  /** Model folder (transformers.js layout) or a path to one .onnx file. */
  readonly model: string
}

/** The ONNX ModelAdapter: the core contract plus what discovery found. */
export interface OnnxModelAdapter extends ModelAdapter {
  /** Residual-stream boundaries found in the forward graph. */
  readonly structure: BlockStructure
  /** The .onnx file that runs forward passes. */
  readonly file: string
}

type Cfg = Record<string, unknown>

function layersKey(cfg: Cfg): string | undefined {
  for (const k of ['num_hidden_layers', 'n_layer', 'num_layers']) if (typeof cfg[k] === 'number') return k
  return undefined
}

async function readConfig(dir: string): Promise<Cfg | undefined> {
  const p = join(dir, 'config.json')
  if (!existsSync(p)) return undefined
  try {
    const c: unknown = JSON.parse(await readFile(p, 'utf8'))
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error('not a JSON object')
    return c as Cfg
  } catch (cause) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${PKG} ${p} is not valid JSON (${(cause as Error).message}): fix or remove it`,
      { cause },
    )
  }
}

/** Locates the model folder, the onnx sub-folder and the forward file for a folder or file path. */
async function locate(
  path: string,
  file: string | undefined,
): Promise<{ root: string; onnxDir: string; forwardFile: string; files: string[] }> {
  const abs = resolve(path)
  if (!existsSync(abs))
    throw new PruneError('IO_ERROR', `${PKG} ${abs} does not exist: pass a model folder or an .onnx file`)
  if (statSync(abs).isFile()) {
    const onnxDir = dirname(abs)
    const root = basename(onnxDir) === 'onnx' ? dirname(onnxDir) : onnxDir
    return { root, onnxDir, forwardFile: abs, files: [basename(abs)] }
  }
  const { sub, files } = await listOnnxFiles(abs)
  const onnxDir = join(abs, sub)
  const pick =
    file ??
    (files.includes('model_no_past.onnx')
      ? 'model_no_past.onnx'
      : files.includes('model.onnx')
        ? 'model.onnx'
        : files[0]!)
  if (!files.includes(pick))
    throw new PruneError(
      'IO_ERROR',
      `${PKG} ${join(onnxDir, pick)} does not exist; the folder has ${files.join(', ')}`,
    )
  return { root: resolve(abs), onnxDir, forwardFile: join(onnxDir, pick), files }
}

const ORT_TYPES: Record<number, string> = {
  [TensorProto_DataType.FLOAT]: 'float32',
  [TensorProto_DataType.FLOAT16]: 'float16',
  [TensorProto_DataType.INT64]: 'int64',
  [TensorProto_DataType.INT32]: 'int32',
  [TensorProto_DataType.BOOL]: 'bool',
}

function emptyOfType(type: string, n: number): unknown {
  switch (type) {
    case 'int64':
      return new BigInt64Array(n)
    case 'int32':
      return new Int32Array(n)
    case 'float16':
      return new Uint16Array(n)
    case 'bool':
      return new Uint8Array(n)
    default:
      return new Float32Array(n)
  }
}

interface InputSpec {
  readonly name: string
  readonly type: string
  /** Declared dims: a number, or a symbolic name / undefined. */
  readonly dims: readonly (number | string | undefined)[]
}

function inputSpecs(inputs: readonly ValueInfoProto[], initializers: ReadonlySet<string>): InputSpec[] {
  return inputs
    .filter((v) => !initializers.has(v.name))
    .map((v) => {
      const tt = v.type?.value.case === 'tensorType' ? v.type.value.value : undefined
      const type = ORT_TYPES[tt?.elemType ?? TensorProto_DataType.FLOAT] ?? 'float32'
      const dims = (tt?.shape?.dim ?? []).map((d) =>
        d.value.case === 'dimValue'
          ? toSafeInt(d.value.value, `dim of input '${v.name}'`)
          : d.value.case === 'dimParam'
            ? d.value.value
            : undefined,
      )
      return { name: v.name, type, dims }
    })
}

interface CachedSession {
  readonly session: OrtSessionLike
  /** Tensor names of h_0..h_T in this session (skipped blocks repeat their input), when hidden outputs were added. */
  readonly hidden: readonly string[] | undefined
  readonly inputs: readonly InputSpec[]
}

/**
 * Loads a decoder-only LLM stored as ONNX (a transformers.js / HF optimum folder with
 * `config.json`, tokenizer files and `onnx/model.onnx`, or a bare .onnx file) and returns a
 * ModelAdapter running it with onnxruntime.
 *
 * Hidden states h_0..h_T are the residual-stream tensors between blocks, found by
 * {@link discoverBlocks} and added as extra graph outputs (no node added, values unchanged).
 * `skip` runs a surgically pruned copy of the graph (built once per skip set and cached), so a
 * skipped block is bypassed exactly as in the exported model. `exportPruned` writes a
 * transformers.js-style folder that unmodified clients load.
 * @example
 * const adapter = await loadOnnxModel('models/llama-kjv', { ort: () => import('onnxruntime-node') })
 * const { hiddenStates } = await adapter.forward({ ids, batch: 1, seqLen: ids.length }, { hiddenStates: true })
 */
export async function loadOnnxModel(path: string, options: OnnxLoadOptions = {}): Promise<OnnxModelAdapter> {
  const { root, onnxDir, forwardFile, files } = await locate(path, options.file)
  const cfg = await readConfig(root)
  const lk = cfg === undefined ? undefined : layersKey(cfg)
  const cfgBlocks = lk === undefined ? undefined : (cfg![lk] as number)
  const loaded = await readModelFile(forwardFile)
  const structure = discoverBlocks(loaded.model, {
    where: forwardFile,
    ...(cfgBlocks !== undefined ? { numBlocks: cfgBlocks } : {}),
    ...(options.residualInput !== undefined ? { residualInput: options.residualInput } : {}),
  })
  const ort = await resolveOrt(options.ort)
  const providers =
    options.executionProviders !== undefined ? [...options.executionProviders] : defaultProviders(ort)
  const spec = {
    providers,
    ...(options.intraOpNumThreads !== undefined ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    ...(loaded.externalBytes > 0 ? { externalDataDir: loaded.dir } : {}),
  }
  // The plain session validates that ORT can run the graph at all (opset, operators) up front.
  const plain = await createSession(ort, forwardFile, spec, forwardFile)
  const backend = plain.provider
  const g = loaded.model.graph!
  const initNames = new Set(g.initializer.map((t) => t.name))
  const T = structure.numBlocks
  const embInit = g.initializer.find(
    (t) => t.dims.length === 2 && g.node.some((n) => n.name === structure.embedding && n.input[0] === t.name),
  )
  const num = (k: string): number | undefined =>
    cfg !== undefined && typeof cfg[k] === 'number' ? (cfg[k] as number) : undefined
  const vocab =
    num('vocab_size') ?? (embInit !== undefined ? toSafeInt(embInit.dims[0]!, 'embedding rows') : 0)
  const hiddenSize =
    num('hidden_size') ??
    num('n_embd') ??
    (embInit !== undefined ? toSafeInt(embInit.dims[1]!, 'embedding cols') : 0)
  const weights = weightSummary(g)
  const info: ModelInfo = {
    architecture:
      Array.isArray(cfg?.architectures) && typeof cfg.architectures[0] === 'string'
        ? cfg.architectures[0]
        : 'unknown',
    modelType: typeof cfg?.model_type === 'string' ? cfg.model_type : 'unknown',
    format: 'onnx',
    numBlocks: T,
    hiddenSize,
    vocabSize: vocab,
    maxPositions: num('max_position_embeddings') ?? num('n_positions') ?? 0,
    parameters: weights.parameters,
    dtype: weights.dtype,
    backend,
  }
  const maxSessions = options.maxSessions ?? 4
  const cache = new Map<string, Promise<CachedSession>>()
  const plainEntry: CachedSession = {
    session: plain.session,
    hidden: undefined,
    inputs: inputSpecs(g.input, initNames),
  }
  cache.set('|p', Promise.resolve(plainEntry))

  const sessionFor = (skip: readonly number[], hidden: boolean): Promise<CachedSession> => {
    const key = `${skip.join(',')}|${hidden ? 'h' : 'p'}`
    const hit = cache.get(key)
    if (hit !== undefined) {
      cache.delete(key)
      cache.set(key, hit) // most recently used last
      return hit
    }
    const made = (async (): Promise<CachedSession> => {
      let model = loaded.model
      let names = structure.hiddenStates
      if (skip.length > 0) {
        const pr = pruneGraph(model, structure, skip, {
          renumber: false,
          where: forwardFile,
          allowAll: true,
          keepUnusedKv: true,
        })
        model = pr.model
        names = pr.hiddenStates
      }
      if (hidden) model = withHiddenOutputs(model, names).model
      const { session } = await createSession(
        ort,
        encodeModel(model),
        { ...spec, providers: [backend] },
        `${forwardFile} (skip ${skip.join(',') || 'none'})`,
      )
      return {
        session,
        hidden: hidden ? names : undefined,
        inputs: inputSpecs(model.graph!.input, initNames),
      }
    })()
    cache.set(key, made)
    made.catch(() => cache.delete(key))
    while (cache.size > maxSessions + 1) {
      const oldest = [...cache.keys()].find((k) => k !== '|p')!
      const evicted = cache.get(oldest)!
      cache.delete(oldest)
      void evicted.then((s) => s.session.release?.()).catch(() => undefined)
    }
    return made
  }

  const feedsFor = (entry: CachedSession, b: TokenBatch): Record<string, OrtTensorLike> => {
    const { batch: B, seqLen: S } = b
    const feeds: Record<string, OrtTensorLike> = {}
    for (const inp of entry.inputs) {
      const n = inp.name
      if (n === 'input_ids') {
        const data =
          inp.type === 'int32' ? Int32Array.from(b.ids) : BigInt64Array.from(b.ids, (x) => BigInt(x))
        feeds[n] = new ort.Tensor(inp.type, data, [B, S])
      } else if (n === 'attention_mask') {
        const data = inp.type === 'int32' ? new Int32Array(B * S).fill(1) : new BigInt64Array(B * S).fill(1n)
        feeds[n] = new ort.Tensor(inp.type, data, [B, S])
      } else if (n === 'position_ids') {
        const data = inp.type === 'int32' ? new Int32Array(B * S) : new BigInt64Array(B * S)
        for (let r = 0; r < B; r++)
          for (let t = 0; t < S; t++) data[r * S + t] = (inp.type === 'int32' ? t : BigInt(t)) as never
        feeds[n] = new ort.Tensor(inp.type, data, [B, S])
      } else if (n === 'token_type_ids') {
        feeds[n] = new ort.Tensor(inp.type, emptyOfType(inp.type, B * S), [B, S])
      } else if (/^past/.test(n)) {
        // An empty KV cache: batch B, every other symbolic dim (the past length) 0.
        const dims = inp.dims.map((d, k) => (typeof d === 'number' ? d : k === 0 ? B : 0))
        if (inp.dims.length === 0)
          throw new PruneError(
            'UNSUPPORTED_ARCHITECTURE',
            `${PKG} KV-cache input '${n}' has no declared shape`,
          )
        feeds[n] = new ort.Tensor(inp.type, emptyOfType(inp.type, 0), dims)
      } else {
        throw new PruneError(
          'UNSUPPORTED_ARCHITECTURE',
          `${PKG} ${forwardFile} has an input '${n}' mi-prun does not know how to fill (known: input_ids, attention_mask, position_ids, token_type_ids, past_*)`,
        )
      }
    }
    return feeds
  }

  const logitsName = plain.session.outputNames.includes('logits') ? 'logits' : plain.session.outputNames[0]!

  const asMatrix = (t: OrtTensorLike, what: string): Matrix => {
    const cols = t.dims[t.dims.length - 1]!
    if (t.data instanceof Float32Array) return matrix(t.data.length / cols, cols, t.data)
    // fp16 graphs (onnxruntime's float16 converter, keep_io_types false, or fp16 hidden states):
    // upcast exactly to float32 for scoring; the graph itself stays fp16.
    const f32 = t.type === 'float16' ? float16ToFloat32(t.data) : undefined
    if (f32 === undefined) {
      throw new PruneError(
        'UNSUPPORTED_ARCHITECTURE',
        `${PKG} ${what} is ${t.type}; mi-prun reads float32 and float16 tensors`,
      )
    }
    return matrix(f32.length / cols, cols, f32)
  }

  const adapter: OnnxModelAdapter = {
    info,
    structure,
    file: forwardFile,
    async forward(b: TokenBatch, o: ForwardOptions = {}): Promise<ForwardResult> {
      validateTokenBatch(PKG_NAME, b, { vocabSize: vocab })
      const skip = normaliseSkip(PKG_NAME, o.skip, T)
      const wantHidden = o.hiddenStates === true || o.onHiddenState !== undefined
      const wantLogits = o.logits ?? true
      const rowsTotal = b.batch * b.seqLen
      if (o.captureRows !== undefined) {
        for (const r of o.captureRows) {
          if (!Number.isInteger(r) || r < 0 || r >= rowsTotal)
            throw new PruneError(
              'INVALID_INPUT',
              `${PKG} captureRows has row ${r}, outside 0..${rowsTotal - 1}`,
            )
        }
      }
      const entry = await sessionFor(skip, wantHidden)
      const fetches: string[] = []
      if (wantLogits) fetches.push(logitsName)
      if (wantHidden) for (const h of new Set(entry.hidden)) if (!fetches.includes(h)) fetches.push(h)
      if (fetches.length === 0) fetches.push(logitsName)
      let out: Record<string, OrtTensorLike>
      try {
        out = await entry.session.run(feedsFor(entry, b), fetches)
      } catch (cause) {
        throw new PruneError(
          'UNSUPPORTED_ARCHITECTURE',
          `${PKG} onnxruntime failed running ${forwardFile}: ${(cause as Error).message}`,
          { cause },
        )
      }
      const result: { hiddenStates?: readonly Matrix[]; logits?: Matrix } = {}
      if (wantHidden) {
        const states: Matrix[] = []
        entry.hidden!.forEach((name, i) => {
          const m = asMatrix(out[name]!, `hidden state h_${i} ('${name}')`)
          o.onHiddenState?.(i, m)
          if (o.hiddenStates === true)
            states.push(o.captureRows !== undefined ? selectRows(m, o.captureRows) : m)
        })
        if (o.hiddenStates === true) result.hiddenStates = states
      }
      if (o.onProgress !== undefined) for (let i = 1; i <= T; i++) o.onProgress(i, T)
      if (wantLogits) result.logits = asMatrix(out[logitsName]!, `output '${logitsName}'`)
      return result
    },
    async nll(
      b: TokenBatch,
      o: { readonly skip?: ReadonlySet<number> | readonly number[] } = {},
    ): Promise<NllResult> {
      const { logits } = await adapter.forward(b, {
        logits: true,
        ...(o.skip !== undefined ? { skip: o.skip } : {}),
      })
      return nllFromLogits(logits!, b)
    },
    async exportPruned(removed, outDir, provenance = {}): Promise<ExportResult> {
      const gone = [...new Set(removed)].sort((a, c) => a - c)
      if (gone.length !== removed.length)
        throw new PruneError(
          'INVALID_INPUT',
          `${PKG} removed blocks must be distinct, got ${JSON.stringify(removed)}`,
        )
      normaliseSkip(PKG_NAME, gone, T)
      if (gone.length >= T)
        throw new PruneError('INFEASIBLE_BUDGET', `${PKG} cannot remove all ${T} blocks: keep at least one`)
      const out = resolve(outDir)
      const kept = Array.from({ length: T }, (_, i) => i).filter((i) => !gone.includes(i))
      const written: { file: string; nodesRemoved: number; initializersRemoved: number }[] = []
      await writeFolderAtomic(out, async (tmp) => {
        const sub = onnxDir === root ? '.' : basename(onnxDir)
        await mkdir(join(tmp, sub), { recursive: true })
        for (const f of files) {
          const src = f === basename(forwardFile) ? loaded : await readModelFile(join(onnxDir, f))
          const st = src === loaded ? structure : discoverBlocks(src.model, { where: src.path, numBlocks: T })
          const pr = pruneGraph(src.model, st, gone, { renumber: true, where: src.path })
          const dest = join(tmp, sub, f)
          await writeModelFile(pr.model, src.dir, dest, src.path)
          // Refuse to publish a graph onnxruntime cannot load.
          const check = await createSession(ort, dest, { providers: ['cpu'] }, dest)
          await check.session.release?.()
          written.push({
            file: join(sub, f),
            nodesRemoved: pr.removedNodes,
            initializersRemoved: pr.removedInitializers,
          })
        }
        if (cfg !== undefined) {
          const c: Cfg = { ...cfg }
          for (const k of ['num_hidden_layers', 'n_layer', 'num_layers'])
            if (typeof c[k] === 'number') c[k] = kept.length
          for (const [k, v] of Object.entries(c))
            if (Array.isArray(v) && v.length === T && /layer/i.test(k)) c[k] = kept.map((i) => v[i])
          await writeFile(join(tmp, 'config.json'), JSON.stringify(c, null, 2) + '\n')
        }
        for (const f of await readdir(root)) {
          if (COPIED.test(f) && statSync(join(root, f)).isFile()) await copyFile(join(root, f), join(tmp, f))
        }
        const record = {
          tool: '@mi-prun/adapter-onnx',
          source: {
            path: root,
            file: forwardFile,
            modelType: info.modelType,
            architecture: info.architecture,
            numBlocks: T,
            discovery: structure.method,
          },
          removedBlocks: gone,
          keptBlocks: kept,
          numBlocks: kept.length,
          files: written,
          ...provenance,
        }
        await writeFile(join(tmp, PROVENANCE_FILE), JSON.stringify(record, null, 2) + '\n')
      })
      return { path: out, numBlocks: kept.length, removed: gone }
    },
    async dispose(): Promise<void> {
      const all = [...cache.values()]
      cache.clear()
      for (const p of all) {
        try {
          await (await p).session.release?.()
        } catch {
          // already released or failed to build
        }
      }
    },
  }
  return adapter
}

/** {@link loadOnnxModel} with the model path inside the options object. */
export function createOnnxAdapter(options: CreateOnnxAdapterOptions): Promise<OnnxModelAdapter> {
  const { model, ...rest } = options
  return loadOnnxModel(model, rest)
}

/**
 * Next-token NLL (nats) summed over the seqLen−1 predicted positions of every sequence, with a
 * float64 log-sum-exp per row.
 */
export function nllFromLogits(logits: Matrix, b: TokenBatch): NllResult {
  const V = logits.cols
  const d = logits.data
  let sum = 0
  let tokens = 0
  for (let r = 0; r < b.batch; r++) {
    for (let t = 0; t + 1 < b.seqLen; t++) {
      const row = (r * b.seqLen + t) * V
      let mx = -Infinity
      for (let v = 0; v < V; v++) mx = Math.max(mx, d[row + v]!)
      let s = 0
      for (let v = 0; v < V; v++) s += Math.exp(d[row + v]! - mx)
      const target = b.ids[r * b.seqLen + t + 1]!
      sum += mx + Math.log(s) - d[row + target]!
      tokens++
    }
  }
  return { sumNll: sum, tokens }
}

/** Exact float16 -> float32 conversion of ORT's float16 data (raw bits in a Uint16Array, or a Float16Array). */
export function float16ToFloat32(data: unknown): Float32Array | undefined {
  if (data instanceof Uint16Array) {
    const out = new Float32Array(data.length)
    for (let i = 0; i < data.length; i++) {
      const h = data[i]!
      const sign = h & 0x8000 ? -1 : 1
      const e = (h >> 10) & 0x1f
      const m = h & 0x3ff
      out[i] =
        e === 0
          ? sign * m * 2 ** -24
          : e === 31
            ? m === 0
              ? sign * Infinity
              : NaN
            : sign * (1024 + m) * 2 ** (e - 25)
    }
    return out
  }
  const F16 = (globalThis as { Float16Array?: new (...a: never[]) => ArrayLike<number> }).Float16Array
  if (F16 !== undefined && data instanceof F16) return Float32Array.from(data as ArrayLike<number>)
  return undefined
}
