// ONNX adapter evidence: (1) hidden-state capture overhead: a plain ORT session on the unmodified
// graph vs the same graph with h_0..h_T added as outputs, same inputs, interleaved repeats (target
// ratio <= 1.5); (2) forward throughput (tokens/s) of the ONNX and TF.js adapters on the reference
// models with the same batch. Prints a table and writes bench/results/onnx.json.
//   node --import tsx --conditions @mi-prun/source bench/onnx.bench.ts [--repeats 15] [--batch 4] [--seq 64] [--threads 1]
// The adapters are imported from source by relative path because bench/package.json does not list
// them (see the integrator notes in the adapter's README).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  discoverBlocks,
  encodeModel,
  loadOnnxModel,
  readModelFile,
  resolveOrt,
  withHiddenOutputs,
} from '../packages/adapters/onnx/src/index.js'
import { loadHfModel } from '../packages/adapters/tfjs/src/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '15' },
    batch: { type: 'string', default: '4' },
    seq: { type: 'string', default: '64' },
    tfjsRepeats: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
  },
})
const R = Number(values.repeats)
const B = Number(values.batch)
const S = Number(values.seq)
const RT = Number(values.tfjsRepeats)
// One ORT thread by default: TF.js wasm is single-threaded too, and the 2-core machine is shared.
const THREADS = Number(values.threads)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
// Without an injected module the adapter imports onnxruntime-node from its own package.
const ort = (await resolveOrt(undefined)) as any
const version = (p: string) =>
  JSON.parse(readFileSync(join(root, p, 'package.json'), 'utf8')).version as string

const results: Record<string, unknown>[] = []
for (const name of ['gpt2-kjv', 'llama-kjv']) {
  const dir = join(root, 'models', name)
  const file = join(dir, 'onnx', 'model_no_past.onnx')
  if (!existsSync(file)) {
    console.log(`${name}: no ONNX export, skipped`)
    continue
  }
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
  const V = cfg.vocab_size as number
  const ids = Int32Array.from({ length: B * S }, (_, i) => (i * 131 + 17) % V)
  const row: Record<string, unknown> = { model: name, batch: B, seqLen: S, tokens: B * S }
  try {
    // (1) overhead: plain session vs hidden-output session, same ORT options as the adapter.
    const lf = await readModelFile(file)
    const st = discoverBlocks(lf.model, { numBlocks: cfg.num_hidden_layers ?? cfg.n_layer })
    const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: THREADS }
    const plain = await ort.InferenceSession.create(file, opts)
    const hidden = await ort.InferenceSession.create(
      encodeModel(withHiddenOutputs(lf.model, st.hiddenStates).model),
      opts,
    )
    const feeds: Record<string, unknown> = {}
    for (const n of plain.inputNames as string[]) {
      if (n === 'input_ids') feeds[n] = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [B, S])
      else if (n === 'attention_mask')
        feeds[n] = new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S])
      else if (n === 'position_ids')
        feeds[n] = new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: B * S }, (_, i) => BigInt(i % S)),
          [B, S],
        )
      else throw new Error(`unexpected input ${n}`)
    }
    await plain.run(feeds)
    await hidden.run(feeds)
    const tp: number[] = []
    const th: number[] = []
    let maxDiff = 0
    for (let r = 0; r < R; r++) {
      let t = performance.now()
      const a = await plain.run(feeds)
      tp.push(performance.now() - t)
      t = performance.now()
      const b = await hidden.run(feeds)
      th.push(performance.now() - t)
      const la = a.logits.data as Float32Array
      const lb = b.logits.data as Float32Array
      for (let k = 0; k < la.length; k++) maxDiff = Math.max(maxDiff, Math.abs(la[k]! - lb[k]!))
    }
    row.plainMs = median(tp)
    row.hiddenMs = median(th)
    row.overhead = median(th) / median(tp)
    // The machine is shared: the ratio of the fastest runs is the least noisy estimate.
    row.plainMinMs = Math.min(...tp)
    row.hiddenMinMs = Math.min(...th)
    row.overheadOfMins = Math.min(...th) / Math.min(...tp)
    row.logitsMaxAbsDiff = maxDiff
    row.numBlocks = st.numBlocks
    await plain.release()
    await hidden.release()
    // (2) adapter throughput, logits only and with hidden states.
    const onnx = await loadOnnxModel(dir, {
      ort: async () => ort,
      executionProviders: ['cpu'],
      intraOpNumThreads: THREADS,
    })
    const batch = { ids, batch: B, seqLen: S }
    await onnx.forward(batch)
    await onnx.forward(batch, { hiddenStates: true })
    const fo: number[] = []
    const fh: number[] = []
    for (let r = 0; r < R; r++) {
      let t = performance.now()
      await onnx.forward(batch)
      fo.push(performance.now() - t)
      t = performance.now()
      await onnx.forward(batch, { hiddenStates: true })
      fh.push(performance.now() - t)
    }
    row.onnxForwardMs = median(fo)
    row.onnxTokensPerS = (B * S) / (median(fo) / 1000)
    row.onnxHiddenForwardMs = median(fh)
    await onnx.dispose()
    const tf = await loadHfModel(dir, { backend: 'wasm' })
    // Agreement of the two engines on this batch (max |a-b| / max |b|, b = TF.js).
    const on = await loadOnnxModel(dir, {
      ort: async () => ort,
      executionProviders: ['cpu'],
      intraOpNumThreads: THREADS,
    })
    const a = await on.forward(batch, { hiddenStates: true })
    const b = await tf.forward(batch, { hiddenStates: true })
    const rel = (x: Float32Array, y: Float32Array) => {
      let n = 0
      let d = 1e-30
      for (let k = 0; k < x.length; k++)
        ((n = Math.max(n, Math.abs(x[k]! - y[k]!))), (d = Math.max(d, Math.abs(y[k]!))))
      return n / d
    }
    row.onnxVsTfjsLogitsRel = rel(a.logits!.data, b.logits!.data)
    row.onnxVsTfjsHiddenRelMax = Math.max(
      ...a.hiddenStates!.map((h, i) => rel(h.data, b.hiddenStates![i]!.data)),
    )
    await on.dispose()
    const ft: number[] = []
    for (let r = 0; r < RT; r++) {
      const t = performance.now()
      await tf.forward(batch)
      ft.push(performance.now() - t)
    }
    row.tfjsBackend = tf.info.backend
    row.tfjsForwardMs = median(ft)
    row.tfjsTokensPerS = (B * S) / (median(ft) / 1000)
    row.onnxOverTfjs = median(ft) / median(fo)
    await tf.dispose()
  } catch (e) {
    row.error = (e as Error).message.split('\n')[0]
  }
  results.push(row)
}

const fmt = (x: unknown, d = 1) => (typeof x === 'number' ? x.toFixed(d) : String(x ?? '-'))
console.log(
  `\nONNX adapter bench, batch ${B}x${S}, ${THREADS} ORT thread(s), median of ${R} interleaved repeats (TF.js: ${RT})`,
)
console.log(
  'model      | plain ORT ms | +h_0..h_T ms | ratio (of mins) | adapter fwd ms | ONNX tok/s | TF.js tok/s | ONNX/TF.js | rel diff logits / h',
)
for (const r of results) {
  if (r.error !== undefined) {
    console.log(`${String(r.model).padEnd(10)} | error: ${r.error}`)
    continue
  }
  console.log(
    `${String(r.model).padEnd(10)} | ${fmt(r.plainMs).padStart(12)} | ${fmt(r.hiddenMs).padStart(12)} | ${fmt(r.overhead, 3).padStart(5)} (${fmt(r.overheadOfMins, 3)}) | ${fmt(r.onnxForwardMs).padStart(14)} | ${fmt(r.onnxTokensPerS, 0).padStart(10)} | ${fmt(r.tfjsTokensPerS, 0).padStart(11)} | ${fmt(r.onnxOverTfjs, 1).padStart(10)} | ${(r.onnxVsTfjsLogitsRel as number).toExponential(1)} / ${(r.onnxVsTfjsHiddenRelMax as number).toExponential(1)}`,
  )
}
mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(
  join(here, 'results', 'onnx.json'),
  JSON.stringify(
    {
      kind: 'bench-onnx',
      versions: {
        node: process.versions.node,
        'onnxruntime-node': version('packages/adapters/onnx/node_modules/onnxruntime-node'),
      },
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverage1m: loadavg()[0] },
      settings: {
        repeats: R,
        tfjsRepeats: RT,
        batch: B,
        seqLen: S,
        ortOptions: {
          executionProviders: ['cpu'],
          graphOptimizationLevel: 'all',
          intraOpNumThreads: THREADS,
        },
      },
      results,
    },
    null,
    2,
  ) + '\n',
)
