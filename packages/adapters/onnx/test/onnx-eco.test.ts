// Structure checks on the ecosystem fixtures (scripts/fixtures/make_onnx.py) beyond the numbers of
// onnx-fixtures.test.ts: KV-cache I/O after removing each block, the residualInput option and its
// error, quantized weights in inspect, and fp16 files staying fp16.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { clone, create } from '@bufbuild/protobuf'
import { NodeProtoSchema, TensorProto_DataType, ValueInfoProtoSchema } from 'onnx-buf'
import {
  discoverBlocks,
  inspectOnnxModel,
  loadOnnxModel,
  readModelFile,
  weightSummary,
} from '@mi-prun/adapter-onnx'
import { relErr } from './helpers.js'

const ort = () => import('onnxruntime-node')
const FIX = join(import.meta.dirname, '..', '..', '..', 'testkit', 'fixtures', 'onnx-eco')
const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-onnx-eco2-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const have = (p: string): boolean => existsSync(join(FIX, p, 'model.onnx'))
const batch = { batch: 1, seqLen: 9, ids: Int32Array.from([3, 17, 99, 4, 56, 7, 120, 1, 45]) }

describe.skipIf(!have('llama/kv'))('KV-cache graph (optimum signature)', () => {
  it('removing any block, 0 and 1 included, leaves contiguous past/present I/O and the past length read from a kept layer', async () => {
    const dir = join(FIX, 'llama', 'kv')
    const adapter = await loadOnnxModel(dir, { ort, intraOpNumThreads: 1 })
    try {
      const T = adapter.info.numBlocks
      const src = await readModelFile(join(dir, 'model.onnx'))
      // The export reads the past length from layer 0's cache (what made block 0 unremovable before).
      expect(
        src.model.graph!.node.some(
          (n) =>
            n.input.includes('past_key_values.0.key') && !n.output.some((o) => o.startsWith('present.0')),
        ),
      ).toBe(true)
      for (const gone of [[0], [1], [2], [3], [0, 1]]) {
        const out = join(tmp, `kv-${gone.join('-')}`)
        await adapter.exportPruned(gone, out)
        const lf = await readModelFile(join(out, 'model.onnx'))
        const kept = T - gone.length
        const want = Array.from({ length: kept }, (_, i) => [
          `past_key_values.${i}.key`,
          `past_key_values.${i}.value`,
        ]).flat()
        expect(lf.model.graph!.input.map((v) => v.name).filter((n) => n.startsWith('past'))).toEqual(want)
        expect(lf.model.graph!.output.map((v) => v.name).filter((n) => n.startsWith('present'))).toEqual(
          want.map((n) => n.replace('past_key_values', 'present')),
        )
        const pruned = await loadOnnxModel(out, { ort, intraOpNumThreads: 1 })
        try {
          const a = (await pruned.forward(batch)).logits!
          const b = (await adapter.forward(batch, { skip: gone })).logits!
          expect(relErr(a.data, b.data)).toBeLessThan(1e-5)
        } finally {
          await pruned.dispose()
        }
      }
    } finally {
      await adapter.dispose()
    }
  })
})

describe.skipIf(!have('llama/ts'))('residualInput', () => {
  it('an unknown residualInput is refused with the chains that exist; the right one gives the same structure', async () => {
    const lf = await readModelFile(join(FIX, 'llama', 'ts', 'model.onnx'))
    const plain = discoverBlocks(lf.model, { numBlocks: 4 })
    expect(() => discoverBlocks(lf.model, { residualInput: 'nope' })).toThrow(
      /no residual chain starts at the given residualInput 'nope'; chains start at .*\(8 Adds\)/,
    )
    const chosen = discoverBlocks(lf.model, { residualInput: plain.hiddenStates[0]! })
    expect(chosen.hiddenStates).toEqual(plain.hiddenStates)
    // The no-op Cast(to=FLOAT) of RMSNorm is seen through: h_0 is the embedding output itself.
    expect(plain.hiddenStates[0]).toBe('/model/embed_tokens/Gather_output_0')
  })
})

describe.skipIf(!have('llama/ts'))('two equally long residual chains', () => {
  it('the error names both first tensors and the residualInput option, which resolves it', async () => {
    // Two copies of one decoder side by side in one graph (the copy's computed tensors prefixed).
    const lf = await readModelFile(join(FIX, 'llama', 'ts', 'model.onnx'))
    const g = lf.model.graph!
    const shared = new Set([...g.initializer.map((t) => t.name), ...g.input.map((v) => v.name)])
    const p = (t: string): string => (t === '' || shared.has(t) ? t : `copy/${t}`)
    const copies = g.node.map((n) => {
      const c = clone(NodeProtoSchema, n)
      c.name = `copy${n.name}`
      c.input = n.input.map(p)
      c.output = n.output.map(p)
      return c
    })
    g.node.push(...copies)
    g.output.push(...g.output.map((o) => create(ValueInfoProtoSchema, { name: p(o.name) })))
    const h0 = '/model/embed_tokens/Gather_output_0'
    expect(() => discoverBlocks(lf.model, { numBlocks: 4 })).toThrow(
      new RegExp(
        `2 residual chains of equal length 8 start at tensors '(copy/)?${h0}', '(copy/)?${h0}'.*residualInput`,
      ),
    )
    const a = discoverBlocks(lf.model, { numBlocks: 4, residualInput: h0 })
    const b = discoverBlocks(lf.model, { numBlocks: 4, residualInput: `copy/${h0}` })
    expect(a.hiddenStates[0]).toBe(h0)
    expect(b.hiddenStates).toEqual(a.hiddenStates.map((t) => `copy/${t}`))
  })
})

describe.skipIf(!have('gpt2/ts'))('GPT-2 from the TorchScript exporter', () => {
  it('wte + wpe is the embedding, not a block (its position ids come from Shape(wte output))', async () => {
    const lf = await readModelFile(join(FIX, 'gpt2', 'ts', 'model.onnx'))
    const s = discoverBlocks(lf.model, { numBlocks: 4 })
    expect(s.numBlocks).toBe(4)
    expect(s.addsPerBlock).toBe(2)
    expect(s.hiddenStates[0]).toBe('/transformer/Add_output_0')
  })
})

describe.skipIf(!have('llama/int8') || !have('llama/q4') || !have('llama/fp16'))('quantized weights', () => {
  it('inspect reports storage types and counts every weight once, as in the fp32 file', async () => {
    const fp32 = (await inspectOnnxModel(join(FIX, 'llama', 'ts'))).files[0]!
    const int8 = (await inspectOnnxModel(join(FIX, 'llama', 'int8'))).files[0]!
    const q4 = (await inspectOnnxModel(join(FIX, 'llama', 'q4'))).files[0]!
    const f16 = (await inspectOnnxModel(join(FIX, 'llama', 'fp16'))).files[0]!
    expect(fp32.dtypes).toEqual({ F32: fp32.parameters })
    for (const s of [int8, q4, f16]) expect(s.parameters).toBe(fp32.parameters)
    expect(int8.dtypes.I8 ?? int8.dtypes.U8).toBeGreaterThan(fp32.parameters / 2)
    expect(q4.dtypes.Q4).toBeGreaterThan(fp32.parameters / 2)
    expect(f16).toMatchObject({ dtype: 'F16', dtypes: { F16: fp32.parameters } })
    expect('error' in int8.structure || 'error' in q4.structure).toBe(false)
  })

  it('the pruned fp16 file stays fp16, and removes a block of weights', async () => {
    const adapter = await loadOnnxModel(join(FIX, 'llama', 'fp16'), { ort, intraOpNumThreads: 1 })
    try {
      const out = join(tmp, 'fp16-pruned')
      await adapter.exportPruned([2], out)
      const lf = await readModelFile(join(out, 'model.onnx'))
      const w = weightSummary(lf.model.graph!)
      expect(Object.keys(w.dtypes)).toEqual(['F16'])
      expect(w.parameters).toBeLessThan(adapter.info.parameters)
      expect(
        lf.model.graph!.initializer.every(
          (t) => t.dataType !== TensorProto_DataType.FLOAT || t.dims.length === 0,
        ),
      ).toBe(true)
    } finally {
      await adapter.dispose()
    }
  })
})
