// Shared setup of the examples: the reference model models/gpt2-kjv (8 GPT-2 blocks, d = 128, trained on the KJV
// Bible by scripts/models), its tokenizer, a small calibration batch from data/kjv/train.txt and held-out ids
// from data/kjv/test.txt. Small token counts keep every example well under 20 s on a busy 2-core machine.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PruneError, type TokenBatch } from '@mi-prun/core'
import { type TfjsModelAdapter, loadHfModel } from '@mi-prun/adapter-tfjs'
import { loadTokenizer, tokenWindows } from '@mi-prun/eval'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const modelDir = join(root, 'models', 'gpt2-kjv')

export interface Reference {
  readonly model: TfjsModelAdapter
  /** Calibration: `windows` sequences of `seqLen` tokens from the start of data/kjv/train.txt. */
  readonly calibration: TokenBatch
  /** Held-out token ids from the start of data/kjv/test.txt. */
  readonly heldOut: Int32Array
}

/** Loads the reference model (wasm/cpu backend chain) with a calibration batch and held-out ids. */
export async function loadReference(options: { windows?: number; seqLen?: number } = {}): Promise<Reference> {
  const { windows = 4, seqLen = 64 } = options
  if (!existsSync(join(modelDir, 'config.json')))
    throw new PruneError(
      'INVALID_INPUT',
      `[@mi-prun/examples] ${modelDir} has no config.json: build the reference model first (see scripts/models/README.md)`,
    )
  const tokenizer = await loadTokenizer(modelDir)
  // a prefix of each text is enough for a few windows (about 4 characters per token)
  const text = (file: string): string =>
    readFileSync(join(root, 'data', 'kjv', file), 'utf8').slice(0, 8 * windows * seqLen * 4)
  const calibration = tokenWindows(tokenizer.encode(text('train.txt')), {
    windowLength: seqLen,
    maxWindows: windows,
  }).batch
  const heldOut = tokenizer.encode(text('test.txt'))
  const model = await loadHfModel(modelDir)
  return { model, calibration, heldOut }
}

/** Spearman rank correlation of two equally long score vectors (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]): number[] => {
    const idx = v.map((_, i) => i).sort((i, j) => v[i]! - v[j]!)
    const r = new Array<number>(v.length)
    for (let s = 0; s < idx.length;) {
      let e = s
      while (e + 1 < idx.length && v[idx[e + 1]!] === v[idx[s]!]) e++
      for (let t = s; t <= e; t++) r[idx[t]!] = (s + e) / 2 + 1
      s = e + 1
    }
    return r
  }
  const ra = rank(a)
  const rb = rank(b)
  const n = a.length
  const mean = (n + 1) / 2
  let num = 0
  let da = 0
  let db = 0
  for (let i = 0; i < n; i++) {
    num += (ra[i]! - mean) * (rb[i]! - mean)
    da += (ra[i]! - mean) ** 2
    db += (rb[i]! - mean) ** 2
  }
  return num / Math.sqrt(da * db)
}

/** True when the module at `url` is the script node was started with. */
export const isMain = (url: string): boolean =>
  process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1]
