import { create } from '@bufbuild/protobuf'
import { describe, expect, it } from 'vitest'
import {
  GraphProtoSchema,
  ModelProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType,
  type NodeProto,
} from 'onnx-buf'
import { blockIndexFromName, discoverBlocks } from '@mi-prun/adapter-onnx'
import { buildToyModel, floatTensor, node, valueInfo } from './build-graphs.js'

/** A graph: Gather(emb) -> h0, then the given nodes, output 'logits'. */
function graphOf(nodes: NodeProto[], weights: string[]) {
  const d = 4
  const inits = [
    floatTensor('emb', [5, d], new Float32Array(5 * d).fill(0.1)),
    ...weights.map((w) => floatTensor(w, [d, d], new Float32Array(d * d).fill(0.01))),
  ]
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 14n })],
    graph: create(GraphProtoSchema, {
      node: [node('Gather', ['emb', 'input_ids'], ['h0'], 'g'), ...nodes],
      initializer: inits,
      input: [valueInfo('input_ids', TensorProto_DataType.INT64, ['b', 's'])],
      output: [valueInfo('logits', TensorProto_DataType.FLOAT, ['b', 's', 4])],
    }),
  })
}

describe('discoverBlocks', () => {
  it('groups residual Adds by the block index in HF node names', () => {
    const { model } = buildToyModel({ blocks: 4, names: 'hf', kv: true })
    const s = discoverBlocks(model)
    expect(s.method).toBe('names')
    expect(s.numBlocks).toBe(4)
    expect(s.addsPerBlock).toBe(2)
    expect(s.hiddenStates).toHaveLength(5)
    expect(s.hiddenStates[0]).toMatch(/^\/model\/embed_tokens\//)
    s.blocks.forEach((b, i) => {
      expect(b.input).toBe(s.hiddenStates[i])
      expect(b.output).toBe(s.hiddenStates[i + 1])
      expect(b.residualAdds.every((n) => n.startsWith(`/model/layers.${i}/Add`))).toBe(true)
    })
    expect(s.embedding).toMatch(/embed_tokens\/Gather/)
    expect(s.finalConsumers).toEqual([expect.stringMatching(/^\/model\/norm\/Mul/)])
  })

  it('falls back to the structure (period of the branch ops) when names are meaningless', () => {
    const hf = discoverBlocks(buildToyModel({ blocks: 3, names: 'hf' }).model)
    const { model } = buildToyModel({ blocks: 3, names: 'opaque' })
    const s = discoverBlocks(model)
    expect(s.method).toBe('structure')
    expect(s.numBlocks).toBe(3)
    expect(s.addsPerBlock).toBe(2)
    expect(s.notes.join(' ')).toMatch(/no block index/)
    // Same graph topology, so the same positions in the node list are found.
    const pos = (m: typeof model, t: string) => m.graph!.node.findIndex((n) => n.output.includes(t))
    const hfModel = buildToyModel({ blocks: 3, names: 'hf' }).model
    expect(s.hiddenStates.map((t) => pos(model, t))).toEqual(hf.hiddenStates.map((t) => pos(hfModel, t)))
  })

  it('uses the block count from config.json when given, and refuses a mismatch', () => {
    const { model } = buildToyModel({ blocks: 3, names: 'opaque' })
    expect(discoverBlocks(model, { numBlocks: 3 }).addsPerBlock).toBe(2)
    expect(() => discoverBlocks(model, { numBlocks: 4 })).toThrow(/does not divide into 4 blocks/)
    const hf = buildToyModel({ blocks: 3, names: 'hf' }).model
    expect(() => discoverBlocks(hf, { numBlocks: 2 })).toThrow(/found 3 blocks but config.json says 2/)
  })

  it('refuses a residual stream that forks', () => {
    const m = graphOf(
      [
        node('MatMul', ['h0', 'w0'], ['b0'], 'n1'),
        node('Add', ['h0', 'b0'], ['h1'], 'n2'),
        node('MatMul', ['h1', 'w1'], ['b1'], 'n3'),
        node('Add', ['h1', 'b1'], ['x'], 'n4'),
        node('Relu', ['h1'], ['b2'], 'n5'),
        node('Add', ['h1', 'b2'], ['y'], 'n6'),
        node('Mul', ['x', 'y'], ['logits'], 'n7'),
      ],
      ['w0', 'w1'],
    )
    expect(() => discoverBlocks(m)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_ARCHITECTURE',
        message: expect.stringMatching(/forks at tensor 'h1'.*'n4', 'n6'/),
      }),
    )
  })

  it('refuses two residual chains of equal length', () => {
    const m = graphOf(
      [
        node('Relu', ['h0'], ['a0'], 'n1'),
        node('Tanh', ['h0'], ['c0'], 'n2'),
        node('MatMul', ['a0', 'w0'], ['ab'], 'n3'),
        node('Add', ['a0', 'ab'], ['a1'], 'n4'),
        node('MatMul', ['c0', 'w1'], ['cb'], 'n5'),
        node('Add', ['c0', 'cb'], ['c1'], 'n6'),
        node('Mul', ['a1', 'c1'], ['logits'], 'n7'),
      ],
      ['w0', 'w1'],
    )
    expect(() => discoverBlocks(m)).toThrow(/2 residual chains of equal length 1/)
  })

  it('refuses a graph without residual Adds', () => {
    const m = graphOf(
      [
        node('MatMul', ['h0', 'w0'], ['x'], 'n1'),
        node('Relu', ['x'], ['y'], 'n2'),
        node('MatMul', ['y', 'w1'], ['logits'], 'n3'),
      ],
      ['w0', 'w1'],
    )
    expect(() => discoverBlocks(m)).toThrow(/no residual Add/)
  })

  it('refuses a chain with no repeating structure unless the block count is given', () => {
    const m = graphOf(
      [
        node('Relu', ['h0'], ['b0'], 'n1'),
        node('Add', ['h0', 'b0'], ['h1'], 'n2'),
        node('Tanh', ['h1'], ['b1'], 'n3'),
        node('Add', ['b1', 'h1'], ['h2'], 'n4'),
        node('Sigmoid', ['h2'], ['b2'], 'n5'),
        node('Add', ['h2', 'b2'], ['h3'], 'n6'),
        node('MatMul', ['h3', 'w0'], ['logits'], 'n7'),
      ],
      ['w0'],
    )
    expect(() => discoverBlocks(m)).toThrow(/no repeating block structure/)
    const s = discoverBlocks(m, { numBlocks: 3 })
    expect(s.hiddenStates).toEqual(['h0', 'h1', 'h2', 'h3'])
    expect(s.embedding).toBe('g')
  })

  it('reads block indices from the usual exporter names', () => {
    expect(blockIndexFromName('/model/layers.12/self_attn/MatMul')).toBe(12)
    expect(blockIndexFromName('/transformer/h.3/Add_1')).toBe(3)
    expect(blockIndexFromName('/blocks.0/Add')).toBe(0)
    expect(blockIndexFromName('model.layers.7.mlp')).toBe(7)
    expect(blockIndexFromName('/model/norm/Mul')).toBeUndefined()
    expect(blockIndexFromName('/lm_head/MatMul')).toBeUndefined()
  })
})
