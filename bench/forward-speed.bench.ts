// Forward speed of HF checkpoints on ONNX Runtime (graph built from config.json + safetensors) vs
// PyTorch CPU, same checkpoint, same machine, same thread count, one run, side by side. The
// checkpoint is a random-init LlamaForCausalLM with SmolLM2-135M's shape written by transformers'
// own save_pretrained (scripts/bench/forward_speed_torch.py, which also times PyTorch). Measured:
//   prefill     batch 1 × --prompt tokens, logits for every position (tokens/s)
//   calibration --calib-batch × --calib-seq tokens, logits + every hidden state (tokens/s)
//   decode      greedy steps with a KV cache after the prompt (ms/token)
// Ratios are ours / PyTorch's for throughput and PyTorch's / ours for ms/token (> 1: we are faster).
// Writes bench/results/forward-speed.json. Never part of CI (bench/*.bench.ts are run by hand):
//   node --import tsx --conditions @mi-prun/source bench/forward-speed.bench.ts [--threads 2] [--runs 5]
// Without PyTorch (no --python interpreter that imports torch) the checkpoint is generated in
// TypeScript with the same shape, our numbers are reported alone, and the output says so.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { loadHfOnOrt } from '../packages/adapters/onnx/src/index.js'
import { generateRandomCheckpoint } from '../packages/adapters/tfjs/src/index.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    prompt: { type: 'string', default: '64' },
    'calib-batch': { type: 'string', default: '4' },
    'calib-seq': { type: 'string', default: '128' },
    decode: { type: 'string', default: '16' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    dir: { type: 'string', default: '/tmp/mi-prun-smollm2-shape' },
    python: {
      type: 'string',
      default: existsSync('/work/venv/bin/python') ? '/work/venv/bin/python' : 'python3',
    },
  },
})
const THREADS = Number(values.threads)
const PROMPT = Number(values.prompt)
const CB = Number(values['calib-batch'])
const CS = Number(values['calib-seq'])
const DECODE = Number(values.decode)
const RUNS = Number(values.runs)
const WARMUP = Number(values.warmup)
const dir = values.dir

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return {
    median: s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2,
    min: s[0]!,
    max: s[s.length - 1]!,
    runs: s.length,
  }
}
const load0 = loadavg()

// ---- PyTorch (and the checkpoint)
interface TorchResult {
  versions: Record<string, string>
  threads: number
  prompt: number[]
  calibIds: number[]
  prefillMs: ReturnType<typeof stats>
  prefillTokensPerSecond: number
  calibrationMs: ReturnType<typeof stats>
  calibrationTokensPerSecond: number
  decodeMsPerToken: ReturnType<typeof stats>
  greedyTokens: number[]
}
let torch: TorchResult | undefined
let torchAbsent: string | undefined
const py = spawnSync(
  values.python,
  [
    join(root, 'scripts/bench/forward_speed_torch.py'),
    '--out-dir',
    dir,
    '--threads',
    String(THREADS),
    '--prompt',
    String(PROMPT),
    '--calib-batch',
    String(CB),
    '--calib-seq',
    String(CS),
    '--decode',
    String(DECODE),
    '--runs',
    String(RUNS),
    '--warmup',
    String(WARMUP),
  ],
  {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, OMP_NUM_THREADS: String(THREADS), MKL_NUM_THREADS: String(THREADS) },
  },
)
if (py.status === 0) torch = JSON.parse(py.stdout.trim().split('\n').pop()!) as TorchResult
else {
  torchAbsent =
    py.error !== undefined
      ? `${values.python} could not be started (${py.error.message})`
      : /No module named '?(torch|transformers)/.test(py.stderr)
        ? `PyTorch/transformers are not installed for ${values.python}`
        : `the PyTorch script failed: ${py.stderr.trim().split('\n').slice(-3).join(' | ')}`
  console.log(`PyTorch is ABSENT: ${torchAbsent}. Only our numbers are reported, no ratios.`)
  if (!existsSync(join(dir, 'config.json')))
    await generateRandomCheckpoint(dir, {
      arch: 'llama',
      seed: 0,
      hiddenSize: 576,
      numBlocks: 30,
      numHeads: 9,
      numKvHeads: 3,
      intermediateSize: 1536,
      vocabSize: 49152,
      maxPositions: 8192,
      tied: true,
      ropeTheta: 100000,
    })
}
const load1 = loadavg()

// ---- ours: ONNX Runtime, same thread count (RSS sampled every 10 ms while ours runs)
const rss0 = process.memoryUsage().rss
let rssPeak = rss0
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 10)
const t0 = performance.now()
const model = await loadHfOnOrt(dir, { intraOpNumThreads: THREADS, providers: ['cpu'] })
const loadMs = performance.now() - t0
const rssAfterLoad = process.memoryUsage().rss
const V = model.info.vocabSize
const prompt = Int32Array.from(torch?.prompt ?? Array.from({ length: PROMPT }, (_, i) => (i * 7919 + 13) % V))
const calib = Int32Array.from(
  torch?.calibIds ?? Array.from({ length: CB * CS }, (_, i) => (i * 104729 + 7) % V),
)
const timed = async (fn: () => Promise<unknown>) => {
  for (let i = 0; i < WARMUP; i++) await fn()
  const out: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return stats(out)
}
const pre = await timed(() => model.forward({ ids: prompt, batch: 1, seqLen: PROMPT }))
const cal = await timed(() => model.forward({ ids: calib, batch: CB, seqLen: CS }, { hiddenStates: true }))
const dec = await model.decoder()
await dec.step(prompt, 1, PROMPT, dec.empty(1)) // session warm-up
const steps: number[] = []
let greedy: number[] = []
for (let r = 0; r < WARMUP + RUNS; r++) {
  const g = await model.generate({ ids: prompt, batch: 1, seqLen: PROMPT }, { maxNewTokens: DECODE })
  if (r >= WARMUP) steps.push(g.stepMs.reduce((a, b) => a + b, 0) / g.stepMs.length)
  greedy = [...g.ids.subarray(PROMPT)]
}
const decodeStats = stats(steps)
clearInterval(sampler)
const weightsBytes = statSync(join(dir, 'model.safetensors')).size
await model.dispose()
const load2 = loadavg()

const ours = {
  engine: 'onnxruntime-node (graph built from config.json + safetensors)',
  backend: model.info.backend,
  threads: THREADS,
  loadMs,
  prefillMs: pre,
  prefillTokensPerSecond: (PROMPT * 1000) / pre.median,
  calibrationMs: cal,
  calibrationTokensPerSecond: (CB * CS * 1000) / cal.median,
  decodeMsPerToken: decodeStats,
  memory: {
    weightsFileBytes: weightsBytes,
    rssBeforeLoad: rss0,
    rssAfterLoad,
    rssPeak,
    peakOverWeights: (rssPeak - rss0) / weightsBytes,
    note: 'RSS of this Node process (sampled every 10 ms) above its level before loading, over the safetensors file size; the forward and decoder sessions are both open',
  },
}
const ratios =
  torch === undefined
    ? undefined
    : {
        prefill: ours.prefillTokensPerSecond / torch.prefillTokensPerSecond,
        calibration: ours.calibrationTokensPerSecond / torch.calibrationTokensPerSecond,
        decode: torch.decodeMsPerToken.median / ours.decodeMsPerToken.median,
      }
const sameTokens =
  torch === undefined ? undefined : greedy.filter((t, i) => t === torch!.greedyTokens[i]).length
const result = {
  bench: 'forward-speed',
  date: new Date().toISOString(),
  checkpoint: {
    dir,
    shape:
      'random-init LlamaForCausalLM, SmolLM2-135M shape: 30 blocks, hidden 576, heads 9/3, FFN 1536, vocab 49152, tied, f32',
    parameters: model.info.parameters,
  },
  settings: {
    threads: THREADS,
    prompt: PROMPT,
    calibBatch: CB,
    calibSeq: CS,
    decodeTokens: DECODE,
    runs: RUNS,
    warmup: WARMUP,
  },
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavg: { beforeTorch: load0, beforeOurs: load1, after: load2 },
  },
  ours,
  pytorch:
    torch === undefined
      ? { absent: torchAbsent }
      : { ...torch, prompt: undefined, calibIds: undefined, threads: torch.threads },
  ratios: ratios ?? null,
  table: [
    {
      measure: `prefill, batch 1 × ${PROMPT} tokens`,
      unit: 'tokens/s',
      ours: ours.prefillTokensPerSecond,
      pytorch: torch?.prefillTokensPerSecond ?? null,
      ratio: ratios?.prefill ?? null,
    },
    {
      measure: `calibration, ${CB} × ${CS} tokens with hidden states`,
      unit: 'tokens/s',
      ours: ours.calibrationTokensPerSecond,
      pytorch: torch?.calibrationTokensPerSecond ?? null,
      ratio: ratios?.calibration ?? null,
    },
    {
      measure: 'decode with KV cache',
      unit: 'ms/token',
      ours: ours.decodeMsPerToken.median,
      pytorch: torch?.decodeMsPerToken.median ?? null,
      ratio: ratios?.decode ?? null,
    },
  ],
  ratiosNote:
    'ours/PyTorch tokens/s for prefill and calibration; PyTorch/ours ms/token for decode; > 1 means ours is faster',
  greedyTokensAgree: sameTokens === undefined ? null : `${sameTokens}/${greedy.length}`,
}
const outDir = join(here, 'results')
mkdirSync(outDir, { recursive: true })
const out = join(outDir, 'forward-speed.json')
writeFileSync(`${out}.tmp`, JSON.stringify(result, null, 2) + '\n')
renameSync(`${out}.tmp`, out)

const f = (x: number) => x.toFixed(1)
console.log(`threads ${THREADS}, load average ${load0.map(f).join('/')} → ${load2.map(f).join('/')}`)
console.log(`| | ours (ORT) | PyTorch | ratio |`)
console.log(`| --- | --- | --- | --- |`)
console.log(
  `| prefill ${PROMPT} tokens, batch 1 | ${f(ours.prefillTokensPerSecond)} tokens/s | ${torch ? f(torch.prefillTokensPerSecond) : 'absent'} | ${ratios ? ratios.prefill.toFixed(2) : '-'} |`,
)
console.log(
  `| calibration ${CB}×${CS} (+hidden) | ${f(ours.calibrationTokensPerSecond)} tokens/s | ${torch ? f(torch.calibrationTokensPerSecond) : 'absent'} | ${ratios ? ratios.calibration.toFixed(2) : '-'} |`,
)
console.log(
  `| decode (KV cache) | ${f(decodeStats.median)} ms/token | ${torch ? f(torch.decodeMsPerToken.median) : 'absent'} | ${ratios ? ratios.decode.toFixed(2) : '-'} |`,
)
if (sameTokens !== undefined) console.log(`greedy tokens equal to PyTorch's: ${sameTokens}/${greedy.length}`)
console.log(`wrote ${out}`)
