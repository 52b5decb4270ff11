import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createRng } from '@mi-prun/core'
import type { TokenBatch } from '@mi-prun/core'
import type { TextTokenizer } from '@mi-prun/eval'
import { CliError, exitCodes } from './errors.js'

/** The bundled calibration text (a slice of the KJV train split; see assets/README.md). */
export const bundledCalibration: string = fileURLToPath(new URL('../assets/kjv-calib.txt', import.meta.url))
/** The bundled held-out text (a slice of the KJV test split). */
export const bundledHeldout: string = fileURLToPath(new URL('../assets/kjv-heldout.txt', import.meta.url))

const P = '[@mi-prun/cli]'

function checkIds(ids: unknown, vocab: number, where: string): Int32Array {
  if (!Array.isArray(ids) || !ids.every((v) => Number.isInteger(v) && v >= 0 && v < vocab)) {
    throw new CliError(
      exitCodes.input,
      `${P} ${where}: token ids must be an array of integers in [0, ${vocab}) (the model's vocabulary)`,
    )
  }
  return Int32Array.from(ids as number[])
}

/**
 * Reads calibration or evaluation input into token streams: text files are tokenised whole; `.jsonl`
 * files give one stream per line (`{"text": …}` or `{"ids": […]}` or a JSON string); `.json` files hold
 * pre-tokenised ids (`number[][]` or `{"ids": number[][]}`). Throws when the input holds no token.
 */
export async function readTokenStreams(
  files: readonly string[],
  tokenizer: TextTokenizer,
  vocab: number,
): Promise<Int32Array[]> {
  const streams: Int32Array[] = []
  for (const file of files) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (cause) {
      throw new CliError(exitCodes.io, `${P} cannot read ${file}: ${(cause as Error).message}`, { cause })
    }
    if (file.endsWith('.json')) {
      let v: unknown
      try {
        v = JSON.parse(text)
      } catch (cause) {
        throw new CliError(
          exitCodes.input,
          `${P} ${file} is not valid JSON: pre-tokenised input is number[][] or {"ids": number[][]}`,
          { cause },
        )
      }
      const seqs = Array.isArray(v) ? v : (v as { ids?: unknown })?.ids
      if (!Array.isArray(seqs))
        throw new CliError(
          exitCodes.input,
          `${P} ${file}: pre-tokenised input must be number[][] or {"ids": number[][]}`,
        )
      seqs.forEach((s, i) => streams.push(checkIds(s, vocab, `${file} sequence ${i}`)))
    } else if (file.endsWith('.jsonl')) {
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return
        let v: unknown
        try {
          v = JSON.parse(line)
        } catch (cause) {
          throw new CliError(
            exitCodes.input,
            `${P} ${file}:${i + 1} is not valid JSON: each line is {"text": …}, {"ids": […]} or a string`,
            { cause },
          )
        }
        if (typeof v === 'string') streams.push(tokenizer.encode(v))
        else if (typeof (v as { text?: unknown })?.text === 'string')
          streams.push(tokenizer.encode((v as { text: string }).text))
        else if (Array.isArray((v as { ids?: unknown })?.ids))
          streams.push(checkIds((v as { ids: unknown }).ids, vocab, `${file}:${i + 1}`))
        else throw new CliError(exitCodes.input, `${P} ${file}:${i + 1} has neither "text" nor "ids"`)
      })
    } else {
      if (text.trim() === '')
        throw new CliError(
          exitCodes.input,
          `${P} ${file} is empty: pass a file with text (or omit --calib/--text for the bundled text)`,
        )
      streams.push(tokenizer.encode(text))
    }
  }
  const total = streams.reduce((a, s) => a + s.length, 0)
  if (total === 0)
    throw new CliError(
      exitCodes.input,
      `${P} ${files.join(', ')} holds no tokens: pass non-empty text or ids`,
    )
  return streams
}

/** Every non-overlapping window of `seqLen` tokens of every stream (tails shorter than a window are dropped). */
export function windowPool(streams: readonly Int32Array[], seqLen: number): Int32Array[] {
  const pool: Int32Array[] = []
  for (const s of streams)
    for (let o = 0; o + seqLen <= s.length; o += seqLen) pool.push(s.subarray(o, o + seqLen))
  return pool
}

/** Sequences packed into batches of at most `batchSize` rows. */
export function toBatches(seqs: readonly Int32Array[], seqLen: number, batchSize = 8): TokenBatch[] {
  const out: TokenBatch[] = []
  for (let i = 0; i < seqs.length; i += batchSize) {
    const chunk = seqs.slice(i, i + batchSize)
    const ids = new Int32Array(chunk.length * seqLen)
    chunk.forEach((s, j) => ids.set(s, j * seqLen))
    out.push({ ids, batch: chunk.length, seqLen })
  }
  return out
}

/**
 * Picks the calibration sequences: `samples` windows drawn uniformly (seeded) from the pool, in
 * pool order; with `subsets` = K it also returns K disjoint draws of the same size (for stability),
 * the first of which is the main set.
 */
export function drawCalibration(
  pool: readonly Int32Array[],
  options: { samples: number; seqLen: number; seed: number; subsets?: number; sources: readonly string[] },
): { main: Int32Array[]; subsets: Int32Array[][] } {
  const { samples, seqLen, seed, subsets = 1, sources } = options
  if (pool.length === 0) {
    throw new CliError(
      exitCodes.infeasible,
      `${P} the calibration input (${sources.join(', ')}) has fewer than ${seqLen} tokens in every stream: pass more text or a smaller --seq-len`,
    )
  }
  if (pool.length < samples * subsets) {
    throw new CliError(
      exitCodes.infeasible,
      `${P} the calibration input gives ${pool.length} sequences of ${seqLen} tokens, but ${samples}${subsets > 1 ? ` × ${subsets} subsets` : ''} are needed: pass more text, or lower --samples${subsets > 1 ? '/--subsets' : ''} or --seq-len`,
    )
  }
  const order = createRng(seed)
    .fork('calibration')
    .shuffle(pool.map((_, i) => i))
  const sets: Int32Array[][] = []
  for (let k = 0; k < subsets; k++) {
    const idx = order.slice(k * samples, (k + 1) * samples).sort((a, b) => a - b)
    sets.push(idx.map((i) => pool[i]!))
  }
  return { main: sets[0]!, subsets: sets }
}
