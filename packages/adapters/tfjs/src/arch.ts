import { PruneError } from '@mi-prun/core'

const P = '[@mi-prun/adapter-tfjs]'

/** The two block layouts the forward pass implements. */
export type Family = 'llama' | 'gpt2'
/** Activation of the MLP. `gelu_tanh` is GPT-2's `gelu_new` (tanh approximation); `gelu` is the erf form. */
export type Activation = 'silu' | 'gelu_tanh' | 'gelu' | 'relu'

/** Everything the forward pass needs from `config.json`, validated and with Hugging Face's defaults applied. */
export interface ArchConfig {
  readonly family: Family
  /** config `model_type` as dispatched ('llama', 'mistral', 'qwen2', 'gpt2'). */
  readonly modelType: string
  readonly architecture: string
  readonly numBlocks: number
  readonly hiddenSize: number
  readonly numHeads: number
  readonly numKvHeads: number
  readonly headDim: number
  readonly intermediateSize: number
  readonly vocabSize: number
  readonly maxPositions: number
  readonly eps: number
  readonly ropeTheta: number
  readonly tied: boolean
  /** Biases on q/k/v projections (Qwen2, Llama `attention_bias`). */
  readonly qkvBias: boolean
  /** Bias on the output projection (Llama `attention_bias`). */
  readonly oBias: boolean
  /** Biases on the MLP projections (Llama `mlp_bias`). */
  readonly mlpBias: boolean
  readonly activation: Activation
  /** Per block: the sliding-window size, or 0 for full causal attention. */
  readonly window: readonly number[]
  /** Tensor name prefix: 'model.' for the Llama family, 'transformer.' or '' for GPT-2. */
  readonly prefix: string
  /** config key that holds the block count. */
  readonly layersKey: 'num_hidden_layers' | 'n_layer'
}

type Cfg = Readonly<Record<string, unknown>>

function num(cfg: Cfg, key: string, fallback?: number): number {
  const v = cfg[key] ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} config.json: "${key}" must be a number, got ${JSON.stringify(cfg[key])}`,
    )
  }
  return v
}

function posInt(cfg: Cfg, key: string, fallback?: number): number {
  const v = num(cfg, key, fallback)
  if (!Number.isInteger(v) || v < 1)
    throw new PruneError('INVALID_CONFIG', `${P} config.json: "${key}" must be a positive integer, got ${v}`)
  return v
}

function activationOf(name: unknown): Activation {
  switch (name) {
    case 'silu':
    case 'swish':
      return 'silu'
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_tanh'
    case 'gelu':
      return 'gelu'
    case 'relu':
      return 'relu'
    default:
      throw new PruneError(
        'UNSUPPORTED_ARCHITECTURE',
        `${P} config.json: activation ${JSON.stringify(name)} is not supported (silu, gelu_new, gelu_pytorch_tanh, gelu, relu)`,
      )
  }
}

function parseLlamaFamily(cfg: Cfg, modelType: string, architecture: string): ArchConfig {
  const hiddenSize = posInt(cfg, 'hidden_size')
  const numHeads = posInt(cfg, 'num_attention_heads')
  const numKvHeads = posInt(cfg, 'num_key_value_heads', numHeads)
  const numBlocks = posInt(cfg, 'num_hidden_layers')
  if (numHeads % numKvHeads !== 0) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} config.json: num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`,
    )
  }
  const headDim = cfg['head_dim'] == null ? hiddenSize / numHeads : posInt(cfg, 'head_dim')
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} config.json: head dimension ${headDim} must be an even integer (hidden_size / num_attention_heads or head_dim)`,
    )
  }
  if (cfg['rope_scaling'] != null) {
    const t =
      (cfg['rope_scaling'] as { rope_type?: unknown; type?: unknown }).rope_type ??
      (cfg['rope_scaling'] as { type?: unknown }).type
    if (t !== 'default') {
      throw new PruneError(
        'UNSUPPORTED_ARCHITECTURE',
        `${P} config.json: rope_scaling ${JSON.stringify(cfg['rope_scaling'])} is not supported; only plain RoPE (rope_scaling: null) is implemented`,
      )
    }
  }
  const attnBias = cfg['attention_bias'] === true
  const window = slidingWindows(cfg, modelType, numBlocks)
  return {
    family: 'llama',
    modelType,
    architecture,
    numBlocks,
    hiddenSize,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: posInt(cfg, 'intermediate_size'),
    vocabSize: posInt(cfg, 'vocab_size'),
    maxPositions: posInt(cfg, 'max_position_embeddings', 2048),
    eps: num(cfg, 'rms_norm_eps', 1e-6),
    ropeTheta: num(cfg, 'rope_theta', 10000),
    tied: cfg['tie_word_embeddings'] === true,
    qkvBias: modelType === 'qwen2' || attnBias,
    oBias: attnBias,
    mlpBias: cfg['mlp_bias'] === true,
    activation: activationOf(cfg['hidden_act'] ?? 'silu'),
    window,
    prefix: 'model.',
    layersKey: 'num_hidden_layers',
  }
}

/**
 * Sliding windows per block, following transformers' semantics: an explicit `layer_types` array
 * ('sliding_attention' / 'full_attention') wins; otherwise Mistral slides on every block when
 * `sliding_window` is set, and Qwen2 slides on blocks >= `max_window_layers` when `use_sliding_window`.
 */
function slidingWindows(cfg: Cfg, modelType: string, numBlocks: number): number[] {
  const w = cfg['sliding_window']
  const size = typeof w === 'number' && w > 0 ? w : 0
  const types = cfg['layer_types']
  if (Array.isArray(types)) {
    if (types.length !== numBlocks) {
      throw new PruneError(
        'INVALID_CONFIG',
        `${P} config.json: layer_types has ${types.length} entries but num_hidden_layers is ${numBlocks}`,
      )
    }
    return types.map((t) => (t === 'sliding_attention' ? size : 0))
  }
  if (modelType === 'mistral') return new Array<number>(numBlocks).fill(size)
  if (modelType === 'qwen2' && cfg['use_sliding_window'] === true) {
    const from = typeof cfg['max_window_layers'] === 'number' ? cfg['max_window_layers'] : numBlocks
    return Array.from({ length: numBlocks }, (_, i) => (i >= from ? size : 0))
  }
  return new Array<number>(numBlocks).fill(0)
}

function parseGpt2(cfg: Cfg, modelType: string, architecture: string): ArchConfig {
  const hiddenSize = posInt(cfg, 'n_embd')
  const numHeads = posInt(cfg, 'n_head')
  if (hiddenSize % numHeads !== 0)
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} config.json: n_embd (${hiddenSize}) must be a multiple of n_head (${numHeads})`,
    )
  if (cfg['scale_attn_by_inverse_layer_idx'] === true || cfg['reorder_and_upcast_attn'] === true) {
    throw new PruneError(
      'UNSUPPORTED_ARCHITECTURE',
      `${P} config.json: scale_attn_by_inverse_layer_idx / reorder_and_upcast_attn are not supported (attention scale would depend on the block index)`,
    )
  }
  if (cfg['scale_attn_weights'] === false)
    throw new PruneError(
      'UNSUPPORTED_ARCHITECTURE',
      `${P} config.json: scale_attn_weights=false is not supported`,
    )
  const numBlocks = posInt(cfg, 'n_layer')
  return {
    family: 'gpt2',
    modelType,
    architecture,
    numBlocks,
    hiddenSize,
    numHeads,
    numKvHeads: numHeads,
    headDim: hiddenSize / numHeads,
    intermediateSize: cfg['n_inner'] == null ? 4 * hiddenSize : posInt(cfg, 'n_inner'),
    vocabSize: posInt(cfg, 'vocab_size'),
    maxPositions: posInt(cfg, 'n_positions', 1024),
    eps: num(cfg, 'layer_norm_epsilon', 1e-5),
    ropeTheta: 0,
    tied: cfg['tie_word_embeddings'] !== false,
    qkvBias: true,
    oBias: true,
    mlpBias: true,
    activation: activationOf(cfg['activation_function'] ?? 'gelu_new'),
    window: new Array<number>(numBlocks).fill(0),
    prefix: 'transformer.',
    layersKey: 'n_layer',
  }
}

/** Supported architectures, keyed by config `model_type`. Frozen; the name type derives from it. */
export const architectures = Object.freeze({
  llama: (cfg: Cfg, arch: string) => parseLlamaFamily(cfg, 'llama', arch),
  mistral: (cfg: Cfg, arch: string) => parseLlamaFamily(cfg, 'mistral', arch),
  qwen2: (cfg: Cfg, arch: string) => parseLlamaFamily(cfg, 'qwen2', arch),
  gpt2: (cfg: Cfg, arch: string) => parseGpt2(cfg, 'gpt2', arch),
})
export type ArchitectureName = keyof typeof architectures

/** `architectures[0]` class names that map to a supported model type when `model_type` is absent. */
export const architectureClasses: Readonly<Record<string, ArchitectureName>> = Object.freeze({
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  GPT2LMHeadModel: 'gpt2',
})

/**
 * Dispatches on `config.json` only (`model_type`, then `architectures[0]`), never on folder names,
 * and returns the validated architecture. Unknown → PruneError `UNSUPPORTED_ARCHITECTURE` listing
 * the supported ones.
 */
export function parseArchitecture(cfg: Cfg): ArchConfig {
  const mt = cfg['model_type']
  const archs = cfg['architectures']
  const arch0 = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined
  let name: ArchitectureName | undefined
  if (typeof mt === 'string' && Object.hasOwn(architectures, mt)) name = mt as ArchitectureName
  else if (mt === undefined && arch0 !== undefined && Object.hasOwn(architectureClasses, arch0))
    name = architectureClasses[arch0]
  if (name === undefined) {
    throw new PruneError(
      'UNSUPPORTED_ARCHITECTURE',
      `${P} config.json: model_type ${JSON.stringify(mt)} (architectures ${JSON.stringify(archs)}) is not supported; ` +
        `supported model_type values: ${Object.keys(architectures).join(', ')} (${Object.keys(architectureClasses).join(', ')})`,
    )
  }
  const defaults: Record<ArchitectureName, string> = {
    llama: 'LlamaForCausalLM',
    mistral: 'MistralForCausalLM',
    qwen2: 'Qwen2ForCausalLM',
    gpt2: 'GPT2LMHeadModel',
  }
  return architectures[name](cfg, arch0 ?? defaults[name])
}

/** Expected tensors of block `i` with their shapes (names relative to the checkpoint). */
export function blockTensorShapes(a: ArchConfig, i: number, prefix = a.prefix): Map<string, number[]> {
  const m = new Map<string, number[]>()
  const d = a.hiddenSize
  if (a.family === 'gpt2') {
    const b = `${prefix}h.${i}.`
    m.set(`${b}ln_1.weight`, [d]).set(`${b}ln_1.bias`, [d])
    m.set(`${b}attn.c_attn.weight`, [d, 3 * d]).set(`${b}attn.c_attn.bias`, [3 * d])
    m.set(`${b}attn.c_proj.weight`, [d, d]).set(`${b}attn.c_proj.bias`, [d])
    m.set(`${b}ln_2.weight`, [d]).set(`${b}ln_2.bias`, [d])
    m.set(`${b}mlp.c_fc.weight`, [d, a.intermediateSize]).set(`${b}mlp.c_fc.bias`, [a.intermediateSize])
    m.set(`${b}mlp.c_proj.weight`, [a.intermediateSize, d]).set(`${b}mlp.c_proj.bias`, [d])
    return m
  }
  const b = `${prefix}layers.${i}.`
  const q = a.numHeads * a.headDim
  const kv = a.numKvHeads * a.headDim
  const I = a.intermediateSize
  m.set(`${b}input_layernorm.weight`, [d])
  m.set(`${b}self_attn.q_proj.weight`, [q, d])
    .set(`${b}self_attn.k_proj.weight`, [kv, d])
    .set(`${b}self_attn.v_proj.weight`, [kv, d])
  if (a.qkvBias)
    m.set(`${b}self_attn.q_proj.bias`, [q])
      .set(`${b}self_attn.k_proj.bias`, [kv])
      .set(`${b}self_attn.v_proj.bias`, [kv])
  m.set(`${b}self_attn.o_proj.weight`, [d, q])
  if (a.oBias) m.set(`${b}self_attn.o_proj.bias`, [d])
  m.set(`${b}post_attention_layernorm.weight`, [d])
  m.set(`${b}mlp.gate_proj.weight`, [I, d])
    .set(`${b}mlp.up_proj.weight`, [I, d])
    .set(`${b}mlp.down_proj.weight`, [d, I])
  if (a.mlpBias)
    m.set(`${b}mlp.gate_proj.bias`, [I]).set(`${b}mlp.up_proj.bias`, [I]).set(`${b}mlp.down_proj.bias`, [d])
  return m
}

/** Expected non-block tensors (embeddings, final norm, untied head) with their shapes. */
export function globalTensorShapes(a: ArchConfig, prefix = a.prefix): Map<string, number[]> {
  const m = new Map<string, number[]>()
  const d = a.hiddenSize
  if (a.family === 'gpt2') {
    m.set(`${prefix}wte.weight`, [a.vocabSize, d]).set(`${prefix}wpe.weight`, [a.maxPositions, d])
    m.set(`${prefix}ln_f.weight`, [d]).set(`${prefix}ln_f.bias`, [d])
  } else {
    m.set(`${prefix}embed_tokens.weight`, [a.vocabSize, d]).set(`${prefix}norm.weight`, [d])
  }
  if (!a.tied) m.set('lm_head.weight', [a.vocabSize, d])
  return m
}

/** Regex whose group 1 is the block index in a tensor name of this architecture. */
export function blockNamePattern(a: ArchConfig, prefix = a.prefix): RegExp {
  const esc = prefix.replace(/\./g, '\\.')
  return a.family === 'gpt2'
    ? new RegExp(`^(${esc}h\\.)(\\d+)(\\..*)$`)
    : new RegExp(`^(${esc}layers\\.)(\\d+)(\\..*)$`)
}
