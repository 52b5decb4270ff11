// Builds the ONNX decoder graph of an `Arch` by running the families' generic program on the graph
// `Ops`. Every block sits in an `If` on the bool input `run[i]`, so one session (one copy of the
// weights) serves every skip set, every start block (h_0 ← Where(from_start, h_start, embedding)),
// the forward with hidden states, and KV-cache decoding: block i reads `past_k_i`/`past_v_i`
// [B, KV, P, hd] (empty for a plain forward) and outputs the present ones (a skipped block passes its
// past through). Every hidden state is an output; the head runs only when `want_logits` is true.
import type { Arch, RotaryTable } from '@mi-prun/families'
import { block, embedding, head } from '@mi-prun/families'
import type { Checkpoint } from '@mi-prun/safetensors'
import { DT, GraphBuilder, valueInfo } from './builder.js'
import type { ModelProto } from '../proto.js'
import { createOrtOps, type OpsContext, WeightBinder } from './ops.js'

export interface HfGraph {
  readonly model: ModelProto
  /** Graph output names. */
  readonly logits: string
  readonly hidden: readonly string[]
  /** Per block: past input and present output names. */
  readonly cache: readonly {
    readonly block: number
    readonly pastK: string
    readonly pastV: string
    readonly presentK: string
    readonly presentV: string
    readonly kvHeads: number
    readonly headDim: number
  }[]
  /** Rotary tables used, by input name prefix. */
  readonly rotary: ReadonlyMap<string, RotaryTable>
  /** Distinct attention windows (undefined = full causal), by mask input name. */
  readonly masks: ReadonlyMap<string, number | undefined>
  readonly usesPositions: boolean
  /** Bytes of weights copied into the graph (views, non-f32 storage); the rest stays in the shards. */
  readonly materialisedBytes: number
}

export function buildHfGraph(arch: Arch, ckpt: Checkpoint): HfGraph {
  const g = new GraphBuilder()
  const w = new WeightBinder(g, ckpt)
  const d = arch.hiddenSize
  g.inputs.push(valueInfo('ids', DT.INT64, ['B', 'S']))
  const shapeBS = g.op('Shape', ['ids'])
  const b = g.op('Slice', [shapeBS, g.i64([0]), g.i64([1])])
  const s = g.op('Slice', [shapeBS, g.i64([1]), g.i64([2])])
  const rotary = new Map<string, RotaryTable>()
  const masks = new Map<string, number | undefined>()
  const cache: {
    block: number
    pastK: string
    pastV: string
    presentK: string
    presentV: string
    kvHeads: number
    headDim: number
  }[] = []
  const usesPositions = arch.embedding.positions !== undefined
  if (usesPositions) g.inputs.push(valueInfo('positions', DT.INT64, ['B', 'S']))
  const ctx: OpsContext = {
    ids: 'ids',
    positions: 'positions',
    b,
    s,
    rotary: (table) => {
      const t = arch.rotary[table]!
      const name = `rope_${table}`
      if (!rotary.has(name)) {
        rotary.set(name, t)
        g.inputs.push(valueInfo(`${name}_cos`, DT.FLOAT, ['N', 1, t.rotaryDim]))
        g.inputs.push(valueInfo(`${name}_sin`, DT.FLOAT, ['N', 1, t.rotaryDim]))
      }
      return { cos: `${name}_cos`, sin: `${name}_sin` }
    },
    mask: (window) => {
      const name = window === undefined ? 'mask' : `mask_w${window}`
      if (!masks.has(name)) {
        masks.set(name, window)
        g.inputs.push(valueInfo(name, DT.FLOAT, ['S', 'T']))
      }
      return name
    },
    past: (i) => {
      const a = arch.blocks[i]!.attention
      const entry = {
        block: i,
        pastK: `past_k_${i}`,
        pastV: `past_v_${i}`,
        presentK: '',
        presentV: '',
        kvHeads: a.numKvHeads,
        headDim: a.headDim,
      }
      cache.push(entry)
      g.inputs.push(valueInfo(entry.pastK, DT.FLOAT, ['B', a.numKvHeads, 'P', a.headDim]))
      g.inputs.push(valueInfo(entry.pastV, DT.FLOAT, ['B', a.numKvHeads, 'P', a.headDim]))
      return { k: entry.pastK, v: entry.pastV }
    },
    present: (i, k, v) => {
      const e = cache.find((c) => c.block === i)!
      e.presentK = k
      e.presentV = v
    },
  }
  const ops = createOrtOps(g, arch, w, ctx)
  const hidden: string[] = []
  g.inputs.push(valueInfo('run', DT.BOOL, [arch.numBlocks]))
  g.inputs.push(valueInfo('from_start', DT.BOOL, []))
  g.inputs.push(valueInfo('h_start', DT.FLOAT, ['M', d]))
  g.inputs.push(valueInfo('want_logits', DT.BOOL, []))
  let h = g.op('Where', ['from_start', 'h_start', embedding(ops, arch)])
  hidden.push(h)
  for (let i = 0; i < arch.numBlocks; i++) {
    const cond = g.op('Gather', ['run', g.i64([i], [])], { axis: { i: 0 } })
    const input = h
    const then = g.subgraph(`block_${i}`, () => {
      const next = block(ops, arch, i, input)
      const e = cache.find((c) => c.block === i)!
      return [next, e.presentK, e.presentV]
    })
    const e = cache.find((c) => c.block === i)!
    const skip = g.subgraph(`skip_${i}`, () => [input, e.pastK, e.pastV])
    const outs = g.node('If', [cond], { then_branch: { g: then }, else_branch: { g: skip } }, 3)
    h = outs[0]!
    e.presentK = outs[1]!
    e.presentV = outs[2]!
    hidden.push(h)
  }
  const hT = h
  const yes = g.subgraph('head', () => [head(ops, arch, hT)])
  const no = g.subgraph('no_head', () => [g.f32([], [0, arch.vocabSize])])
  const logits = g.op('If', ['want_logits'], { then_branch: { g: yes }, else_branch: { g: no } })
  g.outputs.push(valueInfo(logits, DT.FLOAT, ['N', arch.vocabSize]))
  for (const h of hidden) g.outputs.push(valueInfo(h, DT.FLOAT, ['N', d]))
  for (const c of cache) {
    g.outputs.push(valueInfo(c.presentK, DT.FLOAT, ['B', c.kvHeads, 'T', c.headDim]))
    g.outputs.push(valueInfo(c.presentV, DT.FLOAT, ['B', c.kvHeads, 'T', c.headDim]))
  }
  return {
    model: g.model(arch.architecture),
    logits,
    hidden,
    cache,
    rotary,
    masks,
    usesPositions,
    materialisedBytes: w.materialisedBytes,
  }
}
