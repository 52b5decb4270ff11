// Loads a model folder offline with transformers.js (scratch install) and greedily generates; prints the ids as
// JSON so check_generate.py can compare them with torch's greedy decode.
// Usage: node scripts/models/check_transformers.mjs <scratch dir> <models dir> <model name> <prompt> <new tokens>
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'

const [scratch, modelsDir, name, prompt, n] = process.argv.slice(2)
const require = createRequire(join(scratch, 'package.json'))
const tjs = await import(pathToFileURL(require.resolve('@huggingface/transformers')).href)
tjs.env.allowRemoteModels = false
tjs.env.localModelPath = modelsDir
const tokenizer = await tjs.AutoTokenizer.from_pretrained(name)
const model = await tjs.AutoModelForCausalLM.from_pretrained(name, { dtype: 'fp32' })
const inputs = tokenizer(prompt)
const out = await model.generate({ ...inputs, max_new_tokens: Number(n), do_sample: false })
const ids = Array.from(out.data, Number)
console.log(JSON.stringify({ ids, text: tokenizer.decode(ids) }))
