// Strict reading of config.json. A family parser reads every key through a `ConfigReader`, which
// records what it read; `finish()` then refuses every key that is present but was neither read
// (implemented) nor known to leave the numbers unchanged. So a config key that changes numerics and
// is not implemented can never be ignored silently: it is refused by name (UNSUPPORTED_CONFIG).

import { PruneError, suggestion } from '@mi-prun/core'

const P = '[@mi-prun/families]'

export type Config = Readonly<Record<string, unknown>>

/**
 * Keys that never change a forward pass of a decoder at inference in float32: bookkeeping,
 * tokenizer ids, generation defaults, training-only settings. Keys starting with `_` are
 * transformers-internal and also pass. Everything else must be read by the family's parser.
 */
export const NON_NUMERICS_KEYS: readonly string[] = Object.freeze([
  'architectures',
  'model_type',
  'transformers_version',
  'dtype',
  'torch_dtype',
  'use_cache',
  'bos_token_id',
  'eos_token_id',
  'pad_token_id',
  'sep_token_id',
  'decoder_start_token_id',
  'initializer_range',
  'initializer_factor',
  'attention_dropout',
  'hidden_dropout',
  'hidden_dropout_prob',
  'attention_probs_dropout_prob',
  'resid_pdrop',
  'embd_pdrop',
  'attn_pdrop',
  'summary_activation',
  'summary_first_dropout',
  'summary_proj_to_labels',
  'summary_type',
  'summary_use_proj',
  'task_specific_params',
  'id2label',
  'label2id',
  'problem_type',
  'output_router_logits',
  'router_aux_loss_coef',
  'router_jitter_noise',
  'router_z_loss_coef',
  'output_attentions',
  'output_hidden_states',
  'return_dict',
  'is_decoder',
  'is_encoder_decoder',
  'tie_encoder_decoder',
  'chunk_size_feed_forward',
  'add_cross_attention',
  'cross_attention_hidden_size',
  'pruned_heads',
  'torchscript',
  'tokenizer_class',
  'prefix',
  'name_or_path',
  'pretraining_tp',
  'use_bfloat16',
  'finetuning_task',
  'max_length',
  'min_length',
  'do_sample',
  'early_stopping',
  'num_beams',
  'num_beam_groups',
  'diversity_penalty',
  'temperature',
  'top_k',
  'top_p',
  'typical_p',
  'repetition_penalty',
  'length_penalty',
  'no_repeat_ngram_size',
  'encoder_no_repeat_ngram_size',
  'bad_words_ids',
  'num_return_sequences',
  'output_scores',
  'return_dict_in_generate',
  'forced_bos_token_id',
  'forced_eos_token_id',
  'remove_invalid_values',
  'exponential_decay_length_penalty',
  'suppress_tokens',
  'begin_suppress_tokens',
  'tf_legacy_loss',
  'use_return_dict',
  'cache_implementation',
])

/** Reads typed values from config.json, remembering which keys the family implements. */
export class ConfigReader {
  readonly config: Config
  readonly family: string
  readonly #read = new Set<string>()
  readonly #where: string

  constructor(config: Config, family: string, where = 'config.json') {
    this.config = config
    this.family = family
    this.#where = where
  }

  /** True when `key` is present with a non-null value. */
  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null
  }

  /** Marks `key` as implemented and returns its raw value. */
  raw(key: string): unknown {
    this.#read.add(key)
    return this.config[key]
  }

  /** Marks keys as implemented without reading them (a value the parser checks elsewhere). */
  consume(...keys: string[]): void {
    for (const k of keys) this.#read.add(k)
  }

  num(key: string, fallback?: number): number {
    const v = this.raw(key) ?? fallback
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.invalid(key, 'a finite number')
    return v
  }

  int(key: string, fallback?: number, min = 1): number {
    const v = this.num(key, fallback)
    if (!Number.isInteger(v) || v < min) throw this.invalid(key, `an integer ≥ ${min}`)
    return v
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key) ?? fallback
    if (typeof v !== 'boolean') throw this.invalid(key, 'true or false')
    return v
  }

  str(key: string, fallback?: string): string {
    const v = this.raw(key) ?? fallback
    if (typeof v !== 'string') throw this.invalid(key, 'a string')
    return v
  }

  /** An optional number: undefined when absent or null. */
  optNum(key: string): number | undefined {
    return this.has(key) ? this.num(key) : (this.raw(key), undefined)
  }

  /** PruneError INVALID_CONFIG for a malformed value. */
  invalid(key: string, expected: string): PruneError {
    return new PruneError(
      'INVALID_CONFIG',
      `${P} ${this.#where}: "${key}" must be ${expected}, got ${JSON.stringify(this.config[key])}`,
    )
  }

  /** PruneError UNSUPPORTED_CONFIG for a well-formed value this family does not implement. */
  unsupported(key: string, value: unknown, supported: string): PruneError {
    return new PruneError(
      'UNSUPPORTED_CONFIG',
      `${P} ${this.#where}: ${this.family}: "${key}" = ${JSON.stringify(value)} is not implemented (supported: ${supported}); ` +
        'refusing rather than computing different numbers',
    )
  }

  /**
   * Refuses every present key that was not read and is not known to leave numbers unchanged.
   * `alsoIgnored` are family-specific keys that do not change numerics (documented at the family).
   */
  finish(alsoIgnored: readonly string[] = []): void {
    const ok = new Set([...NON_NUMERICS_KEYS, ...alsoIgnored])
    const refused: string[] = []
    for (const key of Object.keys(this.config)) {
      if (this.#read.has(key) || ok.has(key) || key.startsWith('_')) continue
      refused.push(key)
    }
    if (refused.length > 0) {
      const first = refused[0]!
      throw new PruneError(
        'UNSUPPORTED_CONFIG',
        `${P} ${this.#where}: ${this.family}: config key${refused.length > 1 ? 's' : ''} ${refused
          .map((k) => `"${k}" = ${JSON.stringify(this.config[k])}`)
          .join(', ')} ${refused.length > 1 ? 'are' : 'is'} not implemented and may change the numbers; ` +
          `implemented keys: ${[...this.#read].sort().join(', ')} ${suggestion(first, [...this.#read])}`,
      )
    }
  }

  /** The keys read so far (the family's implemented numerics keys for this config). */
  get readKeys(): readonly string[] {
    return [...this.#read].sort()
  }
}
