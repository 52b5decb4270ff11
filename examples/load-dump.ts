// Loading a hidden-state dump produced elsewhere (e.g. by the PyTorch snippet in packages/span-scoring/README.md):
// this example writes one in the documented safetensors layout (h.0 … h.T as F32 [tokens, d], plus I32 `sequence`
// and `position`) with @mi-prun/safetensors, loads it with loadActivationDump and runs Fast-Block-Select on
// Gaussian MI. The states are a synthetic residual stream with a known answer: h_0 ~ N(0, I_d) and
// h_{b+1} = h_b + s_b·z_b with z_b ~ N(0, I_d), so the span [j, j+L) has
//   MI(h_j; h_{j+L}) = (d/2)·ln(1 + V_j / (V_{j+L} − V_j)) nats, V_j = 1 + Σ_{i<j} s_i².
// Run: pnpm --filter @mi-prun/examples load-dump
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRng } from '@mi-prun/core'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { writeSafetensors } from '@mi-prun/safetensors'
import { createFastBlockSelectSelector } from '@mi-prun/selector-fast-block-select'
import { createMiSpanScorer, loadActivationDump, setObjective } from '@mi-prun/span-scoring'
import { isMain } from './reference.js'

/** Noise scale s_b added by each of the T = 6 synthetic blocks. */
export const blockScales = [1.0, 0.3, 2.0, 0.5, 0.25, 1.5] as const

/** Analytic MI(h_j; h_{j+L}) in nats of the synthetic stream (see the file header). */
export function analyticSpanMi(
  j: number,
  L: number,
  d: number,
  scales: readonly number[] = blockScales,
): number {
  let v = 1
  for (let i = 0; i < j; i++) v += scales[i]! ** 2
  let added = 0
  for (let i = j; i < j + L; i++) added += scales[i]! ** 2
  return (d / 2) * Math.log(1 + v / added)
}

/** Writes the dump (sequences × seqLen tokens, d columns) atomically; returns the bytes written. */
export async function writeSyntheticDump(
  path: string,
  options: { sequences?: number; seqLen?: number; d?: number; seed?: number } = {},
): Promise<number> {
  const { sequences = 40, seqLen = 50, d = 4, seed = 0 } = options
  const rng = createRng(seed)
  const n = sequences * seqLen
  const states: Float32Array[] = [Float32Array.from({ length: n * d }, () => rng.normal())]
  for (const s of blockScales) states.push(states.at(-1)!.map((x) => x + s * rng.normal()))
  const bytes = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
  const sequence = Int32Array.from({ length: n }, (_, t) => Math.floor(t / seqLen))
  const position = Int32Array.from({ length: n }, (_, t) => t % seqLen)
  return writeSafetensors(
    path,
    [
      ...states.map((h, i) => ({ name: `h.${i}`, dtype: 'F32', shape: [n, d], data: bytes(h) })),
      { name: 'sequence', dtype: 'I32', shape: [n], data: bytes(sequence) },
      { name: 'position', dtype: 'I32', shape: [n], data: bytes(position) },
    ],
    { metadata: { source: 'mi-prun examples/load-dump.ts (synthetic residual stream)' } },
  )
}

export interface LoadDumpResult {
  readonly numBlocks: number
  readonly samples: number
  readonly d: number
  /** Estimated and analytic single-block MI, nats. */
  readonly estimated: number[]
  readonly analytic: number[]
  /** Fast-Block-Select's choice of `remove` blocks and the analytic optimum of the same span objective. */
  readonly fbs: readonly number[]
  readonly optimum: readonly number[]
  /** Estimated span objective Σ_runs MI (nats) of each choice. */
  readonly fbsObjective: number
  readonly optimumObjective: number
}

export async function loadDump(options: { remove?: number } = {}): Promise<LoadDumpResult> {
  const { remove = 2 } = options
  const dir = mkdtempSync(join(tmpdir(), 'mi-prun-dump-'))
  try {
    const path = join(dir, 'states.safetensors')
    await writeSyntheticDump(path)
    const store = loadActivationDump(path, { maxTokens: 1500, seed: 0 })
    const d = store.dims
    const scorer = createMiSpanScorer({ store, estimator: createGaussianEstimator() })
    const T = store.numBlocks
    const fbs = createFastBlockSelectSelector().select({ numBlocks: T, scorer }, remove)
    // the analytic optimum of Σ_runs MI over every `remove`-subset (C(6, 2) = 15)
    const analyticObjective = (set: number[]): number => {
      let total = 0
      for (let s = 0; s < set.length;) {
        let e = s
        while (e + 1 < set.length && set[e + 1] === set[e]! + 1) e++
        total += analyticSpanMi(set[s]!, e - s + 1, d)
        s = e + 1
      }
      return total
    }
    let optimum: number[] = []
    let best = -Infinity
    const visit = (start: number, set: number[]): void => {
      if (set.length === remove) {
        const v = analyticObjective(set)
        if (v > best) [best, optimum] = [v, [...set]]
        return
      }
      for (let b = start; b < T; b++) visit(b + 1, [...set, b])
    }
    visit(0, [])
    return {
      numBlocks: T,
      samples: store.samples,
      d,
      estimated: Array.from({ length: T }, (_, j) => scorer.score(j, 1)),
      analytic: Array.from({ length: T }, (_, j) => analyticSpanMi(j, 1, d)),
      fbs: fbs.selected,
      optimum,
      fbsObjective: setObjective(scorer, fbs.selected),
      optimumObjective: setObjective(scorer, optimum),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (isMain(import.meta.url)) {
  const r = await loadDump()
  console.log(`dump: T = ${r.numBlocks} blocks, d = ${r.d}, ${r.samples} MI samples`)
  console.log('block  Gaussian MI (nats)  analytic (nats)')
  for (let j = 0; j < r.numBlocks; j++)
    console.log(
      `${String(j).padStart(5)}  ${r.estimated[j]!.toFixed(4).padStart(18)}  ${r.analytic[j]!.toFixed(4).padStart(15)}`,
    )
  console.log(
    `Fast-Block-Select removes [${r.fbs.join(', ')}] (objective ${r.fbsObjective.toFixed(4)} nats); analytic optimum [${r.optimum.join(', ')}] (objective ${r.optimumObjective.toFixed(4)} nats)`,
  )
}
