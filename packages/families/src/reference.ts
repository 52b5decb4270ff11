// The float64 reference engine: every op of `Ops` as plain loops over Float64Array. It is slow and
// exists to be obviously right — the family programs are checked with it against transformers run
// in float64 (agreement ~1e-9), independently of any fast engine's float32 rounding. The fast
// engines (ONNX Runtime, TF.js) are then checked against the same goldens.

import { PruneError } from '@mi-prun/core'
import type {
  Activation,
  Arch,
  AttentionSpec,
  Linear,
  MoeSpec,
  NormSpec,
  RotarySpec,
  WeightRef,
} from './arch.js'
import { block, embedding, head, type Ops } from './ops.js'
import { rotaryCosSin } from './rope.js'
import { type DenseTensor, viewWeight } from './views.js'

const P = '[@mi-prun/families]'

/** [B, S, C] float64 activations. */
export interface RefTensor {
  readonly data: Float64Array<ArrayBufferLike>
  readonly b: number
  readonly s: number
  readonly c: number
}

const t = (
  b: number,
  s: number,
  c: number,
  data: Float64Array<ArrayBufferLike> = new Float64Array(b * s * c),
): RefTensor => ({
  data,
  b,
  s,
  c,
})

/** erf to ~1e-15: Taylor series near 0, Lentz continued fraction for erfc beyond |x| = 3. */
export function erf(x: number): number {
  const ax = Math.abs(x)
  if (ax < 3) {
    let sum = 0
    let term = ax
    for (let n = 0; n < 200; n++) {
      const add = term / (2 * n + 1)
      sum += add
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break
      term *= (-ax * ax) / (n + 1)
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
  let f = ax
  let C = ax
  let D = 0
  for (let n = 1; n < 300; n++) {
    const a = n / 2
    D = ax + a * D
    D = D === 0 ? 1e-300 : 1 / D
    C = ax + a / C
    const delta = C * D
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f
  return Math.sign(x) * (1 - erfc)
}

export function activate(a: Activation, x: number): number {
  switch (a) {
    case 'silu':
      return x / (1 + Math.exp(-x))
    case 'relu':
      return x > 0 ? x : 0
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2))
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))
  }
}

export interface ReferenceRunOptions {
  /** Blocks to skip (identity). */
  readonly skip?: ReadonlySet<number>
  /** Keep h_0..h_T. */
  readonly hiddenStates?: boolean
}

export interface ReferenceResult {
  /** [B·S, V] */
  readonly logits: Float64Array
  /** h_0..h_T, each [B·S, hidden], when requested. */
  readonly hiddenStates?: readonly Float64Array[]
}

/**
 * Runs `arch` in float64 on token ids [batch, seqLen] with weights from `load(name)` (the stored
 * tensor). Full-sequence, no KV cache.
 */
export function runReference(
  arch: Arch,
  load: (name: string) => DenseTensor,
  ids: ArrayLike<number>,
  batch: number,
  seqLen: number,
  options: ReferenceRunOptions = {},
): ReferenceResult {
  const ops = createReferenceOps(arch, load, ids, batch, seqLen)
  let h = embedding(ops, arch)
  const hidden: Float64Array[] = []
  if (options.hiddenStates) hidden.push(h.data.slice())
  for (let i = 0; i < arch.numBlocks; i++) {
    if (!options.skip?.has(i)) h = block(ops, arch, i, h)
    if (options.hiddenStates) hidden.push(h.data.slice())
  }
  const logits = head(ops, arch, h).data
  return options.hiddenStates ? { logits, hiddenStates: hidden } : { logits }
}

/** The reference `Ops` for one batch of token ids (positions 0..seqLen−1). */
export function createReferenceOps(
  arch: Arch,
  load: (name: string) => DenseTensor,
  ids: ArrayLike<number>,
  B: number,
  S: number,
): Ops<RefTensor> {
  const stored = new Map<string, DenseTensor>()
  const get = (ref: WeightRef, shape: readonly number[]): Float32Array => {
    let raw = stored.get(ref.name)
    if (raw === undefined) {
      raw = load(ref.name)
      stored.set(ref.name, raw)
    }
    const v = viewWeight(ref, raw)
    if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i]))
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${P} ${ref.name}: view has shape [${v.shape.join(', ')}], the model needs [${shape.join(', ')}]`,
      )
    return v.data
  }
  const rows = (w: WeightRef, n: number, d: number, pick: (bs: number) => number): RefTensor => {
    const table = get(w, [n, d])
    const out = t(B, S, d)
    for (let r = 0; r < B * S; r++) {
      const id = pick(r)
      if (!(id >= 0 && id < n)) throw new RangeError(`${P} token/position ${id} outside [0, ${n})`)
      for (let j = 0; j < d; j++) out.data[r * d + j] = table[id * d + j]!
    }
    return out
  }
  const linear = (x: RefTensor, l: Linear): RefTensor => {
    const [O, I] = l.shape
    if (x.c !== I)
      throw new RangeError(`${P} linear ${l.weight.name}: input has ${x.c} features, weight expects ${I}`)
    const w = get(l.weight, [O, I])
    const b = l.bias === undefined ? undefined : get(l.bias, [O])
    const y = t(x.b, x.s, O)
    for (let r = 0; r < x.b * x.s; r++) {
      for (let o = 0; o < O; o++) {
        let acc = b === undefined ? 0 : b[o]!
        for (let i = 0; i < I; i++) acc += x.data[r * I + i]! * w[o * I + i]!
        y.data[r * O + o] = acc
      }
    }
    return y
  }
  const normRows = (x: RefTensor, spec: NormSpec, group: number): RefTensor => {
    const w = get(spec.weight, [spec.size])
    const bias = spec.bias === undefined ? undefined : get(spec.bias, [spec.size])
    if (spec.size !== group)
      throw new RangeError(`${P} norm ${spec.weight.name}: size ${spec.size} ≠ ${group}`)
    const y = t(x.b, x.s, x.c)
    const n = x.data.length / group
    for (let r = 0; r < n; r++) {
      const o = r * group
      let mean = 0
      if (spec.kind === 'layer') {
        for (let j = 0; j < group; j++) mean += x.data[o + j]!
        mean /= group
      }
      let ms = 0
      for (let j = 0; j < group; j++) ms += (x.data[o + j]! - mean) ** 2
      const inv = 1 / Math.sqrt(ms / group + spec.eps)
      for (let j = 0; j < group; j++) y.data[o + j] = (x.data[o + j]! - mean) * inv * w[j]! + (bias?.[j] ?? 0)
    }
    return y
  }
  const map = (x: RefTensor, f: (v: number) => number): RefTensor => {
    const y = t(x.b, x.s, x.c)
    for (let i = 0; i < x.data.length; i++) y.data[i] = f(x.data[i]!)
    return y
  }
  const zip = (a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor => {
    if (a.data.length !== b.data.length) throw new RangeError(`${P} shape mismatch ${a.c} vs ${b.c}`)
    const y = t(a.b, a.s, a.c)
    for (let i = 0; i < a.data.length; i++) y.data[i] = f(a.data[i]!, b.data[i]!)
    return y
  }
  const mlpExpert = (
    x: Float64Array<ArrayBufferLike>,
    e: MoeSpec['experts'][number],
    act: Activation,
  ): Float64Array => {
    const one = t(1, 1, x.length, x)
    const g = linear(one, e.gate)
    const u = linear(one, e.up)
    const m = zip(
      map(g, (v) => activate(act, v)),
      u,
      (p, q) => p * q,
    )
    return linear(m, e.down).data
  }
  return {
    embedTokens: (w) => rows(w, arch.vocabSize, arch.hiddenSize, (r) => ids[r]!),
    embedPositions: (w) => rows(w, arch.maxPositions, arch.hiddenSize, (r) => r % S),
    linear,
    norm: (x, spec) => normRows(x, spec, x.c),
    headNorm: (x, heads, hd, spec) => {
      if (x.c !== heads * hd) throw new RangeError(`${P} headNorm: ${x.c} ≠ ${heads}·${hd}`)
      return normRows(x, spec, hd)
    },
    rotary: (x, heads, hd, spec: RotarySpec) => {
      const tab = arch.rotary[spec.table]
      if (tab === undefined) throw new RangeError(`${P} no rotary table "${spec.table}"`)
      const rd = tab.rotaryDim
      const half = rd / 2
      const { cos, sin } = rotaryCosSin(tab, S)
      const y = t(x.b, x.s, x.c, x.data.slice())
      for (let r = 0; r < x.b * x.s; r++) {
        const pos = r % S
        for (let h = 0; h < heads; h++) {
          const o = r * x.c + h * hd
          for (let k = 0; k < rd; k++) {
            const rot = k < half ? -x.data[o + k + half]! : x.data[o + k - half]!
            y.data[o + k] = x.data[o + k]! * cos[pos * rd + k]! + rot * sin[pos * rd + k]!
          }
        }
      }
      return y
    },
    attention: (q, k, v, a: AttentionSpec) => {
      const H = a.numHeads
      const KV = a.numKvHeads
      const hd = a.headDim
      const G = H / KV
      const out = t(q.b, q.s, H * hd)
      const scores = new Float64Array(S)
      for (let b = 0; b < q.b; b++) {
        for (let h = 0; h < H; h++) {
          const kvh = Math.floor(h / G)
          for (let i = 0; i < S; i++) {
            let mx = -Infinity
            for (let j = 0; j <= i; j++) {
              if (a.window !== undefined && i - j >= a.window) {
                scores[j] = -Infinity
                continue
              }
              let s = 0
              const qo = (b * S + i) * H * hd + h * hd
              const ko = (b * S + j) * KV * hd + kvh * hd
              for (let d = 0; d < hd; d++) s += q.data[qo + d]! * k.data[ko + d]!
              s *= a.scale
              if (a.softcap !== undefined) s = Math.tanh(s / a.softcap) * a.softcap
              scores[j] = s
              mx = Math.max(mx, s)
            }
            let z = 0
            for (let j = 0; j <= i; j++) z += scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - mx)
            const oo = (b * S + i) * H * hd + h * hd
            for (let j = 0; j <= i; j++) {
              if (scores[j] === -Infinity) continue
              const p = Math.exp(scores[j]! - mx) / z
              const vo = (b * S + j) * KV * hd + kvh * hd
              for (let d = 0; d < hd; d++) out.data[oo + d] = out.data[oo + d]! + p * v.data[vo + d]!
            }
          }
        }
      }
      return out
    },
    act: (x, a) => map(x, (v) => activate(a, v)),
    add: (a, b) => zip(a, b, (x, y) => x + y),
    mul: (a, b) => zip(a, b, (x, y) => x * y),
    scale: (x, s) => map(x, (v) => v * s),
    softcap: (x, c) => map(x, (v) => Math.tanh(v / c) * c),
    moe: (x, m) => {
      const logits = linear(x, m.router)
      const E = m.experts.length
      const y = t(x.b, x.s, x.c)
      for (let r = 0; r < x.b * x.s; r++) {
        const l = logits.data.subarray(r * E, (r + 1) * E)
        const mx = Math.max(...l)
        const p = Array.from(l, (v) => Math.exp(v - mx))
        const z = p.reduce((s, v) => s + v, 0)
        const order = p.map((v, e) => [v / z, e] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
        const top = order.slice(0, m.topK)
        const norm = m.normTopK ? top.reduce((s, [w]) => s + w, 0) : 1
        const xr = x.data.subarray(r * x.c, (r + 1) * x.c)
        for (const [w, e] of top) {
          const ye = mlpExpert(xr, m.experts[e]!, m.act)
          for (let j = 0; j < x.c; j++) y.data[r * x.c + j] = y.data[r * x.c + j]! + (w / norm) * ye[j]!
        }
      }
      return y
    },
  }
}
