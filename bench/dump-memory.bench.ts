// Issue 13 item 4: peak memory of selecting on a big hidden-state dump. Generates a synthetic
// 32-block, d = 4096 dump of 8,192 tokens (BF16) in 8 shards + index.json under the OS temp folder,
// then, in a child process, loads it with loadActivationDumpFolder (rows streamed shard by shard in
// chunks; only the seeded MI sample and the last tokens kept) and runs ShortGPT on it. Reports the
// child's peak RSS (VmHWM) over the size of the store it built (the reduced store: the sampled rows of
// h_0..h_T as float32 + last tokens + statistics) and writes bench/results/dump-memory.json.
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRng } from '@mi-prun/core'
import { createTopNSelector } from '@mi-prun/selector-baselines'
import { createBlockInfluenceScorer, loadActivationDumpFolder } from '@mi-prun/span-scoring'

const here = dirname(fileURLToPath(import.meta.url))
const T = 32
const d = 4096
const tokens = 8192
const shards = 8
const seqLen = 256
const maxTokens = 4096
const maxSpan = 4
const MB = 2 ** 20

function vmHwm(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m ? Number(m[1]) * 1024 : Number.NaN
}

async function child(dir: string): Promise<void> {
  const baselineRss = vmHwm()
  const t0 = performance.now()
  const store = loadActivationDumpFolder(dir, { maxTokens, seed: 0, maxSpan })
  const sel = await createTopNSelector().select(
    { numBlocks: T, scorer: createBlockInfluenceScorer({ store }) },
    8,
  )
  const ms = performance.now() - t0
  let storeBytes = 0
  for (const m of [...store.states, ...store.lastToken]) storeBytes += m.data.byteLength
  for (const v of Object.values(store.stats))
    if (ArrayBuffer.isView(v)) storeBytes += (v as Float64Array).byteLength
  const out = {
    baselineRss,
    peakRss: vmHwm(),
    storeBytes,
    ms,
    selected: sel.selected,
    samples: store.samples,
  }
  console.log(`RESULT ${JSON.stringify(out)}`)
}

/** A plain safetensors writer (8-byte header length, JSON header, data) so the bench needs no extra dependency. */
function writeShard(
  path: string,
  tensors: { name: string; dtype: string; shape: number[]; data: Uint8Array }[],
): void {
  const header: Record<string, unknown> = {}
  let off = 0
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] }
    off += t.data.byteLength
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - (json.length % 8)) % 8)
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(json.length))
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, len)
    writeSync(fd, Buffer.from(json))
    for (const t of tensors) writeSync(fd, t.data)
  } finally {
    closeSync(fd)
  }
}

async function generate(dir: string): Promise<number> {
  const rng = createRng(13)
  const rows = tokens / shards
  const list: { file: string; rows: number }[] = []
  const f32 = new Float32Array(1)
  const u32 = new Uint32Array(f32.buffer)
  let bytes = 0
  for (let s = 0; s < shards; s++) {
    const file = `states-${String(s).padStart(5, '0')}.safetensors`
    // h_0 seeded Gaussian-ish, h_{i+1} = h_i + a per-block perturbation (a cheap residual stream)
    const base = new Float32Array(rows * d)
    for (let k = 0; k < base.length; k++) base[k] = rng.normal()
    const tensors = []
    for (let i = 0; i <= T; i++) {
      const a = 0.05 + (0.3 * ((i * 7) % 5)) / 5
      const data = new Uint16Array(rows * d)
      for (let k = 0; k < data.length; k++) {
        base[k] = base[k]! + a * Math.sin(k * 0.001 + i + s)
        f32[0] = base[k]!
        data[k] = u32[0]! >>> 16
      }
      tensors.push({ name: `h.${i}`, dtype: 'BF16', shape: [rows, d], data: new Uint8Array(data.buffer) })
      bytes += data.byteLength
    }
    const seq = Int32Array.from({ length: rows }, (_, r) => ((s * rows + r) / seqLen) | 0)
    const pos = Int32Array.from({ length: rows }, (_, r) => (s * rows + r) % seqLen)
    tensors.push({ name: 'sequence', dtype: 'I32', shape: [rows], data: new Uint8Array(seq.buffer) })
    tensors.push({ name: 'position', dtype: 'I32', shape: [rows], data: new Uint8Array(pos.buffer) })
    writeShard(join(dir, file), tensors)
    list.push({ file, rows })
  }
  const all = Array.from({ length: tokens }, (_, r) => r)
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      format: 'mi-prun-hidden-states',
      version: 1,
      model: 'synthetic',
      revision: null,
      convention: 'synthetic residual stream',
      dtype: 'BF16',
      numBlocks: T,
      hiddenSize: d,
      tokenizerHash: null,
      seqLen,
      shards: list,
      tokens: {
        ids: all.map(() => 0),
        sequence: all.map((r) => (r / seqLen) | 0),
        position: all.map((r) => r % seqLen),
      },
    }),
  )
  return bytes
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3]!)
  const dir = mkdtempSync(join(tmpdir(), 'mi-prun-dump-memory-'))
  try {
    const tg = performance.now()
    const dumpBytes = await generate(dir)
    console.log(
      `generated ${(dumpBytes / 2 ** 30).toFixed(2)} GiB dump in ${((performance.now() - tg) / 1000).toFixed(1)} s`,
    )
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--conditions', '@mi-prun/source', fileURLToPath(import.meta.url), '--child', dir],
      { encoding: 'utf8', cwd: here, maxBuffer: 1 << 24 },
    )
    const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
    if (r.status !== 0 || line === undefined)
      throw new Error(`child failed (${r.status}): ${r.stderr.slice(-2000)}`)
    const c = JSON.parse(line.slice(7)) as Record<string, number>
    const result = {
      numBlocks: T,
      hiddenSize: d,
      tokens,
      shards,
      dtype: 'BF16',
      maxTokens,
      maxSpan,
      dumpBytes,
      ...c,
      ratioPeakToStore: c['peakRss']! / c['storeBytes']!,
      ratioPeakToDump: c['peakRss']! / dumpBytes,
      bound: 1.5,
    }
    console.table({
      dump: `${(dumpBytes / MB).toFixed(0)} MiB`,
      'reduced store': `${(c['storeBytes']! / MB).toFixed(0)} MiB`,
      'peak RSS (VmHWM)': `${(c['peakRss']! / MB).toFixed(0)} MiB`,
      'peak / store': result.ratioPeakToStore.toFixed(3),
      'select time': `${(c['ms']! / 1000).toFixed(1)} s`,
    })
    mkdirSync(join(here, 'results'), { recursive: true })
    const out = join(here, 'results', 'dump-memory.json')
    writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`)
    renameSync(`${out}.tmp`, out)
    if (result.ratioPeakToStore > 1.5) {
      console.error(
        `peak RSS is ${result.ratioPeakToStore.toFixed(3)} × the reduced store, above the 1.5 bound`,
      )
      process.exitCode = 1
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
