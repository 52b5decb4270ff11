import { readFile } from 'node:fs/promises'
import { PruneError, assertKnownOptions } from '@mi-prun/core'
import type { ModelAdapter } from '@mi-prun/core'
import { logProbAt } from './logprob.js'
import type { TextTokenizer } from './tokenizer.js'

const P = '[@mi-prun/eval]'

/** One lm-eval-harness-style multiple-choice item: the model scores `context + choices[i]` for each i. */
export interface McItem {
  readonly context: string
  /** Continuations, usually starting with a space (" word"), appended verbatim to the context. */
  readonly choices: readonly string[]
  /** Index of the correct choice. */
  readonly gold: number
}

/**
 * Parses JSONL (one `{ context, choices, gold }` object per non-empty line). Other fields are
 * ignored. Throws `INVALID_INPUT` naming the line of the first malformed item.
 */
export function parseMcTasks(jsonl: string, source = 'tasks'): McItem[] {
  const items: McItem[] = []
  const lines = jsonl.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const where = `${source}:${i + 1}`
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch (cause) {
      throw new PruneError(
        'INVALID_INPUT',
        `${P} ${where} is not valid JSON: each line must be one {context, choices, gold} object`,
        { cause },
      )
    }
    const o = v as Record<string, unknown>
    const ok =
      typeof o === 'object' &&
      o !== null &&
      typeof o['context'] === 'string' &&
      Array.isArray(o['choices']) &&
      (o['choices'] as unknown[]).length >= 2 &&
      (o['choices'] as unknown[]).every((c) => typeof c === 'string' && c.length > 0) &&
      Number.isInteger(o['gold']) &&
      (o['gold'] as number) >= 0 &&
      (o['gold'] as number) < (o['choices'] as unknown[]).length
    if (!ok) {
      throw new PruneError(
        'INVALID_INPUT',
        `${P} ${where} must be {"context": string, "choices": [≥ 2 non-empty strings], "gold": index into choices}`,
      )
    }
    items.push({
      context: o['context'] as string,
      choices: o['choices'] as string[],
      gold: o['gold'] as number,
    })
  }
  if (items.length === 0)
    throw new PruneError('INVALID_INPUT', `${P} ${source} holds no items: add JSONL lines`)
  return items
}

/** Reads and parses a JSONL task file (see {@link parseMcTasks}). */
export async function loadMcTasks(path: string): Promise<McItem[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new PruneError('IO_ERROR', `${P} cannot read the task file ${path}: ${(cause as Error).message}`, {
      cause,
    })
  }
  return parseMcTasks(text, path)
}

export interface McOptions {
  /** Blocks skipped during evaluation. */
  readonly skip?: readonly number[]
  /** Longest sequence fed to the model; longer context+choice sequences keep their last tokens. Default 256. */
  readonly maxLength?: number
  /** Sequences per forward call (sequences of equal length are batched together). Default 16. */
  readonly batchSize?: number
  /** Evaluate only the first `limit` items. */
  readonly limit?: number
  readonly onProgress?: (done: number, total: number) => void
}

export interface McResult {
  /** Fraction of items whose gold choice has the highest summed log-likelihood. */
  readonly acc: number
  /** Same, with each log-likelihood divided by the choice's length in characters (lm-eval `acc_norm`). */
  readonly accNorm: number
  readonly items: number
  /** Standard error of acc, √(acc(1−acc)/(n−1)) (as lm-eval reports it). */
  readonly accStderr: number
  /** Summed continuation log-likelihood (nats) of every choice of every item. */
  readonly logLikelihoods: readonly (readonly number[])[]
  readonly settings: {
    readonly kind: 'multiple-choice'
    readonly maxLength: number
    readonly skip: readonly number[]
  }
}

interface Request {
  readonly item: number
  readonly choice: number
  readonly ids: Int32Array
  /** First position of the continuation inside `ids`. */
  readonly contStart: number
}

/**
 * Zero-shot multiple-choice accuracy in the style of lm-eval-harness [1]: for each choice, the
 * sequence encode(context + choice) is scored and the continuation tokens (those after
 * encode(context)) contribute log p(token | everything before it); `acc` picks the choice with the
 * highest summed log-likelihood, `acc_norm` divides each sum by the choice's character length.
 * Ties go to the lowest index.
 *
 * [1] L. Gao et al., "A framework for few-shot language model evaluation" (lm-evaluation-harness), v0.4.
 */
export async function evaluateMultipleChoice(
  adapter: ModelAdapter,
  tokenizer: TextTokenizer,
  items: readonly McItem[],
  options: McOptions = {},
): Promise<McResult> {
  assertKnownOptions('@mi-prun/eval', options, [
    'skip',
    'maxLength',
    'batchSize',
    'limit',
    'onProgress',
  ] satisfies (keyof McOptions)[])
  const { skip = [], maxLength = 256, batchSize = 16, limit = items.length, onProgress } = options
  if (!Number.isInteger(maxLength) || maxLength < 2)
    throw new RangeError(`${P} maxLength must be an integer ≥ 2, got ${maxLength}`)
  const used = items.slice(0, limit)
  if (used.length === 0) throw new PruneError('INVALID_INPUT', `${P} no multiple-choice items to evaluate`)
  const skipSorted = [...new Set(skip)].sort((a, b) => a - b)
  const requests: Request[] = []
  used.forEach((item, i) => {
    const ctx = tokenizer.encode(item.context)
    item.choices.forEach((choice, c) => {
      let whole = tokenizer.encode(item.context + choice)
      let contStart = ctx.length
      if (contStart >= whole.length) {
        throw new PruneError(
          'INVALID_INPUT',
          `${P} item ${i} choice ${c} (${JSON.stringify(choice)}) encodes to no tokens after the context`,
        )
      }
      if (whole.length > maxLength) {
        const cut = whole.length - maxLength
        whole = whole.subarray(cut)
        contStart = Math.max(1, contStart - cut)
      }
      if (contStart < 1) contStart = 1 // the very first token has no prediction
      requests.push({ item: i, choice: c, ids: whole, contStart })
    })
  })
  const ll = used.map((it) => new Array<number>(it.choices.length).fill(0))
  // group by length so that every forward call is one rectangular batch
  const byLength = new Map<number, Request[]>()
  for (const r of requests) {
    const g = byLength.get(r.ids.length)
    if (g) g.push(r)
    else byLength.set(r.ids.length, [r])
  }
  let done = 0
  for (const len of [...byLength.keys()].sort((a, b) => a - b)) {
    const group = byLength.get(len)!
    for (let s = 0; s < group.length; s += batchSize) {
      const chunk = group.slice(s, s + batchSize)
      const ids = new Int32Array(chunk.length * len)
      chunk.forEach((r, b) => ids.set(r.ids, b * len))
      const { logits } = await adapter.forward(
        { ids, batch: chunk.length, seqLen: len },
        { skip: skipSorted, logits: true },
      )
      if (!logits)
        throw new PruneError(
          'INVALID_INPUT',
          `${P} the adapter returned no logits although they were requested`,
        )
      chunk.forEach((r, b) => {
        let sum = 0
        for (let t = r.contStart; t < len; t++) sum += logProbAt(logits, b * len + t - 1, r.ids[t]!)
        if (!Number.isFinite(sum)) {
          throw new PruneError(
            'NON_FINITE',
            `${P} non-finite log-likelihood for item ${r.item} choice ${r.choice}: check the weights for NaN/Inf`,
          )
        }
        ll[r.item]![r.choice] = sum
      })
      done += chunk.length
      onProgress?.(done, requests.length)
    }
  }
  let correct = 0
  let correctNorm = 0
  used.forEach((item, i) => {
    const lls = ll[i]!
    if (argmax(lls) === item.gold) correct++
    if (argmax(lls.map((v, c) => v / item.choices[c]!.length)) === item.gold) correctNorm++
  })
  const n = used.length
  const acc = correct / n
  return {
    acc,
    accNorm: correctNorm / n,
    items: n,
    accStderr: n > 1 ? Math.sqrt((acc * (1 - acc)) / (n - 1)) : Number.NaN,
    logLikelihoods: ll,
    settings: { kind: 'multiple-choice', maxLength, skip: skipSorted },
  }
}

function argmax(v: readonly number[]): number {
  let best = 0
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i
  return best
}
