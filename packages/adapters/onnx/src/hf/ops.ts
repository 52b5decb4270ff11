// `Ops<string>` for ONNX Runtime: every method appends ONNX nodes to a graph and returns the name of
// the value it computed, so running the families' generic program (`embedding`, `block`, `head`)
// *builds* the decoder graph. Activations are 2-D [N = B·S, features]; attention reshapes to
// [B, KV, G·S, hd] so grouped-query attention needs no repeated keys. The exact semantics of every
// op are those of the float64 reference engine in @mi-prun/families (reference.ts).
import { PruneError } from '@mi-prun/core'
import type {
  Activation,
  Arch,
  AttentionSpec,
  Linear,
  MoeSpec,
  NormSpec,
  Ops,
  RotarySpec,
  WeightRef,
} from '@mi-prun/families'
import { viewWeight } from '@mi-prun/families'
import type { Checkpoint } from '@mi-prun/safetensors'
import { PKG } from '../proto.js'
import { DT, type GraphBuilder } from './builder.js'

/** Runtime values of the graph that position-dependent ops read. */
export interface OpsContext {
  /** int64 [B, S] token ids. */
  readonly ids: string
  /** int64 [B, S] absolute positions (learned position tables). */
  readonly positions: string
  /** int64 [1] values B and S (from Shape(ids)). */
  readonly b: string
  readonly s: string
  /** float [N, 1, rotaryDim] cos and sin of each row's position, per rotary table. */
  rotary(table: string): { readonly cos: string; readonly sin: string }
  /** float [S, P+S] additive mask for a window (undefined: full causal). */
  mask(window: number | undefined): string
  /** Past keys/values [B, KV, P, hd] of a block; the present ones are handed to `present`. */
  past(block: number): { readonly k: string; readonly v: string } | undefined
  present(block: number, k: string, v: string): void
}

/** The storage dtype → ONNX element type, for tensors passed to ONNX Runtime without conversion. */
const NATIVE: Readonly<Record<string, number>> = { F32: DT.FLOAT }

/** Binds checkpoint weights to graph initializers, once per distinct view. */
export class WeightBinder {
  private readonly bound = new Map<string, { name: string; transB: boolean }>()
  /** Bytes held in JavaScript for materialised views (the rest is read by ONNX Runtime from the shards). */
  materialisedBytes = 0
  constructor(
    private readonly g: GraphBuilder,
    private readonly ckpt: Checkpoint,
  ) {}

  private stored(ref: WeightRef) {
    const t = this.ckpt.tensors.get(ref.name)
    if (t === undefined)
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${PKG} ${this.ckpt.dir}: the checkpoint has no tensor "${ref.name}"`,
      )
    return t
  }

  /**
   * The initializer for `ref` with the view's shape `shape` ([out, in] for matrices, [n] for vectors).
   * Matrices come back as stored when possible: `transB` says whether the initializer is [out, in]
   * (Gemm transB = 1) or [in, out]. `plain` forces [out, in] rows (embedding tables).
   */
  bind(ref: WeightRef, shape: readonly number[], rows = false): { name: string; transB: boolean } {
    const key = JSON.stringify([ref.name, ref.layout, ref.expert, ref.out, ref.offset, rows])
    const hit = this.bound.get(key)
    if (hit !== undefined) return hit
    const t = this.stored(ref)
    const plain = ref.expert === undefined && ref.out === undefined && ref.offset === undefined
    const native = NATIVE[t.dtype]
    const asStored = plain && native !== undefined && !(rows && ref.layout === 'in-out')
    let result: { name: string; transB: boolean }
    const name = this.g.fresh(ref.name.replace(/[^A-Za-z0-9_.]/g, '_'))
    if (asStored) {
      const dims = ref.layout === 'in-out' ? [shape[1]!, shape[0]!] : [...shape]
      if (t.shape.length !== dims.length || t.shape.some((n, i) => n !== dims[i]))
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${PKG} ${ref.name}: stored shape [${t.shape.join(', ')}], the model needs [${dims.join(', ')}]`,
        )
      this.g.external(name, native, dims, t.file, t.begin, t.end - t.begin)
      result = { name, transB: ref.layout !== 'in-out' }
    } else {
      const v = viewWeight(ref, { data: this.ckpt.readF32(ref.name), shape: t.shape })
      if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i]))
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${PKG} ${ref.name}: view has shape [${v.shape.join(', ')}], the model needs [${shape.join(', ')}]`,
        )
      this.g.raw(
        name,
        DT.FLOAT,
        v.shape,
        new Uint8Array(v.data.buffer as ArrayBuffer, v.data.byteOffset, v.data.byteLength),
      )
      this.materialisedBytes += v.data.byteLength
      result = { name, transB: true }
    }
    this.bound.set(key, result)
    return result
  }
}

export function createOrtOps(g: GraphBuilder, arch: Arch, w: WeightBinder, ctx: OpsContext): Ops<string> {
  /** A shape tensor from parts: numbers are constants, 'B' and 'S' the runtime batch and length. */
  const shape = (parts: readonly (number | 'B' | 'S')[]): string =>
    g.cached(`shape:${parts.join(',')}`, () =>
      g.op(
        'Concat',
        parts.map((p) => (p === 'B' ? ctx.b : p === 'S' ? ctx.s : g.i64([p]))),
        { axis: { i: 0 } },
      ),
    )
  const reshape = (x: string, parts: readonly (number | 'B' | 'S')[]): string =>
    parts.every((p) => typeof p === 'number')
      ? g.op('Reshape', [x, g.i64(parts as number[])])
      : g.op('Reshape', [x, shape(parts)])

  const linear = (x: string, l: Linear): string => {
    const [O, I] = l.shape
    const wt = w.bind(l.weight, [O, I])
    const inputs = [x, wt.name]
    if (l.bias !== undefined) inputs.push(w.bind(l.bias, [O]).name)
    return g.op('Gemm', inputs, { transB: { i: wt.transB ? 1 : 0 } })
  }

  /** Normalisation over the last axis of x (any rank), in float32. */
  const normLast = (x: string, spec: NormSpec): string => {
    const weight = w.bind(spec.weight, [spec.size]).name
    if (spec.kind === 'layer') {
      const inputs = [x, weight]
      if (spec.bias !== undefined) inputs.push(w.bind(spec.bias, [spec.size]).name)
      return g.op('LayerNormalization', inputs, { axis: { i: -1 }, epsilon: { f: spec.eps } })
    }
    // x / sqrt(mean(x²) + eps) · w: the pattern ONNX Runtime fuses into SimplifiedLayerNormalization
    const ms = g.op('ReduceMean', [g.op('Pow', [x, g.f32([2])])], {
      axes: { ints: [-1] },
      keepdims: { i: 1 },
    })
    const rms = g.op('Sqrt', [g.op('Add', [ms, g.f32([spec.eps])])])
    return g.op('Mul', [g.op('Div', [x, rms]), weight])
  }

  const act = (x: string, a: Activation): string => {
    switch (a) {
      case 'silu':
        return g.op('Mul', [x, g.op('Sigmoid', [x])])
      case 'relu':
        return g.op('Relu', [x])
      case 'gelu': {
        const e = g.op('Erf', [g.op('Div', [x, g.f32([Math.SQRT2])])])
        return g.op('Mul', [g.op('Mul', [x, g.f32([0.5])]), g.op('Add', [e, g.f32([1])])])
      }
      case 'gelu_tanh': {
        const x3 = g.op('Mul', [g.op('Pow', [x, g.f32([3])]), g.f32([0.044715])])
        const inner = g.op('Mul', [g.op('Add', [x, x3]), g.f32([Math.sqrt(2 / Math.PI)])])
        const t = g.op('Add', [g.op('Tanh', [inner]), g.f32([1])])
        return g.op('Mul', [g.op('Mul', [x, g.f32([0.5])]), t])
      }
    }
  }

  const softcap = (x: string, c: number): string =>
    g.op('Mul', [g.op('Tanh', [g.op('Div', [x, g.f32([c])])]), g.f32([c])])

  return {
    embedTokens: (ref) => {
      const tab = w.bind(ref, [arch.vocabSize, arch.hiddenSize], true)
      return reshape(g.op('Gather', [tab.name, ctx.ids], { axis: { i: 0 } }), [-1, arch.hiddenSize])
    },
    embedPositions: (ref) => {
      const tab = w.bind(ref, [arch.maxPositions, arch.hiddenSize], true)
      return reshape(g.op('Gather', [tab.name, ctx.positions], { axis: { i: 0 } }), [-1, arch.hiddenSize])
    },
    linear,
    norm: normLast,
    headNorm: (x, heads, hd, spec) => reshape(normLast(reshape(x, [-1, heads, hd]), spec), [-1, heads * hd]),
    rotary: (x, heads, hd, spec: RotarySpec) => {
      const tab = arch.rotary[spec.table]
      if (tab === undefined) throw new RangeError(`${PKG} no rotary table "${spec.table}"`)
      const rd = tab.rotaryDim
      const half = rd / 2
      const { cos, sin } = ctx.rotary(spec.table)
      const x3 = reshape(x, [-1, heads, hd])
      const [xr, pass] =
        rd === hd ? [x3, undefined] : g.node('Split', [x3, g.i64([rd, hd - rd])], { axis: { i: 2 } }, 2)
      const [x1, x2] = g.node('Split', [xr!, g.i64([half, half])], { axis: { i: 2 } }, 2)
      const rot = g.op('Concat', [g.op('Neg', [x2!]), x1!], { axis: { i: 2 } })
      let y = g.op('Add', [g.op('Mul', [xr!, cos]), g.op('Mul', [rot, sin])])
      if (pass !== undefined) y = g.op('Concat', [y, pass], { axis: { i: 2 } })
      return reshape(y, [-1, heads * hd])
    },
    attention: (q, k, v, a: AttentionSpec, blockIndex) => {
      const H = a.numHeads
      const KV = a.numKvHeads
      const hd = a.headDim
      if (H % KV !== 0) throw new RangeError(`${PKG} ${H} heads are not a multiple of ${KV} key/value heads`)
      const G = H / KV
      // q: [N, H·hd] → [B, S, KV, G, hd] → [B, KV, G, S, hd]; k, v: [B, KV, 1, P+S, hd] (broadcast over G)
      const q5 = g.op('Transpose', [reshape(q, ['B', 'S', KV, G, hd])], { perm: { ints: [0, 2, 3, 1, 4] } })
      const heads = (x: string) =>
        g.op('Transpose', [reshape(x, ['B', 'S', KV, hd])], { perm: { ints: [0, 2, 1, 3] } })
      const past = ctx.past(blockIndex)
      const kAll = past === undefined ? heads(k) : g.op('Concat', [past.k, heads(k)], { axis: { i: 2 } })
      const vAll = past === undefined ? heads(v) : g.op('Concat', [past.v, heads(v)], { axis: { i: 2 } })
      ctx.present(blockIndex, kAll, vAll)
      const k5t = g.op('Transpose', [g.op('Unsqueeze', [kAll, g.i64([2])])], {
        perm: { ints: [0, 1, 2, 4, 3] },
      })
      let scores = g.op('Mul', [g.op('MatMul', [q5, k5t]), g.f32([a.scale])])
      if (a.softcap !== undefined) scores = softcap(scores, a.softcap)
      const p = g.op('Softmax', [g.op('Add', [scores, ctx.mask(a.window)])], { axis: { i: -1 } })
      const o5 = g.op('MatMul', [p, g.op('Unsqueeze', [vAll, g.i64([2])])])
      return reshape(g.op('Transpose', [o5], { perm: { ints: [0, 3, 1, 2, 4] } }), [-1, H * hd])
    },
    act,
    add: (a, b) => g.op('Add', [a, b]),
    mul: (a, b) => g.op('Mul', [a, b]),
    scale: (x, s) => g.op('Mul', [x, g.f32([s])]),
    softcap,
    moe: (x, m: MoeSpec) => {
      // Dense evaluation: every expert runs on every row and is weighted by its routing weight, which
      // is exactly 0 outside the row's top k (ONNX TopK puts the lower index first on ties).
      const E = m.experts.length
      const p = g.op('Softmax', [linear(x, m.router)], { axis: { i: -1 } })
      const [vals, idx] = g.node(
        'TopK',
        [p, g.i64([m.topK])],
        { axis: { i: -1 }, largest: { i: 1 }, sorted: { i: 1 } },
        2,
      )
      let wts = vals!
      if (m.normTopK) wts = g.op('Div', [wts, g.op('ReduceSum', [wts, g.i64([-1])], { keepdims: { i: 1 } })])
      const gates = g.op('ScatterElements', [g.op('Mul', [p, g.f32([0])]), idx!, wts], { axis: { i: 1 } })
      const cols = g.node('Split', [gates, g.i64(Array.from({ length: E }, () => 1))], { axis: { i: 1 } }, E)
      let y: string | undefined
      m.experts.forEach((e, i) => {
        const h = g.op('Mul', [act(linear(x, e.gate), m.act), linear(x, e.up)])
        const ye = g.op('Mul', [linear(h, e.down), cols[i]!])
        y = y === undefined ? ye : g.op('Add', [y, ye])
      })
      return y!
    },
  }
}
