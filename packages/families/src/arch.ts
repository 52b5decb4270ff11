// The engine-neutral description of a decoder model: what every engine (the float64 reference,
// ONNX Runtime, TF.js) runs. A family's parser turns config.json into an `Arch`; the one generic
// program in program.ts turns an `Arch` into calls on an engine's `Ops`. Nothing here reads weights:
// weights are referred to by their checkpoint names (`WeightRef`) and bound by the engine.

/** Activation functions by their exact definition (transformers' ACT2FN names map onto these). */
export type Activation =
  /** x·σ(x) ('silu', 'swish') */
  | 'silu'
  /** exact erf GELU ('gelu') */
  | 'gelu'
  /** tanh approximation ('gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'…) */
  | 'gelu_tanh'
  | 'relu'

/**
 * A weight as stored in the checkpoint, plus the exact, lossless view an engine must take of it.
 * Views exist so that fused projections (Phi-3 `qkv_proj`, GPT-NeoX `query_key_value`, GPT-2
 * `c_attn`) and fused expert tensors are expressed without copying code per family.
 */
export interface WeightRef {
  /** Tensor name in the checkpoint, e.g. `model.layers.3.self_attn.q_proj.weight`. */
  readonly name: string
  /**
   * Matrix layout on disk: `out-in` for `nn.Linear` ([out, in]); `in-out` for GPT-2's Conv1D
   * ([in, out]). Vectors (norm weights, biases) use `vector`.
   */
  readonly layout: 'out-in' | 'in-out' | 'vector'
  /**
   * For 3-D tensors (fused experts, [E, …]): the index on the first axis; the view is then the
   * 2-D matrix (or vector) of that expert.
   */
  readonly expert?: number
  /**
   * Output features to take, in this order (default: all). For `out-in` these are rows, for
   * `in-out` columns, for vectors elements. A range is `[from, to)`.
   */
  readonly out?: OutSelection
  /** Added to every element after loading: Gemma's norms compute x̂·(1 + w). */
  readonly offset?: number
}

export type OutSelection =
  { readonly from: number; readonly to: number } | { readonly indices: readonly number[] }

export interface NormSpec {
  readonly kind: 'rms' | 'layer'
  /** Features normalised (the weight's length): checked against the checkpoint at load. */
  readonly size: number
  readonly weight: WeightRef
  /** LayerNorm bias (absent for bias-free LayerNorm and for RMSNorm). */
  readonly bias?: WeightRef
  readonly eps: number
}

/** How the position of each query/key enters attention. */
export interface RotarySpec {
  /** Which rotary table of `Arch.rotary` (Gemma 3 has a global and a local one). */
  readonly table: string
}

/**
 * A rotary table: the inverse frequencies and the attention factor of one RoPE variant, as a
 * function of the total sequence length (dynamic NTK and LongRoPE change with it). The engine asks
 * for `frequencies(totalLength)` once per call and builds cos/sin for positions 0..totalLength−1;
 * cos and sin are multiplied by `attentionFactor` (YaRN / LongRoPE mscale), as transformers does.
 */
export interface RotaryTable {
  /** Dimensions of each head that rotate (the first `rotaryDim`; the rest pass through). Even. */
  readonly rotaryDim: number
  /** Human-readable settings for reports: `{ rope_type, rope_theta, factor, … }`. */
  readonly settings: Readonly<Record<string, unknown>>
  frequencies(totalLength: number): { readonly invFreq: Float64Array; readonly attentionFactor: number }
}

export interface AttentionSpec {
  readonly numHeads: number
  readonly numKvHeads: number
  readonly headDim: number
  readonly q: Linear
  readonly k: Linear
  readonly v: Linear
  readonly o: Linear
  /** RMSNorm of q and k: over each head (`head`, Qwen3, Gemma 3) or over the whole projection (`all`, OLMo 2). */
  readonly qkNorm?: { readonly over: 'head' | 'all'; readonly q: NormSpec; readonly k: NormSpec }
  /** Absent: no position information in attention (GPT-2, SmolLM3's no-RoPE layers). */
  readonly rotary?: RotarySpec
  /** Multiplies q·kᵀ (default 1/√headDim; Gemma: query_pre_attn_scalar^−½; Granite: attention_multiplier). */
  readonly scale: number
  /** Gemma 2: scores ← tanh(scores / c) · c before masking. */
  readonly softcap?: number
  /** Sliding window: key j is visible from query i when i − window < j ≤ i. Absent: full causal. */
  readonly window?: number
}

export interface Linear {
  readonly weight: WeightRef
  readonly bias?: WeightRef
  /** [out, in] of the view: checked against the checkpoint at load, so a wrong tensor is refused. */
  readonly shape: readonly [number, number]
}

export type MlpSpec =
  /** act(gate(x)) ⊙ up(x) → down (Llama family). */
  | {
      readonly kind: 'gated'
      readonly gate: Linear
      readonly up: Linear
      readonly down: Linear
      readonly act: Activation
    }
  /** act(fc(x)) → proj (GPT-2, GPT-NeoX). */
  | { readonly kind: 'plain'; readonly fc: Linear; readonly proj: Linear; readonly act: Activation }
  | MoeSpec

/**
 * Sparse mixture of experts: router logits r = x·Wᵣᵀ; p = softmax(r) over all experts; the top-k
 * experts by p are run (ties: lower index first) and their outputs summed with weights p, renormalised
 * over the top k when `normTopK` (Mixtral always, Qwen3-MoE when `norm_topk_prob`).
 */
export interface MoeSpec {
  readonly kind: 'moe'
  readonly router: Linear
  readonly topK: number
  readonly normTopK: boolean
  readonly experts: readonly {
    readonly gate: Linear
    readonly up: Linear
    readonly down: Linear
  }[]
  readonly act: Activation
}

/**
 * One block. The residual topology covers every supported family:
 * - `sequential` (pre-norm): h += post?(attn(pre(h))); h += post?(mlp(pre₂(h))) — Llama (no posts),
 *   Gemma 2/3 (all four norms), OLMo 2 (posts only: `attnNorm`/`mlpNorm` absent);
 * - `parallel` (GPT-NeoX `use_parallel_residual`): h += attn(n₁(h)) + mlp(n₂(h)).
 * Each branch output is multiplied by `residualScale` (Granite `residual_multiplier`) before the add.
 */
export interface BlockSpec {
  readonly residual: 'sequential' | 'parallel'
  readonly attnNorm?: NormSpec
  readonly attnPostNorm?: NormSpec
  readonly mlpNorm?: NormSpec
  readonly mlpPostNorm?: NormSpec
  readonly residualScale?: number
  readonly attention: AttentionSpec
  readonly mlp: MlpSpec
}

export interface EmbeddingSpec {
  readonly tokens: WeightRef
  /** Learned absolute positions (GPT-2 `wpe`). */
  readonly positions?: WeightRef
  /** h₀ ← embedding · scale (Gemma √d rounded to the compute dtype, Granite embedding_multiplier). */
  readonly scale?: number
}

export interface HeadSpec {
  readonly norm: NormSpec
  /** [vocab, hidden] (`lm_head.weight`, or the token embedding when tied). */
  readonly weight: WeightRef
  readonly bias?: WeightRef
  /** logits ← logits · scale (Granite: 1 / logits_scaling). */
  readonly scale?: number
  /** Gemma 2/3: logits ← tanh(logits / c) · c. */
  readonly softcap?: number
}

/** The full description of a decoder-only model that every engine runs. */
export interface Arch {
  /** Family name (the parser that made it), e.g. 'llama', 'gemma3_text'. */
  readonly family: string
  /** config.json `model_type`. */
  readonly modelType: string
  /** config.json `architectures[0]` (or the family's default class). */
  readonly architecture: string
  readonly numBlocks: number
  readonly hiddenSize: number
  readonly vocabSize: number
  readonly maxPositions: number
  readonly embedding: EmbeddingSpec
  readonly blocks: readonly BlockSpec[]
  readonly head: HeadSpec
  /** Rotary tables by name, referred to by `AttentionSpec.rotary.table`. */
  readonly rotary: Readonly<Record<string, RotaryTable>>
  /** Tensor name prefix of block i, e.g. `model.layers.3.`: every tensor of block i starts with it. */
  blockPrefix(i: number): string
}
