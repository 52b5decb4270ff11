/** The storage dtypes mi-prun reads and writes; all are converted to float32 on load. */
export const floatDTypes = Object.freeze({ F32: 4, F16: 2, BF16: 2 } as const)
export type FloatDType = keyof typeof floatDTypes

/** Every dtype name of the safetensors spec, with its size in bytes (for header validation). */
export const specDTypeBytes: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
})

/** True when `d` is one of F32, F16, BF16. */
export function isFloatDType(d: string): d is FloatDType {
  return d === 'F32' || d === 'F16' || d === 'BF16'
}

let f16Table: Float32Array | undefined

function halfTable(): Float32Array {
  if (f16Table !== undefined) return f16Table
  const t = new Float32Array(65536)
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1
    const exp = (h >>> 10) & 0x1f
    const frac = h & 0x3ff
    let v: number
    if (exp === 0) v = sign * frac * 2 ** -24
    else if (exp === 31) v = frac === 0 ? sign * Infinity : NaN
    else v = sign * (1 + frac / 1024) * 2 ** (exp - 15)
    t[h] = v
  }
  f16Table = t
  return t
}

/**
 * Decodes little-endian tensor bytes of a float dtype into float32 (F16 and BF16 are widened
 * exactly): into `into` when given (it must hold at least the decoded length; the filled prefix is
 * returned), else into a new array. `bytes.length` must be a multiple of the element size.
 */
export function decodeFloats(dtype: FloatDType, bytes: Uint8Array, into?: Float32Array): Float32Array {
  const n = bytes.length / floatDTypes[dtype]
  if (into !== undefined && into.length < n)
    throw new RangeError(`[@mi-prun/safetensors] output holds ${into.length} values, ${n} needed`)
  const out = into === undefined ? new Float32Array(n) : into.subarray(0, n)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (dtype === 'F32') {
    if (bytes.byteOffset % 4 === 0) out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n))
    else for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true)
    return out
  }
  if (dtype === 'F16') {
    const t = halfTable()
    for (let i = 0; i < n; i++) out[i] = t[dv.getUint16(2 * i, true)]!
    return out
  }
  const u = new Uint32Array(out.buffer, out.byteOffset, n)
  for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16
  return out
}

/**
 * Encodes float32 values as little-endian bytes of `dtype`. F16 and BF16 round to nearest, ties to
 * even; F16 overflows to ±Infinity and keeps subnormals.
 */
export function encodeFloats(dtype: FloatDType, values: Float32Array): Uint8Array {
  const n = values.length
  if (dtype === 'F32') {
    const out = new Uint8Array(4 * n)
    new Float32Array(out.buffer).set(values)
    return out
  }
  const out = new Uint8Array(2 * n)
  const dv = new DataView(out.buffer)
  const bits = new Uint32Array(values.buffer, values.byteOffset, n)
  for (let i = 0; i < n; i++) {
    const x = bits[i]!
    dv.setUint16(2 * i, dtype === 'BF16' ? toBf16(x) : toF16(x), true)
  }
  return out
}

function toBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff // quiet NaN
  const lsb = (x >>> 16) & 1
  return ((x + 0x7fff + lsb) >>> 16) & 0xffff
}

function toF16(x: number): number {
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  let mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0)
  const e = exp - 127 + 15
  if (e >= 31) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    mant |= 0x800000
    const shift = 14 - e
    const half = 1 << (shift - 1)
    const rest = mant & ((1 << shift) - 1)
    let h = mant >>> shift
    if (rest > half || (rest === half && (h & 1) === 1)) h++
    return sign | h
  }
  let h = (e << 10) | (mant >>> 13)
  const rest = mant & 0x1fff
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++
  return sign | h
}
