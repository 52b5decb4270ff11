import type * as tfc from '@tensorflow/tfjs-core'
import { PruneError, assertKnownOptions } from '@mi-prun/core'

const P = '[@mi-prun/adapter-tfjs]'

/** The tfjs API the adapter uses (tfjs-core, or tfjs-node, which re-exports it). */
export type TfModule = typeof tfc

/** Backend request: 'auto' tries tfjs-node-gpu, tfjs-node, wasm, then cpu. */
export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu'

/** Loads a module by specifier; injected so the fallback chain can be tested. Default: dynamic `import()`. */
export type Importer = (specifier: string) => Promise<unknown>

export interface BackendChoice {
  readonly tf: TfModule
  /** Name of the active backend as tfjs reports it ('tensorflow', 'wasm', 'cpu'). */
  readonly backend: string
  /** Every candidate tried before the chosen one, with why it failed. */
  readonly attempts: readonly { readonly candidate: string; readonly error: string }[]
}

export interface SelectBackendOptions {
  readonly backend?: BackendRequest
  readonly importer?: Importer
}

const defaultImporter: Importer = (s) => import(s)

type Candidate = {
  readonly name: string
  readonly load: (imp: Importer) => Promise<{ tf: TfModule; backend: string }>
}

function nodeCandidate(pkg: string): Candidate {
  return {
    name: pkg,
    load: async (imp) => {
      const mod = (await imp(pkg)) as TfModule & { default?: TfModule }
      const tf = typeof mod.ready === 'function' ? mod : mod.default
      if (tf === undefined || typeof tf.ready !== 'function')
        throw new Error(`${pkg} did not export the tfjs API`)
      await tf.ready()
      return { tf, backend: tf.getBackend() }
    },
  }
}

const HIJACKED_EVENTS = ['uncaughtException', 'unhandledRejection'] as const

/**
 * Runs `init` and then removes every `uncaughtException` / `unhandledRejection` listener it added to
 * `process`. The emscripten runtime inside @tensorflow/tfjs-backend-wasm installs both when it starts
 * under Node; they rethrow from inside the handler, so any later uncaught error in the *user's* code
 * printed a frame of minified emscripten source and exited 7 instead of Node's own message and exit 1.
 * Listeners that were there before (the application's) are left alone.
 */
export async function withoutNewProcessHandlers<T>(init: () => Promise<T>): Promise<T> {
  type Listener = (...args: unknown[]) => void
  const emitter = process as unknown as {
    listeners(ev: string): Listener[]
    removeListener(ev: string, l: Listener): unknown
  }
  const before = new Map(HIJACKED_EVENTS.map((ev) => [ev, new Set(emitter.listeners(ev))]))
  try {
    return await init()
  } finally {
    for (const ev of HIJACKED_EVENTS) {
      const had = before.get(ev)!
      for (const l of emitter.listeners(ev)) if (!had.has(l)) emitter.removeListener(ev, l)
    }
  }
}

function coreCandidate(name: 'wasm' | 'cpu'): Candidate {
  const pkg = name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs-backend-cpu'
  return {
    name,
    load: async (imp) => {
      const mod = (await imp('@tensorflow/tfjs-core')) as TfModule & { default?: TfModule }
      const tf = typeof mod.setBackend === 'function' ? mod : mod.default
      if (tf === undefined || typeof tf.setBackend !== 'function')
        throw new Error('@tensorflow/tfjs-core did not export the tfjs API')
      return withoutNewProcessHandlers(async () => {
        await imp(pkg)
        const ok = await tf.setBackend(name)
        if (!ok) throw new Error(`tf.setBackend('${name}') failed`)
        await tf.ready()
        return { tf, backend: tf.getBackend() }
      })
    },
  }
}

const chains: Readonly<Record<BackendRequest, readonly Candidate[]>> = Object.freeze({
  auto: [
    nodeCandidate('@tensorflow/tfjs-node-gpu'),
    nodeCandidate('@tensorflow/tfjs-node'),
    coreCandidate('wasm'),
    coreCandidate('cpu'),
  ],
  tensorflow: [nodeCandidate('@tensorflow/tfjs-node-gpu'), nodeCandidate('@tensorflow/tfjs-node')],
  wasm: [coreCandidate('wasm')],
  cpu: [coreCandidate('cpu')],
})

/**
 * Picks the tfjs backend: `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` when importable
 * (optional peers, imported dynamically), otherwise the wasm backend, `cpu` as the last resort.
 * `backend` restricts the chain to one kind. When nothing in the chain loads, throws PruneError
 * `RUNTIME_UNAVAILABLE` listing every attempt.
 * @example
 * const { tf, backend } = await selectBackend({ backend: 'auto' }) // backend === 'wasm' on machines without tfjs-node
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendChoice> {
  assertKnownOptions('@mi-prun/adapter-tfjs', options, [
    'backend',
    'importer',
  ] satisfies (keyof SelectBackendOptions)[])
  const { backend = 'auto', importer = defaultImporter } = options
  const chain = chains[backend]
  if (chain === undefined)
    throw new RangeError(
      `${P} backend must be one of ${Object.keys(chains).join(', ')}, got ${String(backend)}`,
    )
  const attempts: { candidate: string; error: string }[] = []
  for (const c of chain) {
    try {
      const r = await c.load(importer)
      return { ...r, attempts }
    } catch (e) {
      attempts.push({ candidate: c.name, error: e instanceof Error ? e.message.split('\n')[0]! : String(e) })
    }
  }
  const hint =
    backend === 'tensorflow'
      ? 'install @tensorflow/tfjs-node (needs libtensorflow) or use backend "wasm"'
      : 'install @tensorflow/tfjs-core with @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu'
  throw new PruneError(
    'RUNTIME_UNAVAILABLE',
    `${P} no tfjs backend for "${backend}" could be loaded (${attempts.map((a) => `${a.candidate}: ${a.error}`).join('; ')}): ${hint}`,
  )
}
