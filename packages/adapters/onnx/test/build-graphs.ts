// Small seeded decoder-like ONNX graphs built in TS for the structure tests (no files on disk).
// Each block has two residual branches, like a pre-norm transformer:
//   a = h + MatMul(Tanh(MatMul(h, Wa) + CumSum_seq(present.k) + CumSum_seq(present.v)), Wb)  ("attention": causal, reads/writes KV)
//   h' = a + MatMul(Relu(MatMul(a, Wc)), Wd)                           ("MLP")
// then logits = MatMul(h_T * gamma, Wout). The reference forward below computes the same in float64.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { create, toBinary } from '@bufbuild/protobuf'
import { createRng } from '@mi-prun/core'
import {
  AttributeProto_AttributeType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf'

export interface ToyOptions {
  readonly blocks: number
  readonly d?: number
  readonly vocab?: number
  readonly seed?: number
  /** 'hf': /model/layers.N/... names; 'opaque': n0, n1, ...; */
  readonly names?: 'hf' | 'opaque'
  /** Add past_key_values.N.key/value inputs and present.N.key/value outputs. */
  readonly kv?: boolean
  readonly opset?: number
}

export interface ToyWeights {
  readonly d: number
  readonly vocab: number
  readonly emb: Float32Array
  readonly blocks: {
    wa: Float32Array
    wb: Float32Array
    wc: Float32Array
    wd: Float32Array
    wk: Float32Array
    wv: Float32Array
  }[]
  readonly gamma: Float32Array
  readonly wout: Float32Array
}

function dim(v: number | string) {
  return create(TensorShapeProto_DimensionSchema, {
    value: typeof v === 'number' ? { case: 'dimValue', value: BigInt(v) } : { case: 'dimParam', value: v },
  })
}
export function valueInfo(
  name: string,
  elemType: number,
  shape: readonly (number | string)[],
): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType,
          shape: create(TensorShapeProtoSchema, { dim: shape.map(dim) }),
        }),
      },
    }),
  })
}
export function floatTensor(name: string, dims: readonly number[], data: Float32Array): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: TensorProto_DataType.FLOAT,
    rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
  })
}
export function int64Tensor(name: string, dims: readonly number[], data: readonly number[]): TensorProto {
  return create(TensorProtoSchema, {
    name,
    dims: dims.map(BigInt),
    dataType: TensorProto_DataType.INT64,
    int64Data: data.map(BigInt),
  })
}
export function node(
  opType: string,
  input: string[],
  output: string[],
  name: string,
  attrs: { name: string; i?: number }[] = [],
): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    input,
    output,
    name,
    attribute: attrs.map((a) =>
      create(AttributeProtoSchema, {
        name: a.name,
        type: AttributeProto_AttributeType.INT,
        i: BigInt(a.i ?? 0),
      }),
    ),
  })
}

/** Builds the toy model and returns it with its weights (for the float64 reference). */
export function buildToyModel(o: ToyOptions): { model: ModelProto; weights: ToyWeights } {
  const T = o.blocks
  const d = o.d ?? 8
  const V = o.vocab ?? 11
  const rng = createRng(o.seed ?? 1)
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => rng.normal() * s)
  let counter = 0
  const opaque = o.names === 'opaque'
  const nm = (scope: string, op: string) => (opaque ? `n${counter++}` : `${scope}/${op}_${counter++}`)
  const tn = (scope: string, op: string) => (opaque ? `t${counter++}` : `${scope}/${op}_output_${counter++}`)
  const nodes: NodeProto[] = []
  const inits: TensorProto[] = []
  const inputs: ValueInfoProto[] = [
    valueInfo('input_ids', TensorProto_DataType.INT64, ['batch_size', 'sequence_length']),
  ]
  const outputs: ValueInfoProto[] = [
    valueInfo('logits', TensorProto_DataType.FLOAT, ['batch_size', 'sequence_length', V]),
  ]
  const emb = rand(V * d, 1)
  const wname = (s: string) => (opaque ? `w${counter++}` : s)
  const embName = wname('model.embed_tokens.weight')
  inits.push(floatTensor(embName, [V, d], emb))
  inits.push(int64Tensor(wname('axis_2'), [], [2]))
  const axesName = inits[inits.length - 1]!.name
  inits.push(int64Tensor(wname('axes_1'), [1], [1]))
  const axes1 = inits[inits.length - 1]!.name
  let h = tn('/model/embed_tokens', 'Gather')
  nodes.push(node('Gather', [embName, 'input_ids'], [h], nm('/model/embed_tokens', 'Gather')))
  const blocks: ToyWeights['blocks'] = []
  for (let i = 0; i < T; i++) {
    const s = `/model/layers.${i}`
    const w = {
      wa: rand(d * d, 0.4),
      wb: rand(d * d, 0.3),
      wc: rand(d * 2 * d, 0.4),
      wd: rand(2 * d * d, 0.3),
      wk: rand(d * d, 0.3),
      wv: rand(d * d, 0.3),
    }
    blocks.push(w)
    const names = ['wa', 'wb', 'wc', 'wd', 'wk', 'wv'].map((k) => wname(`model.layers.${i}.${k}`))
    inits.push(
      floatTensor(names[0]!, [d, d], w.wa),
      floatTensor(names[1]!, [d, d], w.wb),
      floatTensor(names[2]!, [d, 2 * d], w.wc),
    )
    inits.push(
      floatTensor(names[3]!, [2 * d, d], w.wd),
      floatTensor(names[4]!, [d, d], w.wk),
      floatTensor(names[5]!, [d, d], w.wv),
    )
    // KV: present.k = Concat(past.k, Unsqueeze(h Wk, 1)) along axis 2; same for v.
    const kvSum: string[] = []
    for (const [kind, wn] of [
      ['key', names[4]!],
      ['value', names[5]!],
    ] as const) {
      const k = tn(`${s}/self_attn/${kind}`, 'MatMul')
      nodes.push(node('MatMul', [h, wn], [k], nm(`${s}/self_attn/${kind}`, 'MatMul')))
      const ku = tn(`${s}/self_attn/${kind}`, 'Unsqueeze')
      nodes.push(node('Unsqueeze', [k, axes1], [ku], nm(`${s}/self_attn/${kind}`, 'Unsqueeze')))
      let full = ku
      if (o.kv) {
        const past = `past_key_values.${i}.${kind}`
        inputs.push(valueInfo(past, TensorProto_DataType.FLOAT, ['batch_size', 1, 'past_sequence_length', d]))
        full = `present.${i}.${kind}`
        nodes.push(
          create(NodeProtoSchema, {
            opType: 'Concat',
            input: [past, ku],
            output: [full],
            name: nm(`${s}/self_attn`, 'Concat'),
            attribute: [
              create(AttributeProtoSchema, { name: 'axis', type: AttributeProto_AttributeType.INT, i: 2n }),
            ],
          }),
        )
        outputs.push(
          valueInfo(full, TensorProto_DataType.FLOAT, ['batch_size', 1, 'total_sequence_length', d]),
        )
      }
      // Causal: position t sees the running sum of k (or v) over positions <= t. (Valid for an
      // empty past, which is all the tests feed.)
      const c = tn(`${s}/self_attn/${kind}`, 'CumSum')
      nodes.push(node('CumSum', [full, axesName], [c], nm(`${s}/self_attn/${kind}`, 'CumSum')))
      const r = tn(`${s}/self_attn/${kind}`, 'Squeeze')
      nodes.push(node('Squeeze', [c, axes1], [r], nm(`${s}/self_attn/${kind}`, 'Squeeze')))
      kvSum.push(r)
    }
    const kvAll = tn(`${s}/self_attn`, 'Add')
    nodes.push(node('Add', [kvSum[0]!, kvSum[1]!], [kvAll], nm(`${s}/self_attn`, 'Add')))
    const a1 = tn(`${s}/self_attn`, 'MatMul')
    nodes.push(node('MatMul', [h, names[0]!], [a1], nm(`${s}/self_attn`, 'MatMul')))
    const a2 = tn(`${s}/self_attn`, 'Add')
    nodes.push(node('Add', [a1, kvAll], [a2], nm(`${s}/self_attn`, 'Add')))
    const a3 = tn(`${s}/self_attn`, 'Tanh')
    nodes.push(node('Tanh', [a2], [a3], nm(`${s}/self_attn`, 'Tanh')))
    const a4 = tn(`${s}/self_attn`, 'MatMul')
    nodes.push(node('MatMul', [a3, names[1]!], [a4], nm(`${s}/self_attn`, 'MatMul')))
    const r1 = tn(s, 'Add')
    nodes.push(node('Add', [h, a4], [r1], nm(s, 'Add')))
    const m1 = tn(`${s}/mlp`, 'MatMul')
    nodes.push(node('MatMul', [r1, names[2]!], [m1], nm(`${s}/mlp`, 'MatMul')))
    const m2 = tn(`${s}/mlp`, 'Relu')
    nodes.push(node('Relu', [m1], [m2], nm(`${s}/mlp`, 'Relu')))
    const m3 = tn(`${s}/mlp`, 'MatMul')
    nodes.push(node('MatMul', [m2, names[3]!], [m3], nm(`${s}/mlp`, 'MatMul')))
    const r2 = tn(s, 'Add')
    nodes.push(node('Add', [m3, r1], [r2], nm(s, 'Add'))) // branch first: the skip input can be either operand
    h = r2
  }
  const gamma = rand(d, 0.5).map((x) => 1 + x)
  const wout = rand(d * V, 0.5)
  const gName = wname('model.norm.weight')
  const oName = wname('lm_head.weight')
  inits.push(floatTensor(gName, [d], gamma), floatTensor(oName, [d, V], wout))
  const n1 = tn('/model/norm', 'Mul')
  nodes.push(node('Mul', [h, gName], [n1], nm('/model/norm', 'Mul')))
  nodes.push(node('MatMul', [n1, oName], ['logits'], nm('/lm_head', 'MatMul')))
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'mi-prun-test',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(o.opset ?? 14) })],
    graph: create(GraphProtoSchema, {
      name: 'toy',
      node: nodes,
      initializer: inits,
      input: inputs,
      output: outputs,
    }),
  })
  return { model, weights: { d, vocab: V, emb, blocks, gamma, wout } }
}

/**
 * Float64 reference forward of the toy model with empty KV cache: returns h_0..h_T and logits for
 * one sequence (rows = tokens). Skipped blocks pass h through.
 */
export function toyReference(
  w: ToyWeights,
  ids: readonly number[],
  skip: ReadonlySet<number> = new Set(),
): { hidden: Float64Array[]; logits: Float64Array } {
  const { d, vocab: V } = w
  const S = ids.length
  const mm = (x: Float64Array, W: Float32Array, n: number, k: number, m: number) => {
    const out = new Float64Array(n * m)
    for (let r = 0; r < n; r++)
      for (let j = 0; j < m; j++) {
        let s = 0
        for (let t = 0; t < k; t++) s += x[r * k + t]! * W[t * m + j]!
        out[r * m + j] = s
      }
    return out
  }
  let h = new Float64Array(S * d)
  ids.forEach((id, r) => {
    for (let j = 0; j < d; j++) h[r * d + j] = w.emb[id * d + j]!
  })
  const hidden = [h]
  w.blocks.forEach((b, i) => {
    if (skip.has(i)) {
      hidden.push(h)
      return
    }
    const k = mm(h, b.wk, S, d, d)
    const v = mm(h, b.wv, S, d, d)
    const kv = new Float64Array(d)
    const a1 = mm(h, b.wa, S, d, d)
    for (let r = 0; r < S; r++) {
      for (let j = 0; j < d; j++) {
        kv[j] += k[r * d + j]! + v[r * d + j]!
        a1[r * d + j] = Math.tanh(a1[r * d + j]! + kv[j]!)
      }
    }
    const a4 = mm(a1, b.wb, S, d, d)
    const r1 = h.map((x, q) => x + a4[q]!)
    const m1 = mm(r1, b.wc, S, d, 2 * d).map((x) => Math.max(0, x))
    const m3 = mm(m1, b.wd, S, 2 * d, d)
    h = r1.map((x, q) => x + m3[q]!)
    hidden.push(h)
  })
  const n1 = h.map((x, q) => x * w.gamma[q % d]!)
  return { hidden, logits: mm(n1, w.wout, S, d, V) }
}

/** Moves every float initializer's bytes into `<file>_data` (4-byte aligned) and returns the data bytes. */
export function externalize(model: ModelProto, dataName: string): Uint8Array {
  const chunks: Uint8Array[] = []
  let pos = 0
  for (const t of model.graph!.initializer) {
    if (t.dataType !== TensorProto_DataType.FLOAT || t.rawData.length === 0) continue
    const bytes = t.rawData
    t.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: dataName }),
      create(StringStringEntryProtoSchema, { key: 'offset', value: String(pos) }),
      create(StringStringEntryProtoSchema, { key: 'length', value: String(bytes.length) }),
    ]
    t.dataLocation = TensorProto_DataLocation.EXTERNAL
    t.rawData = new Uint8Array(0)
    chunks.push(bytes)
    pos += bytes.length
  }
  const out = new Uint8Array(pos)
  let o = 0
  for (const c of chunks) (out.set(c, o), (o += c.length))
  return out
}

/**
 * Writes a transformers.js-style folder for a toy model: config.json, a stub tokenizer file,
 * onnx/model.onnx (with KV cache) and onnx/model_no_past.onnx; optionally with external data.
 */
export function writeToyFolder(dir: string, o: ToyOptions & { external?: boolean }): ToyWeights {
  mkdirSync(join(dir, 'onnx'), { recursive: true })
  const kv = buildToyModel({ ...o, kv: true })
  const plain = buildToyModel({ ...o, kv: false })
  for (const [name, m] of [
    ['model.onnx', kv.model],
    ['model_no_past.onnx', plain.model],
  ] as const) {
    if (o.external === true) writeFileSync(join(dir, 'onnx', `${name}_data`), externalize(m, `${name}_data`))
    writeFileSync(join(dir, 'onnx', name), toBinary(ModelProtoSchema, m))
  }
  const cfg = {
    architectures: ['ToyForCausalLM'],
    model_type: 'toy',
    num_hidden_layers: o.blocks,
    hidden_size: kv.weights.d,
    vocab_size: kv.weights.vocab,
    max_position_embeddings: 64,
    layer_types: Array.from({ length: o.blocks }, (_, i) => (i % 2 === 0 ? 'full' : 'sliding')),
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2))
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 64 }))
  return kv.weights
}
