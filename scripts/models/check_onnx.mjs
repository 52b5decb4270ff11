// Compares the exported ONNX graphs with torch's logits in onnxruntime-node (installed in a scratch folder,
// never in the workspace), because onnx 1.12 has no reference evaluator.
//  1. model_no_past.onnx on a right-padded batch  == torch logits
//  2. model.onnx with an empty cache (past_sequence_length 0, as transformers.js feeds it) == torch logits
//  3. model.onnx prefill of 6 tokens, then 6 single-token steps feeding present.* back == torch logits
// Usage: node scripts/models/check_onnx.mjs <scratch dir> <model dir> <fixture.json from export_onnx.py>
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'

const [scratch, modelDir, fixturePath] = process.argv.slice(2)
const require = createRequire(join(scratch, 'package.json'))
const ort = require('onnxruntime-node')
const config = JSON.parse(readFileSync(join(modelDir, 'config.json'), 'utf8'))
const fx = JSON.parse(readFileSync(fixturePath, 'utf8'))
const llama = config.model_type === 'llama'
const L = llama ? config.num_hidden_layers : config.n_layer
const KV = llama ? config.num_key_value_heads : config.n_head
const D = llama ? config.head_dim : config.n_embd / config.n_head
const V = config.vocab_size
const [B, T] = [fx.input_ids.length, fx.input_ids[0].length]
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 }

const i64 = (rows, from, to) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flatMap((r) => r.slice(from, to).map(BigInt))), [
    rows.length,
    to - from,
  ])
let worst = 0
let maxAbs = 0
function compare(logits, from, to, label) {
  // logits: [B, to-from, V]; compare with fx.logits[b][from..to) where the position is not padding
  let m = 0
  const n = to - from
  for (let b = 0; b < B; b++)
    for (let t = 0; t < n; t++) {
      if (fx.attention_mask[b][from + t] === 0) continue
      for (let v = 0; v < V; v++) {
        const e = fx.logits[b][from + t][v]
        const d = Math.abs(logits.data[(b * n + t) * V + v] - e)
        m = Math.max(m, d)
        maxAbs = Math.max(maxAbs, Math.abs(e))
      }
    }
  worst = Math.max(worst, m)
  console.log(`${label}: max |onnx - torch| = ${m.toExponential(3)}`)
}
function feeds(from, to, past) {
  const f = { input_ids: i64(fx.input_ids, from, to), attention_mask: i64(fx.attention_mask, 0, to) }
  if (llama) f.position_ids = i64(fx.position_ids, from, to)
  if (past) Object.assign(f, past)
  return f
}

const noPast = await ort.InferenceSession.create(join(modelDir, 'onnx/model_no_past.onnx'), opts)
compare((await noPast.run(feeds(0, T))).logits, 0, T, 'model_no_past.onnx full batch')

const kv = await ort.InferenceSession.create(join(modelDir, 'onnx/model.onnx'), opts)
const empty = {}
for (let i = 0; i < L; i++)
  for (const k of ['key', 'value'])
    empty[`past_key_values.${i}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [B, KV, 0, D])
compare((await kv.run(feeds(0, T, empty))).logits, 0, T, 'model.onnx, empty cache')

const P = 6
let out = await kv.run(feeds(0, P, empty))
compare(out.logits, 0, P, 'model.onnx prefill')
for (let t = P; t < T; t++) {
  const past = {}
  for (let i = 0; i < L; i++)
    for (const k of ['key', 'value']) past[`past_key_values.${i}.${k}`] = out[`present.${i}.${k}`]
  out = await kv.run(feeds(t, t + 1, past))
  compare(out.logits, t, t + 1, `model.onnx decode step t=${t}`)
}
const rel = worst / maxAbs
console.log(
  `worst abs diff ${worst.toExponential(3)}, relative to max |logit| ${maxAbs.toFixed(3)}: ${rel.toExponential(3)}`,
)
process.exit(rel < 1e-4 ? 0 : 1)
