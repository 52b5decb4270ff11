// KSG-1 (k=3, jitter off) of @mi-prun/mi-ksg against a scipy cKDTree KSG-1 (bench/ksg_scipy.py) on the same
// seeded arrays, in the same run. Prints a table (case, ours s, scipy s, speed-up, |difference|) and writes
// bench/results/ksg-vs-scipy.json. Run: node bench/run-all.mjs ksg   (or node --import tsx --conditions
// @mi-prun/source bench/ksg-vs-scipy.bench.ts [case-filter]). CPU-heavy: several minutes.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Matrix, createRng, matrix } from '@mi-prun/core'
import { createKsgEstimator, terminateKsgWorkers } from '@mi-prun/mi-ksg'

const here = dirname(fileURLToPath(import.meta.url))
const SCIPY_CAP_S = 300
const K = 3
const RHO = 0.5
const THREADS = Math.min(2, availableParallelism())

interface Case {
  readonly n: number
  readonly dx: number
  readonly dy: number
}
const CASES: readonly Case[] = [
  { n: 10_000, dx: 1, dy: 1 },
  { n: 10_000, dx: 8, dy: 8 },
  { n: 10_000, dx: 32, dy: 32 },
  { n: 4096, dx: 256, dy: 256 },
]
const filter = process.argv[2]

/** d independent pairs with correlation RHO (x ~ N(0, I), y = ρx + √(1−ρ²)e), float32, seeded. */
function data(c: Case, seed: number): { x: Matrix; y: Matrix } {
  const rng = createRng(seed)
  const x = new Float32Array(c.n * c.dx)
  const y = new Float32Array(c.n * c.dy)
  const s = Math.sqrt(1 - RHO * RHO)
  for (let i = 0; i < c.n; i++) {
    for (let j = 0; j < Math.max(c.dx, c.dy); j++) {
      const a = rng.normal()
      if (j < c.dx) x[i * c.dx + j] = a
      if (j < c.dy) y[i * c.dy + j] = RHO * (j < c.dx ? a : rng.normal()) + s * rng.normal()
    }
  }
  return { x: matrix(c.n, c.dx, x), y: matrix(c.n, c.dy, y) }
}

/** Wall seconds and process CPU seconds (all threads) of one estimate. */
function timeOurs(
  x: Matrix,
  y: Matrix,
  threads: number,
): { value: number; seconds: number; cpuSeconds: number } {
  const est = createKsgEstimator({ k: K, jitter: 0, threads })
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const value = est.estimate(x, y)
  const seconds = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  return { value, seconds, cpuSeconds: (c.user + c.system) / 1e6 }
}

/** Starts the worker pool and compiles both kernels outside the timed region. */
function warmUp(): void {
  for (const d of [1, 16]) {
    const { x, y } = data({ n: 600, dx: d, dy: d }, 1)
    timeOurs(x, y, THREADS)
    timeOurs(x, y, 1)
  }
}

interface ScipyResult {
  value: number
  seconds: number
  cpuSeconds: number
  numpy: string
  scipy: string
  workers: number
}

function timeScipy(dir: string, c: Case, x: Matrix, y: Matrix): ScipyResult | 'cap' | string {
  const xp = join(dir, 'x.bin')
  const yp = join(dir, 'y.bin')
  writeFileSync(xp, Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength))
  writeFileSync(yp, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength))
  const args = [
    join(here, 'ksg_scipy.py'),
    xp,
    yp,
    String(c.n),
    String(c.dx),
    String(c.dy),
    String(K),
    String(THREADS),
  ]
  const r = spawnSync('python3', args, {
    encoding: 'utf8',
    timeout: SCIPY_CAP_S * 1000 + 30_000,
    killSignal: 'SIGKILL',
  })
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return 'cap'
  if (r.signal === 'SIGKILL') return 'cap'
  if (r.status !== 0) return `python3 failed (${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}`
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ScipyResult
}

const rows: Array<Record<string, unknown>> = []
const dir = mkdtempSync(join(tmpdir(), 'ksg-bench-'))
const load0 = loadavg()
let versions: { numpy?: string; scipy?: string } = {}
console.log(
  `KSG-1, k=${K}, jitter off, ρ=${RHO} pairs; ours: ${THREADS} threads (and 1); scipy cKDTree workers=${THREADS}; cap ${SCIPY_CAP_S} s`,
)
console.log(
  'wall seconds; speed-up = scipy wall / ours wall (2 threads); cpu ratio = scipy CPU s / ours CPU s (all threads)',
)
console.log('case                     ours(2t) s  ours(1t) s    scipy s   speed-up  cpu ratio  |difference|')
try {
  warmUp()
  for (const c of CASES) {
    const name = `ksg1:n=${c.n},d=${c.dx}+${c.dy}`
    if (filter !== undefined && !name.includes(filter)) continue
    const { x, y } = data(c, 20261128 + c.dx)
    const ours = timeOurs(x, y, THREADS)
    const ours1 = timeOurs(x, y, 1)
    const sc = timeScipy(dir, c, x, y)
    const scipyS = typeof sc === 'object' ? sc.seconds : null
    if (typeof sc === 'object') versions = { numpy: sc.numpy, scipy: sc.scipy }
    const diff = typeof sc === 'object' ? Math.abs(sc.value - ours.value) : null
    const ratio = scipyS === null ? null : scipyS / ours.seconds
    rows.push({
      case: name,
      n: c.n,
      dx: c.dx,
      dy: c.dy,
      oursSeconds: ours.seconds,
      oursCpuSeconds: ours.cpuSeconds,
      oursOneThreadSeconds: ours1.seconds,
      oursValue: ours.value,
      oursOneThreadValue: ours1.value,
      scipySeconds: scipyS,
      scipyCpuSeconds: typeof sc === 'object' ? sc.cpuSeconds : null,
      scipyValue: typeof sc === 'object' ? sc.value : null,
      scipyStatus: typeof sc === 'object' ? 'ok' : sc === 'cap' ? `> cap (${SCIPY_CAP_S} s)` : sc,
      speedup: ratio,
      cpuRatio: typeof sc === 'object' ? sc.cpuSeconds / ours.cpuSeconds : null,
      absDifference: diff,
    })
    const scipyCell =
      typeof sc === 'object' ? sc.seconds.toFixed(2) : sc === 'cap' ? `> ${SCIPY_CAP_S}` : 'failed'
    const ratioCell =
      ratio === null
        ? sc === 'cap'
          ? `> ${(SCIPY_CAP_S / ours.seconds).toFixed(1)}×`
          : '-'
        : `${ratio.toFixed(2)}×`
    const cpuCell = typeof sc === 'object' ? `${(sc.cpuSeconds / ours.cpuSeconds).toFixed(2)}×` : '-'
    console.log(
      `${name.padEnd(24)} ${ours.seconds.toFixed(2).padStart(10)} ${ours1.seconds.toFixed(2).padStart(11)} ${scipyCell.padStart(10)} ${ratioCell.padStart(10)} ${cpuCell.padStart(10)}  ${diff === null ? '-' : diff.toExponential(1)}`,
    )
    if (typeof sc === 'string' && sc !== 'cap') console.log(`  scipy: ${sc}`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
  await terminateKsgWorkers()
}

const result = {
  benchmark: 'ksg-vs-scipy',
  unit: 'seconds (wall, estimate only); values in nats',
  estimator: { kind: 'ksg', variant: 1, k: K, jitter: 0, standardize: true, withinNorm: 'max' },
  reference: 'scipy cKDTree KSG-1 (bench/ksg_scipy.py), workers = ours threads',
  threads: THREADS,
  scipyCapSeconds: SCIPY_CAP_S,
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
    loadavgStart: load0,
    loadavgEnd: loadavg(),
  },
  note: 'shared 2-core machine; wall times depend on the load (see loadavg); the CPU-time ratio is less sensitive to it',
  versions,
  date: new Date().toISOString(),
  rows,
}
const out = join(here, 'results', 'ksg-vs-scipy.json')
mkdirSync(dirname(out), { recursive: true })
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`)
renameSync(`${out}.tmp`, out)
console.log(`wrote ${out}`)
