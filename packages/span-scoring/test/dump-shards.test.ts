import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { PruneError, matrix, type Matrix } from '@mi-prun/core'
import { encodeFloats, readSafetensorsHeader, readTensorF32, writeSafetensors } from '@mi-prun/safetensors'
import {
  createActivationStore,
  createBlockInfluenceScorer,
  createRandomProjection,
  loadActivationDumpFolder,
  openActivationDump,
} from '../src/index.js'

const fixture = fileURLToPath(new URL('../../testkit/fixtures/dumps/llama-kjv/', import.meta.url))

/** Every state of the fixture, concatenated in row order (the in-memory reference path). */
function concatFixture(): { states: Matrix[]; sequence: Int32Array; position: Int32Array } {
  const index = JSON.parse(readFileSync(join(fixture, 'index.json'), 'utf8'))
  const files = index.shards.map((s: { file: string }) => readSafetensorsHeader(join(fixture, s.file)))
  const T = index.numBlocks as number
  const d = index.hiddenSize as number
  const states = Array.from({ length: T + 1 }, (_, i) => {
    const parts = files.map((f: ReturnType<typeof readSafetensorsHeader>) => readTensorF32(f, `h.${i}`))
    const n = parts.reduce((a: number, p: Float32Array) => a + p.length, 0)
    const out = new Float32Array(n)
    let o = 0
    for (const p of parts) {
      out.set(p, o)
      o += p.length
    }
    return matrix(n / d, d, out)
  })
  return {
    states,
    sequence: Int32Array.from(index.tokens.sequence),
    position: Int32Array.from(index.tokens.position),
  }
}

describe('loadActivationDumpFolder on the capture.py fixture (llama-kjv, 2 shards)', () => {
  it('opens the index and both shards', () => {
    const dump = openActivationDump(fixture)
    expect(dump.numBlocks).toBe(12)
    expect(dump.hiddenSize).toBe(128)
    expect(dump.rows).toBe(128)
    expect(dump.shards.length).toBe(2)
    expect(dump.dtype).toBe('F32')
  })

  it.each([
    [{ maxTokens: 50, seed: 3 }],
    [{ maxTokens: 4096, seed: 0, maxSpan: 4 }],
    [{ maxTokens: 64, seed: 1, reducer: createRandomProjection({ rank: 16, seed: 5 }) }],
  ])('gives exactly the store of createActivationStore on the same states (%o)', (opts) => {
    const ref = concatFixture()
    const a = loadActivationDumpFolder(fixture, opts)
    const b = createActivationStore(
      { states: ref.states, tags: { sequence: ref.sequence, position: ref.position } },
      { ...opts, ...(opts.reducer ? { reducer: createRandomProjection({ rank: 16, seed: 5 }) } : {}) },
    )
    expect(a.samples).toBe(b.samples)
    expect(a.dims).toBe(b.dims)
    expect(Array.from(a.tags.sequence)).toEqual(Array.from(b.tags.sequence))
    expect(Array.from(a.tags.position)).toEqual(Array.from(b.tags.position))
    a.states.forEach((m, i) =>
      expect(Buffer.from(m.data.buffer).equals(Buffer.from(b.states[i]!.data.buffer))).toBe(true),
    )
    a.lastToken.forEach((m, i) => expect(Array.from(m.data)).toEqual(Array.from(b.lastToken[i]!.data)))
    expect(Array.from(a.stats.cosSum)).toEqual(Array.from(b.stats.cosSum))
    expect(Array.from(a.stats.angleSum)).toEqual(Array.from(b.stats.angleSum))
    const sa = createBlockInfluenceScorer({ store: a })
    const sb = createBlockInfluenceScorer({ store: b })
    for (let j = 0; j < 12; j++) expect(sa.score(j, 1)).toBe(sb.score(j, 1))
  })
})

describe('hostile dumps are refused as INVALID_DUMP naming file and problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mi-prun-hostile-dump-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  let k = 0
  const copy = (): string => {
    const out = join(dir, `d${k++}`)
    mkdirSync(out)
    for (const f of ['index.json', 'states-00000.safetensors', 'states-00001.safetensors'])
      copyFileSync(join(fixture, f), join(out, f))
    return out
  }
  const editIndex = (folder: string, edit: (ix: Record<string, any>) => void): void => {
    const ix = JSON.parse(readFileSync(join(folder, 'index.json'), 'utf8'))
    edit(ix)
    writeFileSync(join(folder, 'index.json'), JSON.stringify(ix))
  }
  const rewriteShard = async (
    folder: string,
    edit: (name: string, data: Float32Array) => Float32Array | undefined,
    dtypeOf: (name: string) => 'F32' | 'F16' | 'BF16' = () => 'F32',
  ): Promise<void> => {
    const path = join(folder, 'states-00001.safetensors')
    const f = readSafetensorsHeader(path)
    const tensors = []
    for (const t of f.tensors.values()) {
      if (t.name.startsWith('h.')) {
        const data = edit(t.name, readTensorF32(f, t.name))
        if (data === undefined) continue
        const dt = dtypeOf(t.name)
        tensors.push({
          name: t.name,
          dtype: dt,
          shape: [data.length / 128, 128],
          data: encodeFloats(dt, data),
        })
      } else {
        const bytes = readFileSync(path).subarray(t.begin, t.end)
        tensors.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], data: new Uint8Array(bytes) })
      }
    }
    rmSync(path)
    await writeSafetensors(path, tensors)
  }
  const refused = (folder: string, re: RegExp): void => {
    let err: unknown
    try {
      loadActivationDumpFolder(folder)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PruneError)
    expect((err as PruneError).code).toBe('INVALID_DUMP')
    expect((err as Error).message).toMatch(re)
  }

  it('a missing h.i', async () => {
    const f = copy()
    await rewriteShard(f, (name, d) => (name === 'h.5' ? undefined : d))
    refused(f, /states-00001\.safetensors: h\.5 is missing/)
  })
  it('mismatched rows', async () => {
    const f = copy()
    await rewriteShard(f, (name, d) => (name === 'h.3' ? d.subarray(0, d.length - 128) : d))
    refused(f, /states-00001\.safetensors: h\.3 is \[63, 128\] but h\.0 is \[64, 128\]/)
  })
  it('rows that disagree with the index', () => {
    const f = copy()
    editIndex(f, (ix) => (ix.shards[1].rows = 63))
    refused(f, /states-00001\.safetensors: holds 64 rows, index\.json says 63/)
  })
  it('a NaN row', async () => {
    const f = copy()
    await rewriteShard(f, (name, d) => {
      if (name === 'h.7') d.fill(Number.NaN, 10 * 128, 11 * 128)
      return d
    })
    refused(f, /states-00001\.safetensors: h\.7 row 10 holds a non-finite value/)
  })
  it('an index pointing outside the folder', () => {
    const f = copy()
    editIndex(f, (ix) => (ix.shards[1].file = '../d0/states-00001.safetensors'))
    refused(
      f,
      /index\.json: shards\[1\]\.file "\.\.\/d0\/states-00001\.safetensors" points outside the dump folder/,
    )
  })
  it('a shard that is a symlink to a file outside the folder', () => {
    const f = copy()
    rmSync(join(f, 'states-00001.safetensors'))
    symlinkSync(join(fixture, 'states-00001.safetensors'), join(f, 'states-00001.safetensors'))
    refused(f, /shards\[1\]\.file "states-00001\.safetensors" points outside the dump folder/)
  })
  it('a dtype that differs from the index', async () => {
    const f = copy()
    await rewriteShard(
      f,
      (_n, d) => d,
      () => 'BF16',
    )
    refused(f, /states-00001\.safetensors: states are BF16, the dump is F32 \(dtype mismatch\)/)
  })
  it('mixed dtypes inside one shard', async () => {
    const f = copy()
    await rewriteShard(
      f,
      (_n, d) => d,
      (n) => (n === 'h.2' ? 'F16' : 'F32'),
    )
    refused(f, /states-00001\.safetensors: h\.2 is F16 but h\.0 is F32/)
  })
  it('tags that disagree with the index', () => {
    const f = copy()
    editIndex(f, (ix) => (ix.tokens.position[70] = 99))
    refused(f, /tokens\.position\[70\] = 99 but the shards say 6/)
  })
  it('no index', () => {
    const f = copy()
    rmSync(join(f, 'index.json'))
    refused(f, /index\.json: cannot read the dump index/)
  })
})
