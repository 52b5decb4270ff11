// Block discovery: where does the residual stream cross from one transformer block to the next?
//
// A residual Add is an `Add(a, b)` whose two inputs are both computed (not constants) and where `a`
// is an ancestor of `b`: the block's branch `b = f(a)` is added back to its input `a` (the skip
// input). In a pre-norm decoder the residual Adds form one chain h_0 -> +attn -> +mlp -> ... -> the
// final norm. The chain is found structurally; the Adds are then grouped into blocks by the block
// index in their node names (`/model/layers.3/Add_1`, `/transformer/h.3/Add`, `/blocks.3/...`), or,
// when names carry no index, by the period of the branch structure (attention, MLP, attention, ...)
// or by the block count from config.json.
import { PruneError } from '@mi-prun/core'
import { TensorProto_DataType } from 'onnx-buf'
import { PKG, nodeReads, type GraphProto, type ModelProto, type NodeProto } from './proto.js'

/** One block's residual-stream boundary. */
export interface BlockBoundary {
  /** 0-based block index. */
  readonly index: number
  /** Tensor name of h_i, the block's input on the residual stream. */
  readonly input: string
  /** Tensor name of h_{i+1}, the block's output on the residual stream. */
  readonly output: string
  /** Node names of the residual Adds that belong to this block, in chain order. */
  readonly residualAdds: readonly string[]
}

/** What discovery found, in a JSON-serialisable report. */
export interface BlockStructure {
  readonly kind: 'onnx-block-structure'
  /** 'names': Adds grouped by the block index in node names; 'structure': by period or config block count. */
  readonly method: 'names' | 'structure'
  readonly numBlocks: number
  /** Residual Adds per block. */
  readonly addsPerBlock: number
  /** Embedding lookup node (a Gather from an initializer), when found. */
  readonly embedding: string | undefined
  /** Tensor names h_0..h_T (T+1 entries). */
  readonly hiddenStates: readonly string[]
  readonly blocks: readonly BlockBoundary[]
  /** Nodes that read h_T (the final norm), by name. */
  readonly finalConsumers: readonly string[]
  /** Remarks (e.g. why the name grouping was not used). */
  readonly notes: readonly string[]
}

export interface DiscoverOptions {
  /** Block count from config.json (`num_hidden_layers` / `n_layer`); checked against what is found. */
  readonly numBlocks?: number
  /** Where the graph came from, for messages. */
  readonly where?: string
  /**
   * Tensor name of h_0 (the residual stream's first tensor), to choose among residual chains of equal
   * length when the structure alone cannot tell (the error lists the candidates).
   */
  readonly residualInput?: string
}

/** Producer/consumer index of one graph. */
export interface GraphIndex {
  readonly producer: ReadonlyMap<string, number>
  readonly consumers: ReadonlyMap<string, readonly number[]>
  /** Initializers and outputs of Constant nodes. */
  readonly constants: ReadonlySet<string>
  readonly graphInputs: ReadonlySet<string>
  readonly initializers: ReadonlySet<string>
}

export function indexGraph(g: GraphProto): GraphIndex {
  const producer = new Map<string, number>()
  const consumers = new Map<string, number[]>()
  const initializers = new Set(g.initializer.map((t) => t.name))
  const constants = new Set(initializers)
  g.node.forEach((n, i) => {
    for (const o of n.output) if (o !== '') producer.set(o, i)
    if (n.opType === 'Constant' && n.domain === '') for (const o of n.output) constants.add(o)
    for (const r of new Set(nodeReads(n))) {
      let list = consumers.get(r)
      if (list === undefined) consumers.set(r, (list = []))
      list.push(i)
    }
  })
  return { producer, consumers, constants, graphInputs: new Set(g.input.map((v) => v.name)), initializers }
}

/** Block index in a node name, or undefined. Matches `layers.3`, `layer.3`, `h.3`, `blocks.3`, `block_3`, `layers_3`. */
export function blockIndexFromName(name: string): number | undefined {
  const m = /(?:^|[/.:])(?:model\.)?(?:layers|layer|h|blocks|block|decoder_layers)[._](\d+)(?=$|[/._:])/.exec(
    name,
  )
  return m === null ? undefined : Number(m[1])
}

/** Ops whose output depends only on their input's shape, never on its values. */
const SHAPE_ONLY = new Set(['Shape', 'Size'])

/**
 * Is tensor `a` an ancestor of tensor `b` by value (are b's values computed from a's)? Backward DFS
 * from b that does not pass through Shape/Size: GPT-2's position ids come from `Shape(wte output)`,
 * which does not make the position embedding a function of the token embedding.
 */
function isAncestor(g: GraphProto, ix: GraphIndex, a: string, b: string): boolean {
  const seen = new Set<number>()
  const stack: string[] = [b]
  while (stack.length > 0) {
    const t = stack.pop()!
    if (t === a) return true
    const p = ix.producer.get(t)
    if (p === undefined || seen.has(p)) continue
    seen.add(p)
    const n = g.node[p]!
    if (SHAPE_ONLY.has(n.opType) && n.domain === '') continue
    for (const r of nodeReads(n)) if (!ix.constants.has(r)) stack.push(r)
  }
  return false
}

const FLOAT_TYPES = new Set<number>([
  TensorProto_DataType.FLOAT,
  TensorProto_DataType.FLOAT16,
  TensorProto_DataType.BFLOAT16,
  TensorProto_DataType.DOUBLE,
])
/** Ops whose output has the element type of their first input. */
const SAME_TYPE = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Neg',
  'Identity',
  'Reshape',
  'Transpose',
  'Squeeze',
  'Unsqueeze',
  'Flatten',
  'MatMul',
  'Gemm',
  'Sqrt',
  'Pow',
  'Relu',
  'Tanh',
  'Sigmoid',
  'Softmax',
  'Gather',
  'Slice',
  'Concat',
  'Expand',
  'Where',
  'ReduceMean',
  'LayerNormalization',
  'SimplifiedLayerNormalization',
  'SkipLayerNormalization',
  'Erf',
])

/**
 * Element types of the float tensors, as far as a forward pass over the (topologically sorted) nodes
 * can tell from graph inputs, value_info, initializers, Cast targets and same-type ops. Unknown types
 * are absent.
 */
export function floatTypes(g: GraphProto): Map<string, number> {
  const ty = new Map<string, number>()
  const put = (name: string, t: number | undefined): void => {
    if (t !== undefined && t !== TensorProto_DataType.UNDEFINED) ty.set(name, t)
  }
  for (const v of [...g.input, ...g.valueInfo, ...g.output])
    if (v.type?.value.case === 'tensorType') put(v.name, v.type.value.value.elemType)
  for (const t of g.initializer) put(t.name, t.dataType)
  for (const n of g.node) {
    const o = n.output[0]
    if (o === undefined || o === '' || ty.has(o) || n.domain !== '') continue
    if (n.opType === 'Cast') {
      const to = n.attribute.find((a) => a.name === 'to')
      if (to !== undefined) put(o, Number(to.i))
    } else if (n.opType === 'Where') {
      put(o, ty.get(n.input[1] ?? ''))
    } else if (n.opType === 'DequantizeLinear') {
      put(o, ty.get(n.input[1] ?? ''))
    } else if (SAME_TYPE.has(n.opType)) {
      put(o, ty.get(n.input[0] ?? ''))
    }
  }
  return ty
}

/**
 * Pass-through nodes: Identity, a one-input Concat, and a Cast to the type its input already has
 * (the TorchScript exporter records RMSNorm's no-op `.to(float32)` as one, and the residual Add then
 * reads the Cast's output). Returns, for each output of such a node, the tensor it passes through
 * (resolved transitively).
 */
export function passThroughs(
  g: GraphProto,
  types: ReadonlyMap<string, number> = floatTypes(g),
): Map<string, string> {
  const via = new Map<string, string>()
  const isPass = (n: NodeProto): boolean => {
    if (n.domain !== '' || n.input.length < 1 || n.output.length !== 1) return false
    if (n.opType === 'Identity') return true
    if (n.opType === 'Concat') return n.input.length === 1
    if (n.opType === 'Cast') {
      const to = n.attribute.find((a) => a.name === 'to')
      const from = types.get(n.input[0]!)
      return to !== undefined && from !== undefined && FLOAT_TYPES.has(from) && Number(to.i) === from
    }
    return false
  }
  for (const n of g.node) {
    if (!isPass(n)) continue
    const src = n.input[0]!
    via.set(n.output[0]!, via.get(src) ?? src)
  }
  return via
}

/** True when `t` is a graph input of token ids, possibly through Cast/Reshape/(Un)Squeeze/Identity/Flatten. */
function readsTokenIds(g: GraphProto, ix: GraphIndex, t: string): boolean {
  for (let hops = 0; hops < 8; hops++) {
    if (ix.graphInputs.has(t)) return /ids/.test(t)
    const p = ix.producer.get(t)
    if (p === undefined) return false
    const n = g.node[p]!
    if (!['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Identity', 'Flatten'].includes(n.opType)) return false
    t = n.input[0] ?? ''
  }
  return false
}

interface ResidualAdd {
  readonly node: number
  /** The skip input, resolved through pass-through nodes. */
  readonly skip: string
  readonly branch: string
  readonly output: string
}

function residualAdds(g: GraphProto, ix: GraphIndex, via: ReadonlyMap<string, string>): ResidualAdd[] {
  const out: ResidualAdd[] = []
  const canon = (t: string): string => via.get(t) ?? t
  g.node.forEach((n, i) => {
    if (n.opType !== 'Add' || n.domain !== '' || n.input.length !== 2) return
    const [x, y] = n.input as [string, string]
    if (x === y || ix.constants.has(x) || ix.constants.has(y)) return
    const o = n.output[0]
    if (o === undefined) return
    if (isAncestor(g, ix, x, y)) out.push({ node: i, skip: canon(x), branch: y, output: o })
    else if (isAncestor(g, ix, y, x)) out.push({ node: i, skip: canon(y), branch: x, output: o })
  })
  return out
}

/** Op types on the branch of a residual Add (nodes between its skip input and its branch input), sorted. */
function branchSignature(g: GraphProto, ix: GraphIndex, r: ResidualAdd): string {
  const ops: string[] = []
  const seen = new Set<number>()
  const stack = [r.branch]
  while (stack.length > 0) {
    const t = stack.pop()!
    if (t === r.skip) continue
    const p = ix.producer.get(t)
    if (p === undefined || seen.has(p)) continue
    seen.add(p)
    const n = g.node[p]!
    // Only nodes that depend on the skip input belong to the branch.
    if (!n.output.some((o) => o !== '' && isAncestor(g, ix, r.skip, o))) continue
    ops.push(n.opType)
    for (const x of nodeReads(n)) if (!ix.constants.has(x)) stack.push(x)
  }
  return ops.sort().join(',')
}

function ambiguous(where: string, what: string): PruneError {
  return new PruneError(
    'UNSUPPORTED_ARCHITECTURE',
    `${PKG} ${where}: ${what}. mi-prun needs one residual chain (embedding -> Add -> ... -> final norm) of a decoder-only transformer; ` +
      'check that this is such a model, or pass numBlocks from config.json',
  )
}

/**
 * Finds the residual-stream boundaries h_0..h_T of a decoder-only transformer graph.
 *
 * Structural part: the residual Adds (see the module comment) are linked into chains (an Add whose
 * skip input is the previous Add's output). The longest chain is the residual stream; a fork in it,
 * or two longest chains, is ambiguous and throws UNSUPPORTED_ARCHITECTURE. Grouping: by the block
 * index in the Adds' node names when every Add has one and they run 0..T-1 in chain order;
 * otherwise by `options.numBlocks`, otherwise by the smallest period of the branches' op signatures.
 */
export function discoverBlocks(model: ModelProto, options: DiscoverOptions = {}): BlockStructure {
  const where = options.where ?? 'model'
  const g = model.graph
  if (g === undefined) throw ambiguous(where, 'the model has no graph')
  const ix = indexGraph(g)
  const adds = residualAdds(g, ix, passThroughs(g))
  const bySkip = new Map<string, ResidualAdd[]>()
  for (const r of adds) {
    const l = bySkip.get(r.skip)
    if (l === undefined) bySkip.set(r.skip, [r])
    else l.push(r)
  }
  const outputs = new Set(adds.map((r) => r.output))
  const chains: ResidualAdd[][] = []
  for (const r of adds) {
    if (outputs.has(r.skip)) continue // not a chain start
    const chain = [r]
    let cur = r
    for (;;) {
      const next = bySkip.get(cur.output)
      if (next === undefined) break
      if (next.length > 1) {
        throw ambiguous(
          where,
          `the residual stream forks at tensor '${cur.output}' (read as a skip input by ${next.length} Adds: ` +
            `${next.map((n) => `'${g.node[n.node]!.name}'`).join(', ')})`,
        )
      }
      cur = next[0]!
      chain.push(cur)
    }
    chains.push(chain)
  }
  if (chains.length === 0) throw ambiguous(where, 'no residual Add (Add(x, f(x))) was found')
  let best: ResidualAdd[][]
  if (options.residualInput !== undefined) {
    best = chains.filter((c) => c[0]!.skip === options.residualInput)
    if (best.length === 0) {
      throw ambiguous(
        where,
        `no residual chain starts at the given residualInput '${options.residualInput}'; chains start at ` +
          chains.map((c) => `'${c[0]!.skip}' (${c.length} Adds)`).join(', '),
      )
    }
  } else {
    const longest = Math.max(...chains.map((c) => c.length))
    best = chains.filter((c) => c.length === longest)
  }
  if (best.length > 1) {
    throw new PruneError(
      'UNSUPPORTED_ARCHITECTURE',
      `${PKG} ${where}: ${best.length} residual chains of equal length ${best[0]!.length} start at tensors ` +
        `${best.map((c) => `'${c[0]!.skip}'`).join(', ')}; cannot tell which one is the residual stream: ` +
        'pass the tensor name of h_0 as the residualInput option (of loadOnnxModel or discoverBlocks) to choose one',
    )
  }
  const chain = best[0]!
  const notes: string[] = []

  // Group the chain into blocks.
  const nameIdx = chain.map((r) => blockIndexFromName(g.node[r.node]!.name))
  let groups: ResidualAdd[][] | undefined
  let method: 'names' | 'structure' = 'structure'
  if (nameIdx.every((i) => i !== undefined)) {
    const ids = nameIdx as number[]
    const okOrder = ids.every((v, k) => k === 0 || v === ids[k - 1]! || v === ids[k - 1]! + 1) && ids[0] === 0
    if (okOrder) {
      const T = ids[ids.length - 1]! + 1
      groups = Array.from({ length: T }, () => [] as ResidualAdd[])
      chain.forEach((r, k) => groups![ids[k]!]!.push(r))
      method = 'names'
    } else {
      notes.push(
        `block indices in node names (${ids.join(',')}) are not 0,1,2,... along the residual chain; grouped structurally instead`,
      )
    }
  } else if (nameIdx.some((i) => i !== undefined)) {
    notes.push('only some residual Adds carry a block index in their name; grouped structurally instead')
  } else {
    notes.push('node names carry no block index; grouped structurally')
  }
  if (groups === undefined) {
    const n = chain.length
    let period: number | undefined
    if (options.numBlocks !== undefined) {
      if (n % options.numBlocks !== 0) {
        throw ambiguous(
          where,
          `the residual chain has ${n} Adds, which does not divide into ${options.numBlocks} blocks (config.json)`,
        )
      }
      period = n / options.numBlocks
    } else {
      const sig = chain.map((r) => branchSignature(g, ix, r))
      for (let p = 1; p <= n; p++) {
        if (n % p !== 0) continue
        if (sig.every((s, k) => s === sig[k % p])) {
          period = p
          break
        }
      }
      if (period === undefined || (period === n && n > 1)) {
        throw ambiguous(
          where,
          `the ${n} residual Adds show no repeating block structure and no block count was given`,
        )
      }
    }
    groups = []
    for (let k = 0; k < n; k += period!) groups.push(chain.slice(k, k + period!))
  }
  const T = groups.length
  if (groups.some((gr) => gr.length === 0))
    throw ambiguous(where, 'a block index in the node names has no residual Add')
  if (options.numBlocks !== undefined && options.numBlocks !== T) {
    throw ambiguous(where, `found ${T} blocks but config.json says ${options.numBlocks}`)
  }
  const addsPerBlock = groups[0]!.length
  if (groups.some((gr) => gr.length !== addsPerBlock))
    notes.push('blocks have different numbers of residual Adds')
  const hidden = [chain[0]!.skip, ...groups.map((gr) => gr[gr.length - 1]!.output)]
  const blocks: BlockBoundary[] = groups.map((gr, i) => ({
    index: i,
    input: hidden[i]!,
    output: hidden[i + 1]!,
    residualAdds: gr.map((r) => g.node[r.node]!.name),
  }))
  // Embedding lookup: a Gather of an initializer that h_0 is computed from, preferring one indexed
  // by the token ids (GPT-2 also gathers position embeddings).
  let embedding: string | undefined
  let byIds = false
  for (const n of g.node) {
    const o = n.output[0]
    if (n.opType !== 'Gather' || !ix.initializers.has(n.input[0] ?? '') || o === undefined) continue
    if (o !== hidden[0] && !isAncestor(g, ix, o, hidden[0]!)) continue
    const idx = n.input[1] ?? ''
    const fromIds = readsTokenIds(g, ix, idx)
    if (embedding === undefined || (fromIds && !byIds)) {
      embedding = n.name
      byIds = fromIds
    }
    if (byIds) break
  }
  if (embedding === undefined) notes.push('no embedding Gather found upstream of h_0')
  const finalConsumers = (ix.consumers.get(hidden[T]!) ?? []).map((k) => g.node[k]!.name)
  return {
    kind: 'onnx-block-structure',
    method,
    numBlocks: T,
    addsPerBlock,
    embedding,
    hiddenStates: hidden,
    blocks,
    finalConsumers,
    notes,
  }
}
