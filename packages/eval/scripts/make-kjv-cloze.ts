/**
 * Writes tasks/kjv-cloze.jsonl: a 4-way next-words cloze task from the held-out KJV test split.
 *
 * How: the verses (lines) of data/kjv/test.txt with at least 12 words are shuffled with
 * createRng(SEED); for each of the first ITEMS verses the context is its first k words (k uniform in
 * [6, min(20, words − 2)]), the gold continuation is the next two words (with a leading space), and the
 * three distractors are two-word sequences taken at uniform random positions of OTHER verses of the
 * same split, distinct from the gold and from each other. The gold's position is item index mod 4, so
 * every position holds exactly a quarter of the golds. Same text + seed → same bytes.
 *
 * Run: node --import tsx --conditions @mi-prun/source packages/eval/scripts/make-kjv-cloze.ts
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createRng } from '@mi-prun/core'

const SEED = 2026
const ITEMS = 300
const root = fileURLToPath(new URL('../../../', import.meta.url))
const source = `${root}data/kjv/test.txt`
const out = fileURLToPath(new URL('../tasks/kjv-cloze.jsonl', import.meta.url))

const verses = readFileSync(source, 'utf8')
  .split('\n')
  .map((l) => l.trim().split(/\s+/).filter(Boolean))
  .filter((w) => w.length >= 12)
const rng = createRng(SEED)
const order = rng.shuffle(verses.map((_, i) => i))
const lines: string[] = []
for (let n = 0; n < ITEMS && n < order.length; n++) {
  const vi = order[n]!
  const words = verses[vi]!
  const k = 6 + rng.nextInt(Math.min(20, words.length - 2) - 6 + 1)
  const context = words.slice(0, k).join(' ')
  const gold = ` ${words[k]} ${words[k + 1]}`
  const choices = new Set<string>([gold])
  const distractors: string[] = []
  while (distractors.length < 3) {
    const oi = rng.nextInt(verses.length)
    if (oi === vi) continue
    const other = verses[oi]!
    const p = rng.nextInt(other.length - 1)
    const d = ` ${other[p]} ${other[p + 1]}`
    if (choices.has(d)) continue
    choices.add(d)
    distractors.push(d)
  }
  const goldAt = n % 4
  const all = [...distractors]
  all.splice(goldAt, 0, gold)
  lines.push(JSON.stringify({ id: `kjv-cloze-${n}`, context, choices: all, gold: goldAt }))
}
const tmp = `${out}.tmp-${process.pid}`
writeFileSync(tmp, `${lines.join('\n')}\n`)
renameSync(tmp, out)
console.log(`wrote ${lines.length} items to ${out} (seed ${SEED}, source ${source})`)
