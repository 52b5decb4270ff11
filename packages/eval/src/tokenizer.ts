import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Tokenizer } from '@huggingface/tokenizers'
import { PruneError, assertKnownOptions } from '@mi-prun/core'

const P = '[@mi-prun/eval]'

/** A text tokenizer as the evaluators need it: text → token ids and back. */
export interface TextTokenizer {
  /** Token ids of `text`; special tokens (e.g. a BOS) are added only when the tokenizer's post-processor adds them. */
  encode(text: string): Int32Array
  decode(ids: ArrayLike<number>): string
  /** Size of the vocabulary including added tokens (an upper bound on every id + 1). */
  readonly vocabSize: number
  /** Where it was loaded from and how, for provenance. */
  readonly settings: {
    readonly kind: 'hf-tokenizer'
    readonly path: string
    readonly addSpecialTokens: boolean
  }
}

export interface LoadTokenizerOptions {
  /** Let the tokenizer's post-processor add special tokens (BOS/EOS). Default false: plain text → plain ids. */
  readonly addSpecialTokens?: boolean
}

async function readJson(
  path: string,
  what: string,
  required: boolean,
): Promise<Record<string, unknown> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if (!required && (cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new PruneError(
      'IO_ERROR',
      `${P} cannot read ${what} at ${path}: ${(cause as Error).message}. A model folder needs a Hugging Face tokenizer.json next to config.json`,
      { cause },
    )
  }
  try {
    const value: unknown = JSON.parse(text)
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('not a JSON object')
    return value as Record<string, unknown>
  } catch (cause) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} ${what} at ${path} is not valid JSON (${(cause as Error).message}): re-export it`,
      {
        cause,
      },
    )
  }
}

/**
 * Loads the Hugging Face `tokenizer.json` (and `tokenizer_config.json`, when present) of a model
 * folder through `@huggingface/tokenizers` (pure JS, offline).
 * @example
 * const tok = await loadTokenizer('models/gpt2-kjv')
 * const ids = tok.encode('In the beginning') // Int32Array of token ids
 */
export async function loadTokenizer(
  modelDir: string,
  options: LoadTokenizerOptions = {},
): Promise<TextTokenizer> {
  assertKnownOptions('@mi-prun/eval', options, ['addSpecialTokens'] satisfies (keyof LoadTokenizerOptions)[])
  const { addSpecialTokens = false } = options
  const path = join(modelDir, 'tokenizer.json')
  const json = await readJson(path, 'tokenizer.json', true)
  const config =
    (await readJson(join(modelDir, 'tokenizer_config.json'), 'tokenizer_config.json', false)) ?? {}
  let tokenizer: Tokenizer
  try {
    tokenizer = new Tokenizer(json!, config)
  } catch (cause) {
    throw new PruneError(
      'INVALID_CONFIG',
      `${P} tokenizer.json at ${path} could not be built (${(cause as Error).message}): it must be a Hugging Face tokenizers file`,
      { cause },
    )
  }
  const vocab = tokenizer.get_vocab(true)
  let maxId = -1
  for (const id of vocab.values()) if (id > maxId) maxId = id
  const vocabSize = maxId + 1
  return {
    vocabSize,
    settings: { kind: 'hf-tokenizer', path, addSpecialTokens },
    encode(text: string): Int32Array {
      return Int32Array.from(tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids)
    },
    decode(ids: ArrayLike<number>): string {
      return tokenizer.decode(Array.from(ids))
    },
  }
}
