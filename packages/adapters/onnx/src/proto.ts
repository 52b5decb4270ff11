// ONNX protobuf glue: decode, encode, int64 conversion and small builders. Everything that touches
// the wire format lives here, so the schema library can be swapped in one place.
//
// Schema choice: `onnx-buf` (ONNX 1.20 schema, @bufbuild/protobuf v2) rather than `onnx-proto` 8.0.1
// (ONNX 1.10.2 schema, protobufjs 6). Two reasons: (1) protobuf-es keeps fields it does not know and
// writes them back, while protobufjs drops them on re-encode, so a graph from a newer exporter
// survives our surgery byte-for-byte outside the parts we edit; (2) int64 fields are `bigint`, so
// there is no `Long` to mis-compare with `===`. The conversion to `number` is still explicit and
// range-checked (`toSafeInt`).
import { fromBinary, toBinary } from '@bufbuild/protobuf'
import {
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf'
import { PruneError } from '@mi-prun/core'

export const PKG = '[@mi-prun/adapter-onnx]'

export type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto }

/** Converts an int64 field to a JS number, refusing values outside ±2^53. */
export function toSafeInt(v: bigint | number, what: string): number {
  const n = typeof v === 'bigint' ? Number(v) : v
  if (!Number.isSafeInteger(n) || (typeof v === 'bigint' && BigInt(n) !== v)) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${PKG} ${what} = ${String(v)} is not a safe integer: the file is corrupt or not an ONNX model`,
    )
  }
  return n
}

/**
 * Decodes ONNX bytes. Truncated or foreign bytes throw INVALID_CHECKPOINT; so does a message that
 * decodes but is not a usable model (no graph, no nodes, no opset).
 */
export function decodeModel(bytes: Uint8Array, where: string): ModelProto {
  let model: ModelProto
  try {
    model = fromBinary(ModelProtoSchema, bytes)
  } catch (cause) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${PKG} ${where} is not a valid ONNX protobuf (${(cause as Error).message}): the file is truncated or not an .onnx model; re-export or re-download it`,
      { cause },
    )
  }
  const g = model.graph
  if (g === undefined || g.node.length === 0 || model.opsetImport.length === 0 || model.irVersion <= 0n) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${PKG} ${where} decodes but is not an ONNX model (ir_version=${String(model.irVersion)}, ${model.opsetImport.length} opset imports, ` +
        `${g?.node.length ?? 0} nodes): the file is truncated or not an .onnx model`,
    )
  }
  return model
}

/** Encodes a model (a protobuf over 2 GiB cannot be encoded: keep such weights external). */
export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model)
}

/** Deep copy of a model (via the wire format: unknown fields survive). */
export function cloneModel(model: ModelProto): ModelProto {
  return fromBinary(ModelProtoSchema, toBinary(ModelProtoSchema, model))
}

/** The default-domain opset version of a model, or undefined. */
export function defaultOpset(model: ModelProto): number | undefined {
  const o = model.opsetImport.find((x) => x.domain === '' || x.domain === 'ai.onnx')
  return o === undefined ? undefined : toSafeInt(o.version, 'opset_import.version')
}

/** True when the initializer's bytes live in an external file. */
export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === TensorProto_DataLocation.EXTERNAL
}

/** Reads `location`, `offset`, `length` of an externally stored tensor. */
export function externalRef(t: TensorProto): {
  location: string
  offset: number
  length: number | undefined
} {
  let location: string | undefined
  let offset = 0
  let length: number | undefined
  for (const e of t.externalData) {
    if (e.key === 'location') location = e.value
    else if (e.key === 'offset') offset = Number(e.value)
    else if (e.key === 'length') length = Number(e.value)
  }
  if (
    location === undefined ||
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    (length !== undefined && (!Number.isSafeInteger(length) || length < 0))
  ) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${PKG} initializer '${t.name}' has malformed external_data entries: re-export the model`,
    )
  }
  if (location.startsWith('/') || location.split(/[\\/]/).includes('..')) {
    throw new PruneError(
      'INVALID_CHECKPOINT',
      `${PKG} initializer '${t.name}' points outside the model folder ('${location}'): refusing to read it`,
    )
  }
  return { location, offset, length }
}

/** Number of elements of an initializer (product of dims). */
export function numElements(t: TensorProto): number {
  let n = 1
  for (const d of t.dims) n *= toSafeInt(d, `dims of '${t.name}'`)
  return n
}

/** True for floating-point initializers (weights), which are what `parameters` counts. */
export function isFloatTensor(t: TensorProto): boolean {
  return [
    TensorProto_DataType.FLOAT,
    TensorProto_DataType.FLOAT16,
    TensorProto_DataType.BFLOAT16,
    TensorProto_DataType.DOUBLE,
  ].includes(t.dataType)
}

/** Every tensor name a node reads, including names its subgraphs (If/Loop/Scan bodies) read from outer scope. */
export function nodeReads(node: NodeProto, out: string[] = []): string[] {
  for (const i of node.input) if (i !== '') out.push(i)
  for (const a of node.attribute) {
    const graphs = a.g !== undefined ? [a.g, ...a.graphs] : a.graphs
    for (const g of graphs) for (const n of g.node) nodeReads(n, out)
  }
  return out
}

/** Renames tensor references in nodes (recursively into subgraphs), through `map`. */
export function renameReads(nodes: readonly NodeProto[], map: ReadonlyMap<string, string>): void {
  for (const node of nodes) {
    for (let k = 0; k < node.input.length; k++) {
      const r = map.get(node.input[k]!)
      if (r !== undefined) node.input[k] = r
    }
    for (const a of node.attribute) {
      const graphs = a.g !== undefined ? [a.g, ...a.graphs] : a.graphs
      for (const g of graphs) renameReads(g.node, map)
    }
  }
}
