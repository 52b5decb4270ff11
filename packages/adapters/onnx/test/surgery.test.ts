import * as ort from 'onnxruntime-node'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TOL_F32_REL } from '@mi-prun/testkit'
import {
  decodeModel,
  discoverBlocks,
  encodeModel,
  pruneGraph,
  withHiddenOutputs,
  type ModelProto,
} from '@mi-prun/adapter-onnx'
import { buildToyModel, toyReference } from './build-graphs.js'
import { relErr } from './helpers.js'

const IDS = [1, 5, 3, 7, 0, 10]

async function run(model: ModelProto, ids: readonly number[]): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(encodeModel(model))
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
  }
  for (const n of s.inputNames)
    if (n.startsWith('past')) feeds[n] = new ort.Tensor('float32', new Float32Array(0), [1, 1, 0, 8])
  const out = await s.run(feeds)
  await s.release()
  return out
}

describe('pruneGraph', () => {
  it('bypasses removed blocks: ORT logits equal the float64 reference with those blocks skipped', async () => {
    const { model, weights } = buildToyModel({ blocks: 5, kv: true, seed: 3 })
    const s = discoverBlocks(model)
    for (const removed of [[0], [2], [4], [1, 2], [0, 3, 4]]) {
      const pr = pruneGraph(model, s, removed)
      const out = await run(pr.model, IDS)
      const ref = toyReference(weights, IDS, new Set(removed))
      expect(relErr(out.logits!.data as Float32Array, ref.logits)).toBeLessThan(TOL_F32_REL)
    }
  })

  it('drops exactly the removed blocks\u2019 nodes and initializers and renumbers the KV-cache I/O', () => {
    const { model } = buildToyModel({ blocks: 4, kv: true })
    const s = discoverBlocks(model)
    const g0 = model.graph!
    const perBlockNodes = g0.node.filter((n) => n.name.startsWith('/model/layers.1/')).length
    const pr = pruneGraph(model, s, [1, 2])
    const g = pr.model.graph!
    expect(pr.removedNodes).toBe(2 * perBlockNodes)
    expect(pr.removedInitializers).toBe(2 * 6) // Wa, Wb, Wc, Wd, Wk, Wv per block
    expect(g.input.map((v) => v.name)).toEqual([
      'input_ids',
      'past_key_values.0.key',
      'past_key_values.0.value',
      'past_key_values.1.key',
      'past_key_values.1.value',
    ])
    expect(g.output.map((v) => v.name)).toEqual([
      'logits',
      'present.0.key',
      'present.0.value',
      'present.1.key',
      'present.1.value',
    ])
    // Old block 3 is now block 1 (names renumbered), and reads the renamed KV input.
    const concat = g.node.find((n) => n.output.includes('present.1.key'))!
    expect(concat.name).toMatch(/^\/model\/layers\.1\//)
    expect(concat.input[0]).toBe('past_key_values.1.key')
    expect(
      g.initializer.some((t) => t.name.startsWith('model.layers.1.') || t.name.startsWith('model.layers.2.')),
    ).toBe(false)
    // The skipped boundaries alias their input.
    expect(pr.hiddenStates).toEqual([
      s.hiddenStates[0],
      s.hiddenStates[1],
      s.hiddenStates[1],
      s.hiddenStates[1],
      s.hiddenStates[4],
    ])
    // The source model is untouched.
    expect(model.graph!.node.length).toBe(g0.node.length)
    expect(model.graph!.input).toHaveLength(9)
  })

  it('prunes value_info entries of removed tensors', () => {
    const { model } = buildToyModel({ blocks: 3 })
    const s = discoverBlocks(model)
    const g = model.graph!
    // Record a value_info for every block output, as exporters with shape inference do.
    for (const h of s.hiddenStates.slice(1)) g.valueInfo.push({ ...g.output[0]!, name: h })
    const pr = pruneGraph(model, s, [1])
    expect(pr.removedValueInfos).toBe(1)
    expect(pr.model.graph!.valueInfo.map((v) => v.name)).toEqual([s.hiddenStates[1], s.hiddenStates[3]])
  })

  it('refuses to remove every block or a block that does not exist', () => {
    const { model } = buildToyModel({ blocks: 2 })
    const s = discoverBlocks(model)
    expect(() => pruneGraph(model, s, [0, 1])).toThrow(expect.objectContaining({ code: 'INFEASIBLE_BUDGET' }))
    expect(() => pruneGraph(model, s, [2])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }))
  })

  it('property: any kept subset gives the reference logits (meaningless names, structural discovery)', async () => {
    const { model, weights } = buildToyModel({ blocks: 4, names: 'opaque', kv: true, seed: 9 })
    const s = discoverBlocks(model)
    await fc.assert(
      fc.asyncProperty(fc.subarray([0, 1, 2, 3], { maxLength: 3 }), async (removed) => {
        const out = await run(pruneGraph(model, s, removed).model, IDS)
        return (
          relErr(out.logits!.data as Float32Array, toyReference(weights, IDS, new Set(removed)).logits) <
          TOL_F32_REL
        )
      }),
      { numRuns: 12, seed: 1 },
    )
  })
})

describe('withHiddenOutputs', () => {
  it('exposes h_0..h_T equal to the reference without changing the logits', async () => {
    const { model, weights } = buildToyModel({ blocks: 3, kv: true, seed: 5 })
    const s = discoverBlocks(model)
    const plain = await run(model, IDS)
    const { model: hm, outputs } = withHiddenOutputs(model, s.hiddenStates)
    expect(hm.graph!.node.length).toBe(model.graph!.node.length)
    const out = await run(hm, IDS)
    expect(Array.from(out.logits!.data as Float32Array)).toEqual(
      Array.from(plain.logits!.data as Float32Array),
    )
    const ref = toyReference(weights, IDS)
    outputs.forEach((name, i) => {
      expect(out[name]!.dims).toEqual([1, IDS.length, 8])
      expect(relErr(out[name]!.data as Float32Array, ref.hidden[i]!)).toBeLessThan(TOL_F32_REL)
    })
  })
})

describe('wire format', () => {
  it('fields unknown to the schema survive decode, surgery and encode (why onnx-buf, not onnx-proto)', () => {
    const { model } = buildToyModel({ blocks: 3 })
    // ModelProto field 999, varint 42: tag (999 << 3 | 0) = 7992 = 0xB8 0x3E, value 0x2A.
    const extra = Uint8Array.from([0xb8, 0x3e, 0x2a])
    const bytes = encodeModel(model)
    const withExtra = new Uint8Array(bytes.length + 3)
    withExtra.set(bytes)
    withExtra.set(extra, bytes.length)
    const decoded = decodeModel(withExtra, 'test')
    const pruned = encodeModel(pruneGraph(decoded, discoverBlocks(decoded), [1]).model)
    const tail = Array.from(pruned.subarray(pruned.length - 3))
    expect(tail).toEqual(Array.from(extra))
    expect(Array.from(bytes.subarray(bytes.length - 3))).not.toEqual(Array.from(extra))
  })
})
