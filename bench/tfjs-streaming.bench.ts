// Layer-streaming memory and forward throughput of @mi-prun/adapter-tfjs.
//
// 1. Generates a seeded random Llama checkpoint larger than 2 GB in a temp folder, then runs one
//    streamed forward pass (wasm backend, small batch, hidden states + logits kept) in a child
//    process, and compares the child's peak RSS (VmHWM) with
//      budget = largest block + embeddings/head + activation store   (all as float32 bytes).
//    The bar: peak RSS < 1.5 × budget. The temp folder is deleted afterwards.
// 2. Forward throughput (tokens/s, wasm) of the reference models models/llama-kjv and
//    models/gpt2-kjv when they are present.
// Writes bench/results/tfjs-streaming.json. Run: node bench/run-all.mjs tfjs-streaming
// Options (env): MI_PRUN_BENCH_LAYERS (default 10), MI_PRUN_BENCH_D (2048), MI_PRUN_BENCH_TOKENS (2x64).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
// The bench package does not list the adapter yet: import it by path (see the integrator notes).
import { generateRandomCheckpoint, inspectHfModel, loadHfModel } from '../packages/adapters/tfjs/src/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const MB = 1024 * 1024

function vmHwm(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss
}

async function child(dir: string, batch: number, seqLen: number): Promise<void> {
  const baseline = process.memoryUsage().rss
  const t0 = performance.now()
  const model = await loadHfModel(dir, { backend: 'wasm', stream: true })
  const afterLoad = process.memoryUsage().rss
  const ids = Int32Array.from({ length: batch * seqLen }, (_, i) => (i * 7919 + 13) % model.info.vocabSize)
  let sampled = afterLoad
  const t1 = performance.now()
  const r = await model.forward(
    { ids, batch, seqLen },
    {
      hiddenStates: true,
      onProgress: () => {
        sampled = Math.max(sampled, process.memoryUsage().rss)
      },
    },
  )
  const t2 = performance.now()
  const finite = r.logits!.data.every(Number.isFinite)
  const out = {
    backend: model.info.backend,
    baselineRss: baseline,
    afterLoadRss: afterLoad,
    sampledPeakRss: Math.max(sampled, process.memoryUsage().rss),
    peakRss: vmHwm(),
    loadMs: t1 - t0,
    forwardMs: t2 - t1,
    finite,
    states: r.hiddenStates!.length,
  }
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`)
}

async function throughput(dir: string): Promise<Record<string, unknown>> {
  const model = await loadHfModel(dir, { backend: 'wasm' })
  const S = Math.min(128, model.info.maxPositions)
  const B = 8
  const ids = Int32Array.from({ length: B * S }, (_, i) => (i * 7919 + 13) % model.info.vocabSize)
  await model.forward({ ids: ids.subarray(0, S), batch: 1, seqLen: S }) // warm-up
  const reps = 3
  const t0 = performance.now()
  for (let r = 0; r < reps; r++) await model.forward({ ids, batch: B, seqLen: S }, { hiddenStates: true })
  const ms = (performance.now() - t0) / reps
  const res = {
    model: dir,
    arch: model.info.architecture,
    blocks: model.info.numBlocks,
    d: model.info.hiddenSize,
    vocab: model.info.vocabSize,
    parameters: model.info.parameters,
    batch: B,
    seqLen: S,
    msPerForward: Math.round(ms),
    tokensPerSecond: Math.round((B * S) / (ms / 1000)),
  }
  model.dispose()
  return res
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child')
    return child(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]))
  const layers = Number(process.env['MI_PRUN_BENCH_LAYERS'] ?? 10)
  const d = Number(process.env['MI_PRUN_BENCH_D'] ?? 2048)
  const [batch, seqLen] = (process.env['MI_PRUN_BENCH_TOKENS'] ?? '2x64').split('x').map(Number) as [
    number,
    number,
  ]
  const root = mkdtempSync(join(tmpdir(), 'mi-prun-stream-bench-'))
  const results: Record<string, unknown> = { bench: 'tfjs-streaming', node: process.version }
  try {
    const dir = join(root, 'llama-big')
    const tg = performance.now()
    await generateRandomCheckpoint(dir, {
      arch: 'llama',
      seed: 1,
      hiddenSize: d,
      numBlocks: layers,
      numHeads: d / 128,
      numKvHeads: d / 128,
      intermediateSize: Math.round((d * 11) / 4),
      vocabSize: 32000,
      maxPositions: 2048,
      tied: false,
    })
    const s = inspectHfModel(dir)
    const diskBytes = s.tensors.reduce((a, t) => a + t.bytes, 0)
    const largestBlock = Math.max(...s.blockBytes)
    const N = batch * seqLen
    const activations = (layers + 1) * N * d * 4 + N * s.arch.vocabSize * 4
    const budgetBlockAct = largestBlock + activations
    const budget = largestBlock + s.globalBytes + activations
    console.log(
      `generated ${(diskBytes / 2 ** 30).toFixed(2)} GiB (${layers} blocks, d=${d}) in ${((performance.now() - tg) / 1000).toFixed(1)} s`,
    )
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions',
        '@mi-prun/source',
        fileURLToPath(import.meta.url),
        '--child',
        dir,
        String(batch),
        String(seqLen),
      ],
      {
        encoding: 'utf8',
        cwd: here,
        maxBuffer: 1 << 24,
      },
    )
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
    if (r.status !== 0 || line === undefined)
      throw new Error(`child failed (${r.status}): ${r.stderr.slice(-2000)}`)
    const c = JSON.parse(line.slice(7)) as Record<string, number>
    const stream = {
      checkpointBytes: diskBytes,
      layers,
      d,
      batch,
      seqLen,
      largestBlockBytes: largestBlock,
      embeddingsAndHeadBytes: s.globalBytes,
      activationStoreBytes: activations,
      ...c,
      ratioPeakToBlockPlusEmbPlusAct: c['peakRss']! / budget,
      ratioPeakToBlockPlusAct: c['peakRss']! / budgetBlockAct,
      ratioPeakMinusBaselineToBlockPlusEmbPlusAct: (c['peakRss']! - c['baselineRss']!) / budget,
      ratioPeakToCheckpoint: c['peakRss']! / diskBytes,
    }
    results['streaming'] = stream
    console.log('\nstreaming forward (wasm), child process')
    console.table({
      checkpoint: `${(diskBytes / MB).toFixed(0)} MiB`,
      'largest block': `${(largestBlock / MB).toFixed(0)} MiB`,
      'embeddings + head': `${(s.globalBytes / MB).toFixed(0)} MiB`,
      'activation store': `${(activations / MB).toFixed(1)} MiB`,
      'baseline RSS (node+tsx+tfjs)': `${(c['baselineRss']! / MB).toFixed(0)} MiB`,
      'peak RSS (VmHWM)': `${(c['peakRss']! / MB).toFixed(0)} MiB`,
      'peak / (block+emb+act)': stream.ratioPeakToBlockPlusEmbPlusAct.toFixed(2),
      'peak / (block+act)': stream.ratioPeakToBlockPlusAct.toFixed(2),
      '(peak-baseline) / (block+emb+act)': stream.ratioPeakMinusBaselineToBlockPlusEmbPlusAct.toFixed(2),
      'peak / checkpoint': stream.ratioPeakToCheckpoint.toFixed(2),
      'forward ms': c['forwardMs']!.toFixed(0),
    })
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
  const repo = join(here, '..')
  const tp: Record<string, unknown>[] = []
  for (const name of ['llama-kjv', 'gpt2-kjv']) {
    const dir = join(repo, 'models', name)
    if (!existsSync(join(dir, 'config.json'))) {
      console.log(`models/${name}: not present, throughput skipped`)
      tp.push({ model: `models/${name}`, skipped: 'not present' })
      continue
    }
    const t = await throughput(dir)
    console.log(
      `models/${name}: ${t['tokensPerSecond']} tokens/s (wasm, ${t['batch']}x${t['seqLen']}, hidden states kept)`,
    )
    tp.push({ ...t, model: `models/${name}` })
  }
  results['throughput'] = tp
  mkdirSync(join(here, 'results'), { recursive: true })
  const custom = ['MI_PRUN_BENCH_LAYERS', 'MI_PRUN_BENCH_D', 'MI_PRUN_BENCH_TOKENS'].some(
    (k) => process.env[k] !== undefined,
  )
  const file = custom ? `tfjs-streaming-d${d}-L${layers}-${batch}x${seqLen}.json` : 'tfjs-streaming.json'
  writeFileSync(join(here, 'results', file), JSON.stringify(results, null, 2) + '\n')
}

await main()
