import { GRAM_WASM_BASE64 } from './gram-wasm.js'

// The WebAssembly global exists in Node ≥ 8 and every browser, but its types live in lib.dom, which the
// workspace does not load ("types": ["node"], lib ES2023): declare the few members used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(pages: number): number
}
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: unknown }
}

interface GramModule {
  readonly memory: WasmMemory
  readonly gram: (n: number, d: number, z: number, out: number, r0: number, r1: number) => void
  readonly cross: (
    n: number,
    m: number,
    a: number,
    nn: number,
    b: number,
    out: number,
    r0: number,
    r1: number,
  ) => void
}

/** Memory kept between calls up to this size; a larger instance is dropped after use so GC can reclaim it. */
const KEEP_BYTES = 256 * 1024 * 1024
let cached: GramModule | null | undefined
/** Rows summed per call into the module (a multiple of the kernel's 256-row block). */
const CALL_ROWS = 256

function load(): GramModule | null {
  if (cached !== undefined) return cached
  try {
    const bin = atob(GRAM_WASM_BASE64)
    const bytes = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
    if (!WebAssembly.validate(bytes)) {
      cached = null
      return null
    }
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {})
    const ex = instance.exports as unknown as GramModule
    cached = { memory: ex.memory, gram: ex.gram, cross: ex.cross }
    // warm-up on zeros (≈2M inner iterations) so V8's dynamic tiering compiles the optimised code early
    const need = 512 * 64 * 8 + 64 * 64 * 8
    if (ex.memory.buffer.byteLength < need)
      ex.memory.grow(Math.ceil((need - ex.memory.buffer.byteLength) / 65536))
    for (let r = 0; r < 4; r++) ex.gram(512, 64, 0, 512 * 64 * 8, 0, 512)
    for (let r = 0; r < 4; r++) ex.cross(512, 32, 0, 32, 0, 512 * 64 * 8, 0, 512)
  } catch {
    cached = null // no WebAssembly or no SIMD: callers fall back to the JS kernel
  }
  return cached
}

/** True when the f64x2 SIMD kernel can run here (WebAssembly with SIMD). */
export function simdAvailable(): boolean {
  return load() !== null
}

/**
 * Upper triangle of ZᵀZ (column-major Z, n×d) with the WebAssembly f64x2 kernel of wasm/gram.wat:
 * Z is copied into the module's memory, padded to an even number of rows and a multiple of 4
 * columns with zeros. Writes out[a*d+b] for a ≤ b and returns `out`, or returns null when SIMD
 * WebAssembly is unavailable (or the data needs more than 2 GiB).
 */
export function gramUpperSimd(n: number, d: number, z: Float64Array, out: Float64Array): Float64Array | null {
  const mod = load()
  if (mod === null) return null
  out.fill(0)
  const nP = n + (n & 1)
  const dP = (d + 3) & ~3
  const zBytes = nP * dP * 8
  const need = zBytes + dP * dP * 8
  if (need > 2 ** 31 - 65536) return null
  const have = mod.memory.buffer.byteLength
  if (need > have) mod.memory.grow(Math.ceil((need - have) / 65536))
  const view = new Float64Array(mod.memory.buffer, 0, need / 8)
  view.fill(0)
  for (let j = 0; j < d; j++) view.set(z.subarray(j * n, (j + 1) * n), j * nP)
  // row blocks in separate calls: the first ones run baseline code while V8 tiers the function up
  for (let r0 = 0; r0 < nP; r0 += CALL_ROWS) mod.gram(nP, dP, 0, zBytes, r0, Math.min(nP, r0 + CALL_ROWS))
  const c = new Float64Array(mod.memory.buffer, zBytes, dP * dP)
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) out[a * d + b] = c[a * dP + b]!
  if (mod.memory.buffer.byteLength > KEEP_BYTES) cached = undefined
  return out
}

function ensureMemory(mod: GramModule, bytes: number): boolean {
  if (bytes > 2 ** 31 - 65536) return false
  const have = mod.memory.buffer.byteLength
  if (bytes > have) mod.memory.grow(Math.ceil((bytes - have) / 65536))
  return true
}

/**
 * out = A·Bᵀ (row-major A m×k, B n×k, out m×n) with the WebAssembly f64x2 kernel: every entry is a
 * dot product of two contiguous rows, summed in 256-long blocks (fixed order). Returns `out`, or null
 * when SIMD WebAssembly is unavailable or the operands need more than 2 GiB.
 */
export function gemmABtSimd(
  m: number,
  n: number,
  k: number,
  a: Float64Array,
  b: Float64Array,
  out: Float64Array,
): Float64Array | null {
  const mod = load()
  if (mod === null) return null
  const kP = k + (k & 1)
  const mP = m + (m & 1)
  const nP = (n + 3) & ~3
  const aOff = 0
  const bOff = mP * kP * 8
  const oOff = bOff + nP * kP * 8
  const need = oOff + mP * nP * 8
  if (!ensureMemory(mod, need)) return null
  const view = new Float64Array(mod.memory.buffer, 0, need / 8)
  if (kP === k) {
    view.set(a.subarray(0, m * k), 0)
    view.set(b.subarray(0, n * k), bOff / 8)
    view.fill(0, m * k, bOff / 8)
    view.fill(0, bOff / 8 + n * k)
  } else {
    view.fill(0)
    for (let i = 0; i < m; i++) view.set(a.subarray(i * k, (i + 1) * k), i * kP)
    for (let j = 0; j < n; j++) view.set(b.subarray(j * k, (j + 1) * k), bOff / 8 + j * kP)
  }
  for (let r0 = 0; r0 < kP; r0 += CALL_ROWS)
    mod.cross(kP, mP, aOff, nP, bOff, oOff, r0, Math.min(kP, r0 + CALL_ROWS))
  const c = new Float64Array(mod.memory.buffer, oOff, mP * nP)
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = c[i * nP + j]!
  if (mod.memory.buffer.byteLength > KEEP_BYTES) cached = undefined
  return out
}
