import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { PruneError, assertKnownOptions, createRng } from '@mi-prun/core'
import {
  type FloatDType,
  type TensorSource,
  encodeFloats,
  writeShardedSafetensors,
} from '@mi-prun/safetensors'
import { type ArchConfig, blockTensorShapes, globalTensorShapes, parseArchitecture } from './arch.js'

const P = '[@mi-prun/adapter-tfjs]'

/** Settings of a random-weight checkpoint. Sizes default to a tiny model. */
export interface RandomCheckpointOptions {
  readonly arch: 'llama' | 'mistral' | 'qwen2' | 'gpt2'
  readonly seed: number
  readonly hiddenSize?: number
  readonly numBlocks?: number
  readonly numHeads?: number
  /** Key/value heads (Llama family; < numHeads gives grouped-query attention). */
  readonly numKvHeads?: number
  readonly intermediateSize?: number
  readonly vocabSize?: number
  readonly maxPositions?: number
  readonly tied?: boolean
  readonly ropeTheta?: number
  /** Mistral sliding window (default none). */
  readonly slidingWindow?: number
  /** Storage dtype (default F32). */
  readonly dtype?: FloatDType
  /** Shard the weights (with an index) above this many bytes per shard. */
  readonly maxShardBytes?: number
  /** Extra config.json keys (override the generated ones). */
  readonly configExtra?: Readonly<Record<string, unknown>>
}

const RANDOM_CHECKPOINT_OPTION_KEYS = [
  'arch',
  'seed',
  'hiddenSize',
  'numBlocks',
  'numHeads',
  'numKvHeads',
  'intermediateSize',
  'vocabSize',
  'maxPositions',
  'tied',
  'ropeTheta',
  'slidingWindow',
  'dtype',
  'maxShardBytes',
  'configExtra',
] as const satisfies readonly (keyof RandomCheckpointOptions)[]

/** The config.json a random checkpoint gets, in Hugging Face's key names. */
export function randomConfig(o: RandomCheckpointOptions): Record<string, unknown> {
  assertKnownOptions('@mi-prun/adapter-tfjs', o, RANDOM_CHECKPOINT_OPTION_KEYS)
  const d = o.hiddenSize ?? 16
  const L = o.numBlocks ?? 4
  const H = o.numHeads ?? 4
  const V = o.vocabSize ?? 64
  const Pn = o.maxPositions ?? 64
  if (o.arch === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: d,
      n_layer: L,
      n_head: H,
      n_positions: Pn,
      vocab_size: V,
      n_inner: o.intermediateSize ?? null,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      tie_word_embeddings: o.tied ?? true,
      torch_dtype: 'float32',
      ...o.configExtra,
    }
  }
  const cls = { llama: 'LlamaForCausalLM', mistral: 'MistralForCausalLM', qwen2: 'Qwen2ForCausalLM' }[o.arch]
  return {
    architectures: [cls],
    model_type: o.arch,
    hidden_size: d,
    num_hidden_layers: L,
    num_attention_heads: H,
    num_key_value_heads: o.numKvHeads ?? H,
    intermediate_size: o.intermediateSize ?? 2 * d + 8,
    vocab_size: V,
    max_position_embeddings: Pn,
    rms_norm_eps: 1e-6,
    rope_theta: o.ropeTheta ?? 10000,
    hidden_act: 'silu',
    tie_word_embeddings: o.tied ?? false,
    rope_scaling: null,
    torch_dtype: 'float32',
    ...(o.arch === 'mistral' ? { sliding_window: o.slidingWindow ?? null } : {}),
    ...(o.arch === 'qwen2' ? { use_sliding_window: false, sliding_window: null, max_window_layers: L } : {}),
    ...o.configExtra,
  }
}

/**
 * Values of one tensor, from its own stream (seed and name) so the order of generation does not
 * matter: norms near 1, biases small, matrices ~ U(±√(3/fan_in)), embeddings ~ U(±1). The bulk
 * draws use xorshift32 seeded from the core Rng, fast enough for multi-GB checkpoints.
 */
function fill(name: string, shape: readonly number[], a: ArchConfig, seed: number): Float32Array {
  let x = createRng(seed).fork(name).nextInt(0x7fffffff) + 1
  const rng = {
    next(): number {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      return (x >>> 0) / 4294967296
    },
  }
  const n = shape.reduce((p, q) => p * q, 1)
  const out = new Float32Array(n)
  const isNorm = /(norm|ln_\w+|ln_f)\.weight$/.test(name)
  if (isNorm) {
    for (let i = 0; i < n; i++) out[i] = 1 + 0.2 * (rng.next() - 0.5)
    return out
  }
  if (shape.length === 1) {
    for (let i = 0; i < n; i++) out[i] = 0.2 * (rng.next() - 0.5)
    return out
  }
  const isEmbedding = /(embed_tokens|wte|wpe)\.weight$/.test(name)
  // Linear [out, in] (Llama family, lm_head) or Conv1D [in, out] (GPT-2 blocks)
  const fanIn = isEmbedding ? 1 : a.family === 'gpt2' && name !== 'lm_head.weight' ? shape[0]! : shape[1]!
  const amp = isEmbedding ? 1 : Math.sqrt(3 / fanIn)
  for (let i = 0; i < n; i++) out[i] = amp * (2 * rng.next() - 1)
  return out
}

/**
 * Writes a seeded random-weight Hugging Face folder (config.json, safetensors, optionally sharded,
 * and a small character-level tokenizer.json) for structure and scale tests; same seed → same
 * bytes. Tensors are generated one at a time while writing, so checkpoints larger than memory are
 * fine. Atomic: temp folder then rename; `dir` must not exist. Returns the parsed architecture.
 * @example
 * await generateRandomCheckpoint('/tmp/tiny-llama', { arch: 'llama', seed: 1, numKvHeads: 2 })
 */
export async function generateRandomCheckpoint(
  dir: string,
  options: RandomCheckpointOptions,
): Promise<ArchConfig> {
  assertKnownOptions('@mi-prun/adapter-tfjs', options, RANDOM_CHECKPOINT_OPTION_KEYS)
  const { seed, dtype = 'F32' } = options
  const out = resolve(dir)
  if (existsSync(out))
    throw new PruneError('IO_ERROR', `${P} ${out} already exists: generate into a new folder`)
  const config = randomConfig(options)
  const a = parseArchitecture(config)
  const shapes = new Map([...globalTensorShapes(a)])
  for (let i = 0; i < a.numBlocks; i++) for (const [k, v] of blockTensorShapes(a, i)) shapes.set(k, v)
  const tensors: TensorSource[] = [...shapes].map(([name, shape]) => ({
    name,
    dtype,
    shape,
    data: () =>
      dtype === 'F32'
        ? new Uint8Array(fill(name, shape, a, seed).buffer)
        : encodeFloats(dtype, fill(name, shape, a, seed)),
  }))
  mkdirSync(dirname(out), { recursive: true })
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.tmp-`))
  chmodSync(tmp, 0o755)
  try {
    await writeShardedSafetensors(tmp, tensors, {
      metadata: { format: 'pt' },
      ...(options.maxShardBytes === undefined ? {} : { maxShardBytes: options.maxShardBytes }),
    })
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n')
    const vocab: Record<string, number> = {}
    for (let i = 0; i < a.vocabSize; i++) vocab[`<${i}>`] = i
    writeFileSync(
      join(tmp, 'tokenizer.json'),
      // a complete tokenizers file (every top-level key present), so @huggingface/tokenizers loads it:
      // whitespace-separated `<id>` words map to their ids
      JSON.stringify({
        version: '1.0',
        truncation: null,
        padding: null,
        added_tokens: [],
        normalizer: null,
        pre_tokenizer: { type: 'WhitespaceSplit' },
        post_processor: null,
        decoder: null,
        model: { type: 'WordLevel', vocab, unk_token: '<0>' },
      }) + '\n',
    )
    renameSync(tmp, out)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
  return a
}
