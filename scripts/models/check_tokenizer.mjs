// Checks that @huggingface/tokenizers (installed in a scratch folder, never in the workspace) loads our
// tokenizer.json and reproduces the Python encoder's ids exactly, and decodes them back to the same text.
// Usage: node scripts/models/check_tokenizer.mjs <scratch dir with node_modules> <model dir> <cases.json>
// cases.json (written by check_tokenizer.py): [{ "text": ..., "ids": [...] }, ...]
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [scratch, modelDir, casesPath] = process.argv.slice(2)
const mod = await import(
  pathToFileURL(join(scratch, 'node_modules/@huggingface/tokenizers/dist/tokenizers.mjs')).href
)
const tj = JSON.parse(readFileSync(join(modelDir, 'tokenizer.json'), 'utf8'))
const tc = JSON.parse(readFileSync(join(modelDir, 'tokenizer_config.json'), 'utf8'))
const tok = new mod.Tokenizer(tj, tc)
const cases = JSON.parse(readFileSync(casesPath, 'utf8'))
let bad = 0
let n = 0
for (const c of cases) {
  const ids = tok.encode(c.text, { add_special_tokens: true }).ids
  n += ids.length
  const same = ids.length === c.ids.length && ids.every((v, i) => v === c.ids[i])
  const dec = tok.decode(ids)
  if (!same || dec !== c.text) {
    bad++
    const i = ids.findIndex((v, k) => v !== c.ids[k])
    console.log(
      'MISMATCH',
      JSON.stringify(c.text.slice(0, 80)),
      'first diff at',
      i,
      ids.slice(i, i + 5),
      c.ids.slice(i, i + 5),
      'decode equal:',
      dec === c.text,
    )
  }
}
console.log(`${cases.length} cases, ${n} tokens, ${bad} mismatches`)
process.exit(bad === 0 ? 0 : 1)
