import type { Matrix } from './matrix.js'

// ---------------------------------------------------------------------------------------------
// Brands and units
// ---------------------------------------------------------------------------------------------

/** Zero-cost nominal typing for the few numbers that get confused. */
export type Brand<T, K extends string> = T & { readonly __brand: K }
/** 0-based block index: block i maps hidden state h_i to h_{i+1}. */
export type BlockIndex = number
/** The unit of every MI value in mi-prun. bits = nats / ln 2. */
export type MIUnit = 'nats'

// ---------------------------------------------------------------------------------------------
// MI estimators
// ---------------------------------------------------------------------------------------------

/**
 * A tagged, JSON-serialisable description of an estimator (or reducer) and every setting that
 * changes its values: `{ kind: 'ksg', variant: 1, k: 3, jitter: 1e-10, seed: 0, theiler: 0 }`.
 */
export interface EstimatorSettings {
  readonly kind: string
  readonly [key: string]: unknown
}

/** Per-row tags, used by estimators that exclude serially correlated neighbours (Theiler window). */
export interface RowTags {
  /** Sequence id of each row. */
  readonly sequence: Int32Array
  /** Position of each row inside its sequence. */
  readonly position: Int32Array
}

export interface EstimateOptions {
  /** Row tags for the Theiler window; estimators that do not use them ignore them. */
  readonly tags?: RowTags
}

/**
 * A mutual-information estimator. `estimate` is synchronous and pure (given its seed) and returns
 * the RAW estimate in nats: never clamped, may be negative. Inputs are N×dx and N×dy matrices whose
 * rows are paired samples. Invalid input (different N, non-finite values, too few rows for the
 * estimator's settings) throws a PruneError.
 */
export interface MIEstimator {
  readonly name: string
  readonly settings: EstimatorSettings
  estimate(x: Matrix, y: Matrix, options?: EstimateOptions): number
}

/** What every reported MI score carries: the value and everything needed to reproduce or compare it. */
export interface MIScore {
  readonly value: number
  readonly unit: MIUnit
  readonly estimator: EstimatorSettings
  /** Number of paired samples N. */
  readonly samples: number
  /** Dimensions of x and y as seen by the estimator (after any reduction). */
  readonly dx: number
  readonly dy: number
}

/**
 * A dimension reducer fitted on the data it reduces (PCA, random projection, ...). Given a pair in
 * one space it returns the reduced pair; `settings` records its kind and rank.
 */
export interface Reducer {
  readonly name: string
  readonly settings: EstimatorSettings
  reducePair(x: Matrix, y: Matrix): { x: Matrix; y: Matrix; info?: Readonly<Record<string, number>> }
}

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/**
 * A batch of token sequences, all of the same length, without padding: `ids[b*seqLen + t]`.
 */
export interface TokenBatch {
  readonly ids: Int32Array
  readonly batch: number
  readonly seqLen: number
}

export type ModelFormat = 'hf-safetensors' | 'onnx'

export interface ModelInfo {
  /** e.g. 'LlamaForCausalLM' */
  readonly architecture: string
  /** config.json `model_type`, e.g. 'llama', 'gpt2' */
  readonly modelType: string
  readonly format: ModelFormat
  readonly numBlocks: number
  readonly hiddenSize: number
  readonly vocabSize: number
  readonly maxPositions: number
  readonly parameters: number
  /** Storage dtype of the weights on disk, e.g. 'F32', 'BF16'. */
  readonly dtype: string
  /** Compute backend or execution provider in use, e.g. 'wasm', 'cpu', 'tensorflow'. */
  readonly backend: string
}

/**
 * Where a forward pass begins when it does not begin at the tokens: the residual state h_block
 * ((batch*seqLen) × hiddenSize, the rows of `TokenBatch` order) entering block `block`. Blocks
 * before `block` are not run, so a loss with blocks ≥ `block` removed costs (T − block)/T of a pass.
 * The token ids of the batch are still needed (for the loss targets and position-dependent layers).
 * Adapters that cannot start mid-network throw `PruneError('UNSUPPORTED_OPERATION')`.
 */
export interface ForwardStart {
  readonly block: number
  readonly state: Matrix
}

export interface ForwardOptions {
  /** Blocks to skip (the residual stream passes through them unchanged). */
  readonly skip?: ReadonlySet<number> | readonly number[]
  /** Begin at block `start.block` from the given residual state instead of the embedding. */
  readonly start?: ForwardStart
  /** Return h_0..h_T (T+1 matrices of (batch*seqLen) × hiddenSize). Default false. */
  readonly hiddenStates?: boolean
  /**
   * Only these flat token rows (b*seqLen + t) are kept in the returned hidden states, in this order.
   * Bounds memory when only a sample of tokens is needed.
   */
  readonly captureRows?: Int32Array
  /**
   * Called with each hidden state h_i (i = 0..T) of all tokens while the forward runs; the matrix is
   * only valid during the call. For streaming statistics that need every token.
   */
  readonly onHiddenState?: (index: number, h: Matrix) => void
  /** Return logits ((batch*seqLen) × vocab). Default true. */
  readonly logits?: boolean
  /** Progress callback: called after each block with (blocksDone, totalBlocks). */
  readonly onProgress?: (done: number, total: number) => void
}

export interface ForwardResult {
  /**
   * h_0..h_T: index 0 is the embedding output, index T the last block's output BEFORE the final
   * norm (Hugging Face's last `hidden_states` entry is after the norm; ours is not). Skipped blocks
   * repeat their input. Present only when requested.
   */
  readonly hiddenStates?: readonly Matrix[]
  readonly logits?: Matrix
}

/** Next-token negative log-likelihood summed over every predicted position (seqLen−1 per sequence). */
export interface NllResult {
  readonly sumNll: number
  readonly tokens: number
}

export interface ExportResult {
  readonly path: string
  readonly numBlocks: number
  readonly removed: readonly number[]
}

/**
 * A model the pruner can run: hidden states for scoring, NLL for loss-based selection and
 * evaluation, and an export that writes the pruned model in the input's format.
 */
export interface ModelAdapter {
  readonly info: ModelInfo
  forward(batch: TokenBatch, options?: ForwardOptions): Promise<ForwardResult>
  nll(
    batch: TokenBatch,
    options?: {
      readonly skip?: ReadonlySet<number> | readonly number[]
      readonly start?: ForwardStart
    },
  ): Promise<NllResult>
  /**
   * Writes the model with `removed` blocks deleted to `outDir` (atomically: temp folder, then rename),
   * renumbering the kept blocks contiguously and recording `provenance`.
   */
  exportPruned(
    removed: readonly number[],
    outDir: string,
    provenance?: Readonly<Record<string, unknown>>,
  ): Promise<ExportResult>
  dispose(): void | Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Scoring and selection
// ---------------------------------------------------------------------------------------------

/**
 * Scores contiguous spans [start, start+length) of blocks from cached states. Span scores are
 * memoised: each span is evaluated at most once; `evaluations` counts real evaluations.
 * `higherMeansRemovable` says which end of the scale is pruned first (true for MI and cosine
 * similarity, false for ShortGPT BI and angular distance).
 */
export interface SpanScorer {
  readonly name: string
  readonly numBlocks: number
  readonly settings: EstimatorSettings
  readonly higherMeansRemovable: boolean
  score(start: BlockIndex, length: number): number
  readonly evaluations: number
}

/** Everything a selector may use. Score-based selectors read `scorer`; loss-based ones call `objective`. */
export interface SelectionContext {
  readonly numBlocks: number
  readonly scorer?: SpanScorer
  /** Calibration loss (mean NLL, nats) of the model with `removed` blocks skipped; one call = one forward pass. */
  readonly objective?: (removed: readonly BlockIndex[]) => Promise<number>
  /** Blocks that must never be selected. */
  readonly protectedBlocks?: readonly BlockIndex[]
}

export interface SelectionCost {
  readonly forwardPasses: number
  readonly miEvaluations: number
  readonly wallMs: number
}

export interface Selection {
  readonly selector: string
  /** Sorted 0-based block indices to remove. */
  readonly selected: readonly BlockIndex[]
  /** Removal order, where the method has one (greedy methods). */
  readonly order?: readonly BlockIndex[]
  readonly settings: EstimatorSettings
  readonly cost: SelectionCost
  readonly trace?: unknown
}

export interface Selector {
  readonly name: string
  readonly settings: EstimatorSettings
  select(context: SelectionContext, numToRemove: number): Selection | Promise<Selection>
}
