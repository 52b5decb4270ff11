// What the weights of a graph are: parameter counts by storage type, quantized weights included.
import { TensorProto_DataType } from 'onnx-buf'
import { isFloatTensor, numElements, toSafeInt, type GraphProto, type NodeProto } from './proto.js'

/** Parameter counts of a graph's weights by storage type. */
export interface WeightSummary {
  /** Weight elements: float initializers plus quantized weights counted as the matrices they encode. */
  readonly parameters: number
  /** Parameters by storage type: `F32`, `F16`, `BF16`, `I8`, `U8`, `Q4` (MatMulNBits with bits=4), ... */
  readonly dtypes: Readonly<Record<string, number>>
  /** The type holding most parameters (`F32`, `F16`, `I8`, `Q4`, ...), or `unknown` without weights. */
  readonly dtype: string
}

const NAMES: Record<number, string> = {
  [TensorProto_DataType.FLOAT]: 'F32',
  [TensorProto_DataType.FLOAT16]: 'F16',
  [TensorProto_DataType.BFLOAT16]: 'BF16',
  [TensorProto_DataType.DOUBLE]: 'F64',
  [TensorProto_DataType.INT8]: 'I8',
  [TensorProto_DataType.UINT8]: 'U8',
  [TensorProto_DataType.INT4]: 'I4',
  [TensorProto_DataType.UINT4]: 'U4',
}

/** Storage-type name of an ONNX element type. */
export function dtypeName(t: number): string {
  return NAMES[t] ?? `onnx:${t}`
}

function intAttr(n: NodeProto, name: string): number | undefined {
  const a = n.attribute.find((x) => x.name === name)
  return a === undefined ? undefined : toSafeInt(a.i, `attribute ${name} of '${n.name}'`)
}

/**
 * Counts the weights of `g`. Float initializers count as themselves. Quantized weights count as the
 * matrices they encode, under their storage type: the int8/uint8 weight of `MatMulInteger` (input B)
 * and of `DequantizeLinear` / `GatherBlockQuantized`, and `MatMulNBits`' packed B as K×N parameters
 * of type `Q<bits>`. Quantization metadata — scales and zero points (of DequantizeLinear, MatMulInteger,
 * MatMulNBits, and the weight scale that quantize_dynamic multiplies with DynamicQuantizeLinear's
 * activation scale) — is not counted.
 */
export function weightSummary(g: GraphProto): WeightSummary {
  const init = new Map(g.initializer.map((t) => [t.name, t]))
  const meta = new Set<string>()
  const special = new Map<string, { count: number; dtype: string }>()
  const dqScales = new Set<string>()
  for (const n of g.node) if (n.opType === 'DynamicQuantizeLinear' && n.output[1]) dqScales.add(n.output[1])
  for (const n of g.node) {
    const at = (k: number): string => n.input[k] ?? ''
    switch (n.opType) {
      case 'MatMulNBits': {
        const K = intAttr(n, 'K')
        const N = intAttr(n, 'N')
        const bits = intAttr(n, 'bits') ?? 4
        if (init.has(at(1)) && K !== undefined && N !== undefined)
          special.set(at(1), { count: K * N, dtype: `Q${bits}` })
        for (const k of [2, 3, 4, 5]) meta.add(at(k))
        break
      }
      case 'DequantizeLinear':
      case 'QuantizeLinear':
      case 'GatherBlockQuantized':
        for (const k of [1, 2]) meta.add(at(k))
        break
      case 'MatMulInteger':
      case 'ConvInteger':
        for (const k of [2, 3]) meta.add(at(k))
        break
      case 'Mul':
        if (dqScales.has(at(0))) meta.add(at(1))
        else if (dqScales.has(at(1))) meta.add(at(0))
        break
      default:
        break
    }
  }
  const dtypes: Record<string, number> = {}
  let parameters = 0
  for (const t of g.initializer) {
    if (meta.has(t.name)) continue
    const sp = special.get(t.name)
    let count: number
    let dtype: string
    if (sp !== undefined) ({ count, dtype } = sp)
    else if (
      isFloatTensor(t) ||
      t.dataType === TensorProto_DataType.INT8 ||
      t.dataType === TensorProto_DataType.UINT8 ||
      t.dataType === TensorProto_DataType.INT4 ||
      t.dataType === TensorProto_DataType.UINT4
    ) {
      count = numElements(t)
      dtype = dtypeName(t.dataType)
    } else continue
    dtypes[dtype] = (dtypes[dtype] ?? 0) + count
    parameters += count
  }
  let dtype = 'unknown'
  let most = 0
  for (const [k, v] of Object.entries(dtypes)) if (v > most) ((most = v), (dtype = k))
  return { parameters, dtypes, dtype }
}
