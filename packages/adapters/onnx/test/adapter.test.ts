import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TOL_F32_REL } from '@mi-prun/testkit'
import {
  createOnnxAdapter,
  inspectOnnxModel,
  loadOnnxModel,
  readModelFile,
  PROVENANCE_FILE,
  type OnnxModelAdapter,
} from '@mi-prun/adapter-onnx'
import { toyReference, writeToyFolder, type ToyWeights } from './build-graphs.js'
import { relErr } from './helpers.js'

const ort = () => import('onnxruntime-node')
const SEQS = [
  [1, 5, 3, 7, 0, 10, 2],
  [4, 4, 9, 2, 6, 1, 8],
]
const batch = { ids: Int32Array.from(SEQS.flat()), batch: 2, seqLen: 7 }

/** Float64 NLL of the reference model (seqLen-1 predictions per sequence). */
function refNll(w: ToyWeights, skip: ReadonlySet<number> = new Set()): number {
  let sum = 0
  for (const ids of SEQS) {
    const { logits } = toyReference(w, ids, skip)
    for (let t = 0; t + 1 < ids.length; t++) {
      const row = Array.from(logits.subarray(t * w.vocab, (t + 1) * w.vocab))
      const mx = Math.max(...row)
      sum += mx + Math.log(row.reduce((s, x) => s + Math.exp(x - mx), 0)) - row[ids[t + 1]!]!
    }
  }
  return sum
}

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'mi-prun-onnx-'))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

for (const external of [false, true]) {
  describe(`loadOnnxModel (${external ? 'external data' : 'inline weights'})`, () => {
    let dir: string
    let w: ToyWeights
    let adapter: OnnxModelAdapter
    beforeAll(async () => {
      dir = join(root, external ? 'ext' : 'inline')
      w = writeToyFolder(dir, { blocks: 4, seed: 11, external })
      adapter = await loadOnnxModel(dir, { ort })
    })
    afterAll(() => adapter.dispose())

    it('reports the model and runs the no-past graph on the CPU provider', () => {
      expect(adapter.file).toMatch(/onnx[/\\]model_no_past\.onnx$/)
      expect(adapter.info).toMatchObject({
        format: 'onnx',
        numBlocks: 4,
        hiddenSize: 8,
        vocabSize: 11,
        modelType: 'toy',
        architecture: 'ToyForCausalLM',
        dtype: 'F32',
        backend: 'cpu',
        maxPositions: 64,
      })
      expect(adapter.info.parameters).toBe(11 * 8 + 4 * (8 * 8 * 4 + 2 * 8 * 16) + 8 + 8 * 11)
      expect(adapter.structure.method).toBe('names')
    })

    it('forward returns h_0..h_T and logits equal to the float64 reference', async () => {
      const r = await adapter.forward(batch, { hiddenStates: true })
      expect(r.hiddenStates).toHaveLength(5)
      SEQS.forEach((ids, b) => {
        const ref = toyReference(w, ids)
        for (let i = 0; i <= 4; i++) {
          const h = r.hiddenStates![i]!
          expect([h.rows, h.cols]).toEqual([14, 8])
          expect(relErr(h.data.subarray(b * 56, (b + 1) * 56), ref.hidden[i]!)).toBeLessThan(TOL_F32_REL)
        }
        expect(relErr(r.logits!.data.subarray(b * 77, (b + 1) * 77), ref.logits)).toBeLessThan(TOL_F32_REL)
      })
    })

    it('skip bypasses blocks (skipped blocks repeat their input)', async () => {
      const r = await adapter.forward(batch, { hiddenStates: true, skip: new Set([1, 2]) })
      const ref = toyReference(w, SEQS[0]!, new Set([1, 2]))
      expect(Array.from(r.hiddenStates![2]!.data)).toEqual(Array.from(r.hiddenStates![1]!.data))
      expect(relErr(r.hiddenStates![4]!.data.subarray(0, 56), ref.hidden[4]!)).toBeLessThan(TOL_F32_REL)
      expect(relErr(r.logits!.data.subarray(0, 77), ref.logits)).toBeLessThan(TOL_F32_REL)
    })

    it('captureRows, onHiddenState, onProgress and logits:false', async () => {
      const rows = Int32Array.from([13, 0, 7])
      const seen: number[] = []
      const sums: number[] = []
      const prog: string[] = []
      const r = await adapter.forward(batch, {
        hiddenStates: true,
        captureRows: rows,
        logits: false,
        onHiddenState: (i, h) => {
          seen.push(i)
          sums.push(h.rows)
        },
        onProgress: (d, t) => prog.push(`${d}/${t}`),
      })
      expect(r.logits).toBeUndefined()
      expect(seen).toEqual([0, 1, 2, 3, 4])
      expect(sums).toEqual([14, 14, 14, 14, 14])
      expect(prog).toEqual(['1/4', '2/4', '3/4', '4/4'])
      const full = await adapter.forward(batch, { hiddenStates: true })
      expect(r.hiddenStates![3]!.rows).toBe(3)
      expect(Array.from(r.hiddenStates![3]!.data.subarray(0, 8))).toEqual(
        Array.from(full.hiddenStates![3]!.data.subarray(13 * 8, 14 * 8)),
      )
      expect(Array.from(r.hiddenStates![3]!.data.subarray(16, 24))).toEqual(
        Array.from(full.hiddenStates![3]!.data.subarray(7 * 8, 8 * 8)),
      )
    })

    it('nll matches the float64 reference, dense and with a skip set', async () => {
      const dense = await adapter.nll(batch)
      expect(dense.tokens).toBe(12)
      expect(Math.abs(dense.sumNll - refNll(w)) / refNll(w)).toBeLessThan(TOL_F32_REL)
      const sk = await adapter.nll(batch, { skip: [3] })
      expect(Math.abs(sk.sumNll - refNll(w, new Set([3]))) / refNll(w, new Set([3]))).toBeLessThan(
        TOL_F32_REL,
      )
    })

    it('exportPruned writes a folder that reloads with T-N blocks and the skip-forward logits', async () => {
      const out = join(root, `pruned-${external}`)
      const res = await adapter.exportPruned([2, 0], out, { selector: 'test' })
      expect(res).toEqual({ path: out, numBlocks: 2, removed: [0, 2] })
      const files = readdirSync(join(out, 'onnx')).sort()
      expect(files).toEqual(
        external
          ? ['model.onnx', 'model.onnx_data', 'model_no_past.onnx', 'model_no_past.onnx_data']
          : ['model.onnx', 'model_no_past.onnx'],
      )
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))
      expect(cfg.num_hidden_layers).toBe(2)
      expect(cfg.layer_types).toEqual(['sliding', 'sliding'])
      expect(existsSync(join(out, 'tokenizer_config.json'))).toBe(true)
      const prov = JSON.parse(readFileSync(join(out, PROVENANCE_FILE), 'utf8'))
      expect(prov).toMatchObject({
        tool: '@mi-prun/adapter-onnx',
        removedBlocks: [0, 2],
        keptBlocks: [1, 3],
        numBlocks: 2,
        selector: 'test',
      })
      const kv = await readModelFile(join(out, 'onnx', 'model.onnx'))
      expect(kv.model.graph!.input.map((v) => v.name).filter((n) => n.startsWith('past'))).toEqual([
        'past_key_values.0.key',
        'past_key_values.0.value',
        'past_key_values.1.key',
        'past_key_values.1.value',
      ])
      if (external) {
        // Only the kept blocks' weights are in the new data file (4 KiB aligned).
        expect(kv.externalBytes).toBe(4 * (11 * 8 + 2 * (8 * 8 * 4 + 2 * 8 * 16) + 8 + 8 * 11))
      }
      const re = await loadOnnxModel(out, { ort })
      try {
        expect(re.info.numBlocks).toBe(2)
        const a = await re.forward(batch, { hiddenStates: true })
        const b = await adapter.forward(batch, { hiddenStates: true, skip: [0, 2] })
        expect(relErr(a.logits!.data, b.logits!.data)).toBeLessThan(TOL_F32_REL)
        expect(relErr(a.hiddenStates![2]!.data, b.hiddenStates![4]!.data)).toBeLessThan(TOL_F32_REL)
        // The KV graph of the export runs too, and agrees with the no-past one.
        const k = await loadOnnxModel(out, { ort, file: 'model.onnx' })
        expect(relErr((await k.forward(batch)).logits!.data, a.logits!.data)).toBeLessThan(TOL_F32_REL)
        await k.dispose()
      } finally {
        await re.dispose()
      }
    })

    it('exports are deterministic: same removal, same bytes', async () => {
      const a = join(root, `det-a-${external}`)
      const b = join(root, `det-b-${external}`)
      await adapter.exportPruned([1], a)
      await adapter.exportPruned([1], b)
      for (const f of readdirSync(join(a, 'onnx')))
        expect(readFileSync(join(a, 'onnx', f)).equals(readFileSync(join(b, 'onnx', f)))).toBe(true)
    })
  })
}

describe('hostile input', () => {
  const write = (name: string, bytes: Uint8Array | string) => {
    const d = join(root, name)
    writeToyFolder(d, { blocks: 2 })
    writeFileSync(join(d, 'onnx', 'model_no_past.onnx'), bytes)
    return d
  }

  it('truncated bytes: INVALID_CHECKPOINT naming the file', async () => {
    const good = join(root, 'good')
    writeToyFolder(good, { blocks: 2 })
    const bytes = readFileSync(join(good, 'onnx', 'model_no_past.onnx'))
    const d = write('trunc', bytes.subarray(0, Math.floor(bytes.length * 0.6)))
    await expect(loadOnnxModel(d, { ort })).rejects.toMatchObject({
      code: 'INVALID_CHECKPOINT',
      message: expect.stringMatching(/\[@mi-prun\/adapter-onnx\].*model_no_past\.onnx.*truncated/),
    })
  })

  it('non-ONNX bytes: INVALID_CHECKPOINT', async () => {
    await expect(loadOnnxModel(write('text', '{"not": "onnx"}\n'), { ort })).rejects.toMatchObject({
      code: 'INVALID_CHECKPOINT',
    })
    await expect(loadOnnxModel(write('zeros', new Uint8Array(64)), { ort })).rejects.toMatchObject({
      code: 'INVALID_CHECKPOINT',
    })
  })

  it('a truncated external data file is caught before ORT', async () => {
    const d = join(root, 'ext-trunc')
    writeToyFolder(d, { blocks: 2, external: true })
    const p = join(d, 'onnx', 'model_no_past.onnx_data')
    writeFileSync(p, readFileSync(p).subarray(0, 100))
    await expect(loadOnnxModel(d, { ort })).rejects.toMatchObject({
      code: 'INVALID_CHECKPOINT',
      message: expect.stringMatching(/truncated/),
    })
  })

  it('an opset ORT cannot run: UNSUPPORTED_ARCHITECTURE, and the export writes nothing', async () => {
    const d = join(root, 'opset')
    writeToyFolder(d, { blocks: 2, opset: 99 })
    await expect(loadOnnxModel(d, { ort })).rejects.toMatchObject({
      code: 'UNSUPPORTED_ARCHITECTURE',
      message: expect.stringMatching(/onnxruntime cannot load/),
    })
    // A folder whose forward graph is fine but whose other graph ORT cannot run: export refuses.
    const mixed = join(root, 'mixed')
    writeToyFolder(mixed, { blocks: 2 })
    writeFileSync(join(mixed, 'onnx', 'model.onnx'), readFileSync(join(d, 'onnx', 'model.onnx')))
    const a = await loadOnnxModel(mixed, { ort })
    const out = join(root, 'mixed-out')
    await expect(a.exportPruned([0], out)).rejects.toMatchObject({ code: 'UNSUPPORTED_ARCHITECTURE' })
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(root).some((f) => f.startsWith('.mixed-out'))).toBe(false)
    await a.dispose()
  })

  it('a graph without block structure: UNSUPPORTED_ARCHITECTURE from inspect and load', async () => {
    const d = join(root, 'noblocks')
    writeToyFolder(d, { blocks: 2 })
    // Make config.json claim 3 blocks: discovery must refuse the mismatch.
    writeFileSync(join(d, 'config.json'), JSON.stringify({ num_hidden_layers: 3 }))
    await expect(loadOnnxModel(d, { ort })).rejects.toMatchObject({
      code: 'UNSUPPORTED_ARCHITECTURE',
      message: expect.stringMatching(/config.json says 3/),
    })
    const s = await inspectOnnxModel(d)
    expect(s.files.map((f) => ('error' in f.structure ? f.structure.code : 'ok'))).toEqual([
      'UNSUPPORTED_ARCHITECTURE',
      'UNSUPPORTED_ARCHITECTURE',
    ])
  })

  it('export refuses an existing folder and bad block lists, writing nothing', async () => {
    const d = join(root, 'ok2')
    writeToyFolder(d, { blocks: 3 })
    const a = await loadOnnxModel(d, { ort })
    await expect(a.exportPruned([0, 1, 2], join(root, 'x1'))).rejects.toMatchObject({
      code: 'INFEASIBLE_BUDGET',
    })
    await expect(a.exportPruned([5], join(root, 'x2'))).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(a.exportPruned([1], d)).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: expect.stringMatching(/already exists/),
    })
    expect(existsSync(join(root, 'x1')) || existsSync(join(root, 'x2'))).toBe(false)
    await a.dispose()
  })
})

describe('runtime injection', () => {
  it('createOnnxAdapter takes the module itself; a failing thunk or a wrong module is RUNTIME_UNAVAILABLE', async () => {
    const d = join(root, 'inject')
    writeToyFolder(d, { blocks: 2 })
    const mod = await import('onnxruntime-node')
    const a = await createOnnxAdapter({ model: d, ort: mod, executionProviders: ['cpu'] })
    expect(a.info.backend).toBe('cpu')
    await a.dispose()
    await expect(
      loadOnnxModel(d, { ort: () => Promise.reject(new Error('Cannot find module onnxruntime-node')) }),
    ).rejects.toMatchObject({
      code: 'RUNTIME_UNAVAILABLE',
      message: expect.stringMatching(/ONNXRUNTIME_NODE_INSTALL=skip/),
    })
    await expect(loadOnnxModel(d, { ort: { Tensor: 1 } })).rejects.toMatchObject({
      code: 'RUNTIME_UNAVAILABLE',
    })
  })

  it('a provider that cannot load falls back to the next one in the list', async () => {
    const d = join(root, 'fallback')
    writeToyFolder(d, { blocks: 2 })
    const a = await loadOnnxModel(d, { ort, executionProviders: ['no-such-provider', 'cpu'] })
    expect(a.info.backend).toBe('cpu')
    await a.dispose()
    await expect(loadOnnxModel(d, { ort, executionProviders: ['no-such-provider'] })).rejects.toMatchObject({
      message: expect.stringMatching(/no-such-provider/),
    })
  })
})

describe('inspectOnnxModel', () => {
  it('summarises every graph of a folder without ORT', async () => {
    const d = join(root, 'insp')
    writeToyFolder(d, { blocks: 3, external: true })
    const s = await inspectOnnxModel(d)
    expect(s.kind).toBe('onnx-model-summary')
    expect(
      s.files.map((f) => [f.file.split(/[/\\]/).pop(), f.kvLayers, f.opset, f.externalBytes > 0]),
    ).toEqual([
      ['model.onnx', 3, 14, true],
      ['model_no_past.onnx', 0, 14, true],
    ])
    const st = s.files[0]!.structure
    expect('error' in st ? st.error : st.numBlocks).toBe(3)
  })
})
