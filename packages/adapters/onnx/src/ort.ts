// The few parts of onnxruntime-node we use, typed structurally so that any ORT module (the peer
// dependency, or the copy inside @huggingface/transformers) can be injected.
import { PruneError } from '@mi-prun/core'
import { PKG } from './proto.js'

export interface OrtTensorLike {
  readonly data: unknown
  readonly dims: readonly number[]
  readonly type: string
}
export interface OrtSessionLike {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(
    feeds: Record<string, OrtTensorLike>,
    fetches?: readonly string[],
  ): Promise<Record<string, OrtTensorLike>>
  release?(): Promise<void>
}
export interface OrtModuleLike {
  readonly InferenceSession: {
    create(model: Uint8Array | string, options?: Record<string, unknown>): Promise<OrtSessionLike>
  }
  readonly Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensorLike
  readonly listSupportedBackends?: () => readonly { readonly name: string; readonly bundled?: boolean }[]
}

/** The ORT module, or a thunk that imports it (e.g. `() => import('onnxruntime-node')`). */
export type OrtSource = object | (() => Promise<unknown>)

function asModule(m: unknown): OrtModuleLike | undefined {
  const cands = [m, (m as { default?: unknown } | null)?.default]
  for (const c of cands) {
    if (c !== null && typeof c === 'object' && 'InferenceSession' in c && 'Tensor' in c)
      return c as OrtModuleLike
  }
  return undefined
}

/** Resolves an injected module or thunk; without one, imports `onnxruntime-node` dynamically. */
export async function resolveOrt(source: OrtSource | undefined): Promise<OrtModuleLike> {
  let loaded: unknown
  try {
    if (source === undefined) loaded = await import('onnxruntime-node')
    else if (typeof source === 'function') loaded = await (source as () => Promise<unknown>)()
    else loaded = source
  } catch (cause) {
    throw new PruneError(
      'RUNTIME_UNAVAILABLE',
      `${PKG} onnxruntime-node could not be loaded (${(cause as Error).message}): install it (\`pnpm add onnxruntime-node\`, ` +
        'its CUDA download can be skipped with ONNXRUNTIME_NODE_INSTALL=skip) or pass { ort } explicitly',
      { cause },
    )
  }
  const mod = asModule(loaded)
  if (mod === undefined) {
    throw new PruneError(
      'RUNTIME_UNAVAILABLE',
      `${PKG} the injected ort module has no InferenceSession/Tensor: pass the onnxruntime-node module or () => import('onnxruntime-node')`,
    )
  }
  return mod
}

/**
 * Execution providers to try, best first. Explicit lists are used as given. By default CUDA is tried
 * first only when the ORT build reports it as available (its provider libraries are installed), and
 * the CPU provider is always the fallback.
 */
export function defaultProviders(ort: OrtModuleLike): string[] {
  try {
    const list = ort.listSupportedBackends?.() ?? []
    if (list.some((b) => b.name === 'cuda' && b.bundled !== false)) return ['cuda', 'cpu']
  } catch {
    // ignore: fall back to cpu
  }
  return ['cpu']
}

export interface SessionSpec {
  readonly providers: readonly string[]
  readonly intraOpNumThreads?: number
  /** Folder of the external-data files, for models created from bytes. */
  readonly externalDataDir?: string
  /** Further ORT session options (e.g. `enableCpuMemArena: false`), merged last. */
  readonly sessionOptions?: Readonly<Record<string, unknown>>
}

/**
 * Creates a session, trying the providers in order (each alone, then the next), and returns it with
 * the provider that worked. ORT failures (an opset or operator it cannot run, a missing provider)
 * become PruneError UNSUPPORTED_ARCHITECTURE / RUNTIME_UNAVAILABLE with ORT's message.
 */
export async function createSession(
  ort: OrtModuleLike,
  model: Uint8Array | string,
  spec: SessionSpec,
  where: string,
): Promise<{ session: OrtSessionLike; provider: string }> {
  let last: unknown
  for (const p of spec.providers) {
    const options: Record<string, unknown> = { executionProviders: [p], graphOptimizationLevel: 'all' }
    if (spec.intraOpNumThreads !== undefined) options.intraOpNumThreads = spec.intraOpNumThreads
    if (spec.externalDataDir !== undefined)
      options.extra = { session: { model_external_initializers_file_folder_path: spec.externalDataDir } }
    if (spec.sessionOptions !== undefined) Object.assign(options, spec.sessionOptions)
    try {
      return { session: await ort.InferenceSession.create(model, options), provider: p }
    } catch (cause) {
      last = cause
    }
  }
  const msg = (last as Error | undefined)?.message ?? String(last)
  const providerProblem =
    /provider|libonnxruntime_providers|cuda/i.test(msg) && !/opset|Op \(|ShapeInference|domain/i.test(msg)
  throw new PruneError(
    providerProblem ? 'RUNTIME_UNAVAILABLE' : 'UNSUPPORTED_ARCHITECTURE',
    `${PKG} onnxruntime cannot load ${where} with providers [${spec.providers.join(', ')}]: ${msg}` +
      (providerProblem
        ? ' (install the provider libraries or use the cpu provider)'
        : ' (re-export with an opset and operators this onnxruntime supports)'),
    { cause: last },
  )
}
