// Graph surgery: bypass blocks, drop what became dead, renumber KV-cache I/O, expose hidden states.
import { create } from '@bufbuild/protobuf'
import { PruneError } from '@mi-prun/core'
import { ValueInfoProtoSchema, type ValueInfoProto } from 'onnx-buf'
import type { BlockStructure } from './graph.js'
import { PKG, cloneModel, nodeReads, renameReads, type ModelProto, type NodeProto } from './proto.js'

/** KV-cache tensor names: `past_key_values.3.key`, `present.3.value`, `past.3`, `present_key_values.3.key`. */
const KV_RE = /^(past_key_values|past_key_value|present_key_values|present|past)\.(\d+)((?:\..*)?)$/

/** Layer index of a KV-cache input or output name, or undefined. */
export function kvLayer(name: string): number | undefined {
  const m = KV_RE.exec(name)
  return m === null ? undefined : Number(m[2])
}

export interface PruneGraphResult {
  readonly model: ModelProto
  /** For each original h_i (i = 0..T), the tensor that now carries it (h of the last kept block before it). */
  readonly hiddenStates: readonly string[]
  /** Nodes, initializers and value_infos removed. */
  readonly removedNodes: number
  readonly removedInitializers: number
  readonly removedValueInfos: number
}

function normaliseRemoved(removed: Iterable<number>, T: number, where: string, allowAll: boolean): number[] {
  const list = [...new Set(removed)].sort((a, b) => a - b)
  for (const i of list) {
    if (!Number.isInteger(i) || i < 0 || i >= T) {
      throw new PruneError(
        'INVALID_INPUT',
        `${PKG} ${where}: block ${i} does not exist (the model has blocks 0..${T - 1})`,
      )
    }
  }
  if (list.length >= T && !allowAll)
    throw new PruneError(
      'INFEASIBLE_BUDGET',
      `${PKG} ${where}: cannot remove all ${T} blocks; keep at least one`,
    )
  return list
}

/**
 * Returns a copy of `model` with the blocks in `removed` bypassed and deleted: every reader of a
 * removed block's output h_{i+1} reads its input h_i instead; nodes that no longer feed a graph output
 * are dropped, then unused initializers and value_infos; the KV-cache inputs and outputs of removed
 * layers are removed and the others renumbered contiguously (`past_key_values.5.key` becomes
 * `past_key_values.3.key` when two earlier layers were removed); with `renumberNames`, node names of
 * kept blocks are renumbered the same way (`/model/layers.5/...` -> `/model/layers.3/...`).
 */
export function pruneGraph(
  model: ModelProto,
  structure: BlockStructure,
  removed: Iterable<number>,
  options: {
    /** Renumber kept layers' KV-cache I/O and node names (default true; skip sessions use false). */
    readonly renumber?: boolean
    readonly where?: string
    /** Allow removing every block (a forward with all blocks skipped); default false. */
    readonly allowAll?: boolean
    /**
     * Keep a removed layer's KV-cache input that is still read and cannot be rewired (skip sessions,
     * which feed every input anyway); default false: such an input is an error.
     */
    readonly keepUnusedKv?: boolean
  } = {},
): PruneGraphResult {
  const where = options.where ?? 'model'
  const renumber = options.renumber ?? true
  const T = structure.numBlocks
  const gone = normaliseRemoved(removed, T, where, options.allowAll ?? false)
  const goneSet = new Set(gone)
  const m = cloneModel(model)
  const g = m.graph!
  // 1. Bypass: h_{i+1} -> resolved h_i.
  const alias = new Map<string, string>()
  const hidden = [...structure.hiddenStates]
  for (let i = 0; i < T; i++) {
    if (goneSet.has(i)) hidden[i + 1] = hidden[i]!
  }
  for (const i of gone) alias.set(structure.hiddenStates[i + 1]!, hidden[i + 1]!)
  const graphOutputs = new Set(g.output.map((o) => o.name))
  for (const i of gone) {
    const h = structure.hiddenStates[i + 1]!
    if (graphOutputs.has(h)) {
      throw new PruneError(
        'UNSUPPORTED_ARCHITECTURE',
        `${PKG} ${where}: block ${i}'s output '${h}' is itself a graph output; remove that output from the export before pruning`,
      )
    }
  }
  renameReads(g.node, alias)
  // 2. KV-cache I/O of removed layers.
  const keptLayers = Array.from({ length: T }, (_, i) => i).filter((i) => !goneSet.has(i))
  const newIndex = new Map(keptLayers.map((old, nu) => [old, nu]))
  g.output = g.output.filter((o) => {
    const l = kvLayer(o.name)
    return l === undefined || !goneSet.has(l)
  })
  // 3. Dead-code elimination from the graph outputs.
  const nodesBefore = g.node.length
  const live = new Set(g.output.map((o) => o.name))
  const producer = new Map<string, number>()
  g.node.forEach((n, k) => n.output.forEach((o) => o !== '' && producer.set(o, k)))
  const keepNode = new Uint8Array(g.node.length)
  const stack = [...live]
  while (stack.length > 0) {
    const t = stack.pop()!
    const p = producer.get(t)
    if (p === undefined || keepNode[p]) continue
    keepNode[p] = 1
    for (const r of nodeReads(g.node[p]!)) if (!live.has(r)) (live.add(r), stack.push(r))
  }
  g.node = g.node.filter((_, k) => keepNode[k] === 1)
  const removedNodes = nodesBefore - g.node.length
  const read = new Set<string>(g.output.map((o) => o.name))
  for (const n of g.node) for (const r of nodeReads(n)) read.add(r)
  const initBefore = g.initializer.length
  g.initializer = g.initializer.filter((t) => read.has(t.name))
  g.sparseInitializer = g.sparseInitializer.filter((t) => read.has(t.values?.name ?? ''))
  const produced = new Set<string>()
  for (const n of g.node) for (const o of n.output) produced.add(o)
  const viBefore = g.valueInfo.length
  g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name))
  // A removed layer's past input that is still read only for its shape (the past length, which exporters
  // read from layer 0's or 1's cache) is rewired to the same tensor of a kept layer with the same declared
  // shape: every layer's cache has the same past length.
  const keptInputs = g.input.filter((v) => {
    const l = kvLayer(v.name)
    return l !== undefined && !goneSet.has(l)
  })
  const rewire = new Map<string, string>()
  for (const v of g.input) {
    const l = kvLayer(v.name)
    if (l === undefined || !goneSet.has(l) || !read.has(v.name)) continue
    const suffix = KV_RE.exec(v.name)![3]
    const prefix = KV_RE.exec(v.name)![1]
    const twin = keptInputs.find((k) => {
      const mm = KV_RE.exec(k.name)!
      return mm[1] === prefix && mm[3] === suffix && sameDeclaredShape(k, v)
    })
    if (twin !== undefined && readOnlyForShape(g.node, v.name)) rewire.set(v.name, twin.name)
    else if (options.keepUnusedKv !== true) {
      throw new PruneError(
        'UNSUPPORTED_ARCHITECTURE',
        `${PKG} ${where}: KV-cache input '${v.name}' of removed layer ${l} is still read after surgery` +
          (twin === undefined
            ? ' and no kept layer has a cache input of the same shape to read instead'
            : ' for its values, not only its shape'),
      )
    }
  }
  if (rewire.size > 0) {
    renameReads(g.node, rewire)
    read.clear()
    for (const o of g.output) read.add(o.name)
    for (const n of g.node) for (const r of nodeReads(n)) read.add(r)
  }
  g.input = g.input.filter((v) => {
    const l = kvLayer(v.name)
    // Skip sessions (keepUnusedKv) keep a removed layer's input that is still read: it is fed anyway.
    if (l !== undefined && goneSet.has(l)) return read.has(v.name) && options.keepUnusedKv === true
    return true
  })
  // 4. Renumber KV names (and node names) of kept layers.
  if (renumber && gone.length > 0) {
    const rename = new Map<string, string>()
    for (const v of [...g.input, ...g.output]) {
      const mm = KV_RE.exec(v.name)
      if (mm === null) continue
      const nu = newIndex.get(Number(mm[2]))
      if (nu !== undefined) rename.set(v.name, `${mm[1]}.${nu}${mm[3]}`)
    }
    for (const v of [...g.input, ...g.output, ...g.valueInfo]) v.name = rename.get(v.name) ?? v.name
    renameReads(g.node, rename)
    const used = new Set<string>()
    for (const n of g.node) {
      for (let k = 0; k < n.output.length; k++) n.output[k] = rename.get(n.output[k]!) ?? n.output[k]!
      n.name = n.name.replace(
        /((?:^|[/.:])(?:model\.)?(?:layers|layer|h|blocks|block|decoder_layers)[._])(\d+)(?=$|[/._:])/,
        (all, pre: string, d: string) => {
          const nu = newIndex.get(Number(d))
          return nu === undefined ? all : `${pre}${nu}`
        },
      )
    }
    // Exporters name nodes shared by all layers (rotary tables, masks) in layer 0's scope; a renumbered
    // layer-1 node can then meet one of them. Node names must stay unique (ORT refuses duplicates).
    for (const n of g.node) {
      if (n.name === '') continue
      let name = n.name
      for (let k = 1; used.has(name); k++) name = `${n.name}_${k}`
      n.name = name
      used.add(name)
    }
  }
  return {
    model: m,
    hiddenStates: hidden,
    removedNodes,
    removedInitializers: initBefore - g.initializer.length,
    removedValueInfos: viBefore - g.valueInfo.length,
  }
}

function sameDeclaredShape(a: ValueInfoProto, b: ValueInfoProto): boolean {
  const dims = (v: ValueInfoProto): string =>
    JSON.stringify(
      (v.type?.value.case === 'tensorType' ? (v.type.value.value.shape?.dim ?? []) : []).map((d) =>
        d.value.case === 'dimValue'
          ? Number(d.value.value)
          : d.value.case === 'dimParam'
            ? d.value.value
            : '?',
      ),
    )
  const elem = (v: ValueInfoProto): number | undefined =>
    v.type?.value.case === 'tensorType' ? v.type.value.value.elemType : undefined
  return dims(a) === dims(b) && elem(a) === elem(b)
}

/** Ops that pass their input through unchanged in value and shape. */
const PASS = new Set(['Identity', 'Cast'])

/** True when every reader of `t` uses only its shape: Shape/Size, or a pass-through whose readers do. */
function readOnlyForShape(nodes: readonly NodeProto[], t: string, depth = 0): boolean {
  if (depth > 8) return false
  for (const n of nodes) {
    if (!nodeReads(n).includes(t)) continue
    if (n.domain !== '') return false
    if (n.opType === 'Shape' || n.opType === 'Size') continue
    const pass = PASS.has(n.opType) || (n.opType === 'Concat' && n.input.length === 1)
    if (!pass || !n.output.every((o) => o === '' || readOnlyForShape(nodes, o, depth + 1))) return false
  }
  return true
}

/**
 * Returns a copy of `model` whose graph also outputs the given hidden-state tensors (deduplicated,
 * under their own names, so no node is added and no value changes). Returns the output names in
 * order h_0..h_T.
 */
export function withHiddenOutputs(
  model: ModelProto,
  hiddenStates: readonly string[],
): { model: ModelProto; outputs: readonly string[] } {
  const m = cloneModel(model)
  const g = m.graph!
  const have = new Set(g.output.map((o) => o.name))
  const vi = new Map(g.valueInfo.map((v) => [v.name, v]))
  for (const h of new Set(hiddenStates)) {
    if (have.has(h)) continue
    const info = vi.get(h)
    // ORT infers the type of an output without one; the known value_info type is used when present.
    g.output.push(
      info?.type !== undefined
        ? create(ValueInfoProtoSchema, { name: h, type: info.type })
        : create(ValueInfoProtoSchema, { name: h }),
    )
    have.add(h)
  }
  return { model: m, outputs: hiddenStates }
}
