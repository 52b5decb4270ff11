// Gaussian MI at N = 4096, 256+256 dims, ours vs numpy (np.cov + slogdet + the same exact bias) on the
// same seeded float32 data, read by numpy from a binary file. Also: the PCA reducer at N = 4096,
// d = 1024 → r = 64 (ours: auto = randomized subspace iteration; numpy: cov + eigh), and the ml-matrix
// measurements behind the choice of kernels. Prints a table and writes bench/results/gaussian-vs-numpy.json.
//   node --import tsx --conditions @mi-prun/source bench/gaussian-vs-numpy.bench.ts
import { spawnSync } from 'node:child_process'
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRng, matrix } from '@mi-prun/core'
import {
  choleskyDropping,
  createGaussianEstimator,
  gramUpper,
  symmetrizeFromUpper,
} from '@mi-prun/mi-gaussian'
import { createPcaReducer } from '@mi-prun/mi-reducers'
import { CholeskyDecomposition, EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix'

const here = dirname(fileURLToPath(import.meta.url))
const loadAtStart = loadavg()
const REPS = 5

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}
function time<T>(reps: number, f: () => T): { seconds: number; secondsMin: number; out: T } {
  let out = f() // warm-up (JIT), not timed
  const t: number[] = []
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now()
    out = f()
    t.push((performance.now() - t0) / 1000)
  }
  return { seconds: median(t), secondsMin: Math.min(...t), out }
}
function numpy(args: string[], env: Record<string, string> = {}): Record<string, number | string> {
  const r = spawnSync('python3', [join(here, 'gaussian_numpy.py'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })
  if (r.status !== 0) throw new Error(`gaussian_numpy.py failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>
}

const work = join(tmpdir(), 'mi-prun-bench')
mkdirSync(work, { recursive: true })

// ---- Gaussian MI, N = 4096, dx = dy = 256 -------------------------------------------------------
const n = 4096
const dx = 256
const dy = 256
const rng = createRng(20261128)
// y = 0.5·x·M + noise with a fixed random mixing M: a general, well-conditioned joint covariance
const xData = new Float32Array(n * dx)
for (let i = 0; i < xData.length; i++) xData[i] = rng.normal()
const mix = Float64Array.from({ length: dx * dy }, () => rng.normal() / Math.sqrt(dx))
const yData = new Float32Array(n * dy)
for (let i = 0; i < n; i++)
  for (let c = 0; c < dy; c++) {
    let s = rng.normal()
    for (let k = 0; k < dx; k++) s += 0.5 * xData[i * dx + k]! * mix[k * dy + c]!
    yData[i * dy + c] = s
  }
const gFile = join(work, `gaussian-n${n}-${dx}+${dy}.f32`)
writeFileSync(gFile, Buffer.concat([Buffer.from(xData.buffer), Buffer.from(yData.buffer)]))
const x = matrix(n, dx, xData)
const y = matrix(n, dy, yData)
const est = createGaussianEstimator()
const ours = time(REPS, () => est.estimateDetailed(x, y))
const np = numpy(['gaussian', gFile, String(n), String(dx), String(dy), String(REPS)])
const np1 = numpy(['gaussian', gFile, String(n), String(dx), String(dy), String(REPS)], {
  OPENBLAS_NUM_THREADS: '1',
  OMP_NUM_THREADS: '1',
})
// where our time goes: the covariance kernel alone and the joint Cholesky alone
const zcol = new Float64Array(n * (dx + dy))
for (let i = 0; i < n; i++) for (let j = 0; j < dx; j++) zcol[j * n + i] = xData[i * dx + j]!
for (let i = 0; i < n; i++) for (let j = 0; j < dy; j++) zcol[(dx + j) * n + i] = yData[i * dy + j]!
const D = dx + dy
const gram = time(REPS, () => gramUpper(n, D, zcol, new Float64Array(D * D)))
const cov = symmetrizeFromUpper(D, gram.out)
for (let i = 0; i < cov.length; i++) cov[i] = cov[i]! / (n - 1)
const chol = time(REPS, () => choleskyDropping(D, Float64Array.from(cov), 1e-13))

// ---- PCA reducer, N = 4096, d = 1024 → r = 64 (joint) ---------------------------------------------
const d = 1024
const r = 64
const prng = createRng(7)
const latent = 80
const basis = Float64Array.from({ length: latent * d }, () => prng.normal() / Math.sqrt(d))
const scales = Float64Array.from({ length: latent }, (_, c) => 20 / (1 + c))
function structured(): Float32Array {
  const out = new Float32Array(n * d)
  const l = new Float64Array(latent)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < latent; c++) l[c] = scales[c]! * prng.normal()
    for (let k = 0; k < d; k++) {
      let s = 0.3 * prng.normal()
      for (let c = 0; c < latent; c++) s += l[c]! * basis[c * d + k]!
      out[i * d + k] = s
    }
  }
  return out
}
const px = structured()
const py = structured()
const pFile = join(work, `pca-n${n}-d${d}.f32`)
writeFileSync(pFile, Buffer.concat([Buffer.from(px.buffer), Buffer.from(py.buffer)]))
const pcaRed = createPcaReducer({ rank: r })
const pxm = matrix(n, d, px)
const pym = matrix(n, d, py)
const oursPca = time(2, () => pcaRed.reducePair(pxm, pym))
const npPca = numpy(['pca', pFile, String(n), String(d), String(r), '3'])
const npPca1 = numpy(['pca', pFile, String(n), String(d), String(r), '3'], {
  OPENBLAS_NUM_THREADS: '1',
  OMP_NUM_THREADS: '1',
})

// ---- ml-matrix against our kernels (the measurements behind the choice) ----------------------------
const mlN = 2000
const mlD = 256
const a = Float64Array.from({ length: mlN * mlD }, () => prng.normal())
const mlA = new MlMatrix(
  Array.from({ length: mlN }, (_, i) => Array.from(a.subarray(i * mlD, (i + 1) * mlD))),
)
const aCol = new Float64Array(mlN * mlD)
for (let i = 0; i < mlN; i++) for (let j = 0; j < mlD; j++) aCol[j * mlN + i] = a[i * mlD + j]!
const ourXtX = time(2, () => gramUpper(mlN, mlD, aCol, new Float64Array(mlD * mlD)))
const mlXtX = time(2, () => mlA.transpose().mmul(mlA))
const spd = mlXtX.out
const mlChol = time(2, () => new CholeskyDecomposition(spd))
const spdFlat = Float64Array.from(spd.to1DArray())
const ourChol = time(2, () => choleskyDropping(mlD, Float64Array.from(spdFlat), 1e-13))
const mlEvd = time(2, () => new EigenvalueDecomposition(spd, { assumeSymmetric: true }))
// the joint Cholesky at D = 512 via ml-matrix
const cov512 = new MlMatrix(Array.from({ length: D }, (_, i) => Array.from(cov.subarray(i * D, (i + 1) * D))))
const mlChol512 = time(2, () => new CholeskyDecomposition(cov512))

const ratio = ours.seconds / Number(np.seconds)
const result = {
  benchmark: 'gaussian-vs-numpy',
  date: new Date().toISOString(),
  node: process.version,
  machine: '2-core x86-64 shared with other jobs; timings are medians',
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: loadavg(),
  gaussian: {
    name: `gaussian:n=${n},d=${dx}+${dy}`,
    ours: {
      seconds: ours.seconds,
      secondsMin: ours.secondsMin,
      value: ours.out.value,
      raw: ours.out.raw,
      bias: ours.out.bias,
    },
    numpy: np,
    numpySingleThread: np1,
    ratio,
    ratioMin: ours.secondsMin / Number(np.secondsMin),
    ratioSingleThread: ours.seconds / Number(np1.seconds),
    absDifference: Math.abs(ours.out.value - Number(np.value)),
    target: 3,
    breakdown: {
      covarianceKernelSeconds: gram.seconds,
      jointCholeskySeconds: chol.seconds,
      gflopsCovariance: (n * D * D) / 1e9 / gram.seconds,
    },
  },
  pca: {
    name: `pca:n=${n},d=${d},r=${r},fit=joint`,
    ours: { seconds: oursPca.seconds, method: 'randomized (auto)', explained: oursPca.out.info!.explained },
    numpy: npPca,
    numpySingleThread: npPca1,
    ratio: oursPca.seconds / Number(npPca.seconds),
    ratioSingleThread: oursPca.seconds / Number(npPca1.seconds),
    explainedDifference: Math.abs(Number(oursPca.out.info!.explained) - Number(npPca.explained)),
  },
  mlMatrix: {
    'xtx:n=2000,d=256': { oursSeconds: ourXtX.seconds, mlMatrixSeconds: mlXtX.seconds },
    'cholesky:d=256': { oursSeconds: ourChol.seconds, mlMatrixSeconds: mlChol.seconds },
    'cholesky:d=512': { oursSeconds: chol.seconds, mlMatrixSeconds: mlChol512.seconds },
    'symmetricEvd:d=256': { mlMatrixSeconds: mlEvd.seconds },
  },
}
const f = (v: number): string => v.toFixed(4)
console.log(`| case | ours s | numpy s | ratio | numpy 1-thread s | ratio | |diff| |`)
console.log(`|---|---|---|---|---|---|---|`)
console.log(
  `| ${result.gaussian.name} | ${f(ours.seconds)} | ${f(Number(np.seconds))} | ${ratio.toFixed(2)} | ${f(Number(np1.seconds))} | ${result.gaussian.ratioSingleThread.toFixed(2)} | ${result.gaussian.absDifference.toExponential(2)} |`,
)
console.log(
  `| ${result.pca.name} | ${f(oursPca.seconds)} | ${f(Number(npPca.seconds))} | ${result.pca.ratio.toFixed(2)} | ${f(Number(npPca1.seconds))} | ${result.pca.ratioSingleThread.toFixed(2)} | ${result.pca.explainedDifference.toExponential(2)} (explained) |`,
)
console.log(
  `value ours ${ours.out.value} numpy ${np.value}; breakdown: covariance ${f(gram.seconds)} s (${result.gaussian.breakdown.gflopsCovariance.toFixed(2)} GFLOP/s), joint Cholesky ${f(chol.seconds)} s`,
)
console.log(
  `ml-matrix vs ours: XtX 2000x256 ${f(mlXtX.seconds)} vs ${f(ourXtX.seconds)} s; Cholesky 256 ${f(mlChol.seconds)} vs ${f(ourChol.seconds)} s; Cholesky 512 ${f(mlChol512.seconds)} vs ${f(chol.seconds)} s; EVD 256 ${f(mlEvd.seconds)} s`,
)
mkdirSync(join(here, 'results'), { recursive: true })
const out = join(here, 'results', 'gaussian-vs-numpy.json')
writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 2)}\n`)
renameSync(`${out}.tmp`, out)
console.log(
  `load average (1, 5, 15 min) at start ${loadAtStart.map((v) => v.toFixed(1)).join(', ')}, at end ${loadavg()
    .map((v) => v.toFixed(1))
    .join(', ')}`,
)
console.log(`wrote ${out}`)
