// A small append-only ONNX graph builder: unique value names, nodes, cached constants, and
// initializers that are either raw bytes (materialised views) or external-data references straight
// into the checkpoint's safetensors shards (no copy in JavaScript; ONNX Runtime reads the bytes).
// Nodes go to the current target list, which `subgraph` swaps so that `If` branches are built with
// the same calls as the main graph.
import { create } from '@bufbuild/protobuf'
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
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf'

/** The default-domain opset the HF graphs use (LayerNormalization, ReduceMean with an axes attribute). */
export const HF_OPSET = 17

export type Attr =
  | { readonly i: number }
  | { readonly f: number }
  | { readonly ints: readonly number[] }
  | { readonly g: GraphProto }

export const DT = TensorProto_DataType

function attribute(name: string, a: Attr): AttributeProto {
  if ('i' in a)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(a.i) })
  if ('f' in a)
    return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: a.f })
  if ('ints' in a)
    return create(AttributeProtoSchema, {
      name,
      type: AttributeProto_AttributeType.INTS,
      ints: a.ints.map((v) => BigInt(v)),
    })
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.GRAPH, g: a.g })
}

/** A value-info entry; string dims are symbolic. */
export function valueInfo(
  name: string,
  elemType: number,
  shape: readonly (number | string)[],
): ValueInfoProto {
  const dim = shape.map((v) =>
    create(TensorShapeProto_DimensionSchema, {
      value: typeof v === 'number' ? { case: 'dimValue', value: BigInt(v) } : { case: 'dimParam', value: v },
    }),
  )
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, { elemType, shape: create(TensorShapeProtoSchema, { dim }) }),
      },
    }),
  })
}

export class GraphBuilder {
  readonly initializers: TensorProto[] = []
  readonly inputs: ValueInfoProto[] = []
  readonly outputs: ValueInfoProto[] = []
  private nodes: NodeProto[] = []
  private readonly main = this.nodes
  private count = 0
  private readonly consts = new Map<string, string>()

  /** A fresh value name `<hint>_<n>` (names are unique across the graph and its subgraphs). */
  fresh(hint: string): string {
    return `${hint}_${this.count++}`
  }

  /** Appends a node; returns its output names. */
  node(
    op: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, Attr>> = {},
    outputs = 1,
    domain = '',
  ): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(op.toLowerCase()))
    this.nodes.push(
      create(NodeProtoSchema, {
        opType: op,
        domain,
        name: `${op}_${this.count++}`,
        input: [...inputs],
        output: out,
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    )
    return out
  }

  /** `node` with one output. */
  op(op: string, inputs: readonly string[], attrs: Readonly<Record<string, Attr>> = {}): string {
    return this.node(op, inputs, attrs)[0]!
  }

  /** A float32 constant initializer (cached by value). */
  f32(
    values: readonly number[],
    dims: readonly number[] = values.length === 1 ? [] : [values.length],
  ): string {
    const key = `f:${dims.join('x')}:${values.join(',')}`
    let name = this.consts.get(key)
    if (name === undefined) {
      name = this.fresh('cf')
      const data = Float32Array.from(values)
      this.raw(name, DT.FLOAT, dims, new Uint8Array(data.buffer))
      this.consts.set(key, name)
    }
    return name
  }

  /** An int64 constant initializer (cached by value). */
  i64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i:${dims.join('x')}:${values.join(',')}`
    let name = this.consts.get(key)
    if (name === undefined) {
      name = this.fresh('ci')
      this.initializers.push(
        create(TensorProtoSchema, {
          name,
          dims: dims.map(BigInt),
          dataType: DT.INT64,
          int64Data: values.map((v) => BigInt(v)),
        }),
      )
      this.consts.set(key, name)
    }
    return name
  }

  /** A value computed once and cached under `key` (shape tensors and the like). */
  cached(key: string, make: () => string): string {
    let name = this.consts.get(key)
    if (name === undefined) {
      const saved = this.nodes
      this.nodes = this.main
      try {
        name = make()
      } finally {
        this.nodes = saved
      }
      this.consts.set(key, name)
    }
    return name
  }

  /** An initializer from raw little-endian bytes (not copied: the array is referenced until encoding). */
  raw(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array<ArrayBuffer>): void {
    this.initializers.push(
      create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType, rawData: bytes }),
    )
  }

  /** An initializer whose bytes ONNX Runtime reads from `location` (relative to the model folder). */
  external(
    name: string,
    dataType: number,
    dims: readonly number[],
    location: string,
    offset: number,
    length: number,
  ): void {
    this.initializers.push(
      create(TensorProtoSchema, {
        name,
        dims: dims.map(BigInt),
        dataType,
        dataLocation: TensorProto_DataLocation.EXTERNAL,
        externalData: [
          create(StringStringEntryProtoSchema, { key: 'location', value: location }),
          create(StringStringEntryProtoSchema, { key: 'offset', value: String(offset) }),
          create(StringStringEntryProtoSchema, { key: 'length', value: String(length) }),
        ],
      }),
    )
  }

  /**
   * Builds a subgraph (an `If` branch): `body` appends nodes with the usual calls and returns the
   * values the branch outputs; each is passed through an Identity so that branch outputs are
   * produced inside the branch.
   */
  subgraph(name: string, body: () => readonly string[]): GraphProto {
    const saved = this.nodes
    const nodes: NodeProto[] = []
    this.nodes = nodes
    let outs: string[]
    try {
      outs = body().map((v) => this.op('Identity', [v]))
    } finally {
      this.nodes = saved
    }
    return create(GraphProtoSchema, {
      name,
      node: nodes,
      output: outs.map((o) => create(ValueInfoProtoSchema, { name: o })),
    })
  }

  model(name: string): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: '@mi-prun/adapter-onnx',
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(HF_OPSET) })],
      graph: create(GraphProtoSchema, {
        name,
        node: this.main,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      }),
    })
  }
}
