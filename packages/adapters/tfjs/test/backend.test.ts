import { describe, expect, it } from 'vitest'
import * as tfc from '@tensorflow/tfjs-core'
import { isPruneError } from '@mi-prun/core'
import { type Importer, loadHfModel, selectBackend } from '@mi-prun/adapter-tfjs'
import { join } from 'node:path'

/** Importer that refuses the named specifiers and loads everything else for real. */
const refusing = (...refused: string[]): { importer: Importer; asked: string[] } => {
  const asked: string[] = []
  return {
    asked,
    importer: async (s) => {
      asked.push(s)
      if (refused.includes(s)) throw new Error(`Cannot find module '${s}'`)
      return import(s)
    },
  }
}

/** A stand-in for tfjs-node: the real tfjs-core with a backend named 'tensorflow' registered on top of cpu. */
async function fakeTfjsNode(): Promise<typeof tfc> {
  await import('@tensorflow/tfjs-backend-cpu')
  if (tfc.findBackendFactory('tensorflow') === null) {
    const cpuFactory = tfc.findBackendFactory('cpu')!
    tfc.registerBackend('tensorflow', cpuFactory, 0)
    for (const k of tfc.getKernelsForBackend('cpu')) tfc.registerKernel({ ...k, backendName: 'tensorflow' })
  }
  return {
    ...tfc,
    ready: async () => {
      await tfc.setBackend('tensorflow')
      await tfc.ready()
    },
  } as typeof tfc
}

describe('backend selection', () => {
  it('auto: tfjs-node-gpu first when importable', async () => {
    const fake = await fakeTfjsNode()
    const asked: string[] = []
    const r = await selectBackend({
      importer: async (s) => {
        asked.push(s)
        if (s === '@tensorflow/tfjs-node-gpu') return fake
        throw new Error('no')
      },
    })
    expect(r.backend).toBe('tensorflow')
    expect(asked).toEqual(['@tensorflow/tfjs-node-gpu'])
    expect(r.attempts).toEqual([])
  })
  it('auto: tfjs-node when only it imports (also as a default export)', async () => {
    const fake = await fakeTfjsNode()
    const r = await selectBackend({
      importer: async (s) => {
        if (s === '@tensorflow/tfjs-node') return { default: fake }
        throw new Error(`missing ${s}`)
      },
    })
    expect(r.backend).toBe('tensorflow')
    expect(r.attempts.map((a) => a.candidate)).toEqual(['@tensorflow/tfjs-node-gpu'])
    expect(r.attempts[0]!.error).toBe('missing @tensorflow/tfjs-node-gpu')
  })
  it('auto: wasm when neither tfjs-node package imports (this machine)', async () => {
    const { importer, asked } = refusing('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node')
    const r = await selectBackend({ importer })
    expect(r.backend).toBe('wasm')
    expect(r.attempts.map((a) => a.candidate)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'])
    expect(asked).toEqual([
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-wasm',
    ])
  })
  it('auto: cpu as the last resort when wasm fails too', async () => {
    const { importer } = refusing(
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-backend-wasm',
    )
    const r = await selectBackend({ importer })
    expect(r.backend).toBe('cpu')
    expect(r.attempts.map((a) => a.candidate)).toEqual([
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      'wasm',
    ])
  })
  it('nothing loads: RUNTIME_UNAVAILABLE listing every attempt', async () => {
    const { importer } = refusing(
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-core',
    )
    const e = await selectBackend({ importer }).catch((x: unknown) => x)
    expect(isPruneError(e, 'RUNTIME_UNAVAILABLE')).toBe(true)
    expect((e as Error).message).toMatch(/^\[@mi-prun\/adapter-tfjs\] no tfjs backend for "auto"/)
    for (const c of ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']) expect((e as Error).message).toContain(c)
  })
  it('an explicit backend never falls back to another kind', async () => {
    const { importer } = refusing('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node')
    const e = await selectBackend({ backend: 'tensorflow', importer }).catch((x: unknown) => x)
    expect(isPruneError(e, 'RUNTIME_UNAVAILABLE')).toBe(true)
    expect((e as Error).message).toMatch(/install @tensorflow\/tfjs-node/)
    const w = refusing('@tensorflow/tfjs-backend-wasm')
    await expect(selectBackend({ backend: 'wasm', importer: w.importer })).rejects.toThrow(/"wasm"/)
    expect((await selectBackend({ backend: 'cpu' })).backend).toBe('cpu')
    await expect(selectBackend({ backend: 'gpu' as 'cpu' })).rejects.toThrow(RangeError)
  })
  it('loadHfModel reports the chosen backend and the failed attempts; an injected tf is used as is', async () => {
    const dir = join(import.meta.dirname, 'fixtures', 'llama-gqa')
    const { importer } = refusing(
      '@tensorflow/tfjs-node-gpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-backend-wasm',
    )
    const m = await loadHfModel(dir, { importer })
    expect(m.info.backend).toBe('cpu')
    expect(m.backendAttempts.length).toBe(3)
    m.dispose()
    await tfc.setBackend('wasm')
    const n = await loadHfModel(dir, { tf: tfc })
    expect(n.info.backend).toBe('wasm')
    n.dispose()
  })
})
