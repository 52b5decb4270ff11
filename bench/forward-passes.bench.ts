/**
 * Forward passes and selection time of MI-PRUN (Fast-Block-Select on Gaussian MI) vs the loss-based greedy
 * baselines (SLEB, PPL-rank) at LLM depth (T = 32), where the reference models (8 and 12 blocks) are too
 * shallow for issue 8's "≥ 50× fewer passes than SLEB" target to be measurable. The model is a seeded
 * random-weight 32-block Llama (d = 32) written by `generateRandomCheckpoint`: pass counts do not depend on
 * the weights, and a small model keeps SLEB's hundreds of passes affordable. Every method runs through the
 * CLI's `select --json`, so the counts are the ones users see. Writes bench/results/forward-passes.json.
 *
 * Run: node --import tsx --conditions @mi-prun/source bench/forward-passes.bench.ts
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRng } from '@mi-prun/core'
import { generateRandomCheckpoint } from '@mi-prun/adapter-tfjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const T = 32
const budgets = [4, 8]
const methods = ['fbs', 'sleb', 'ppl-rank'] as const

interface Row {
  blocks: number
  remove: number
  method: string
  forwardPasses: number
  miEvaluations: number
  selectionMs: number
  passesVsFbs: number
  timeVsFbs: number
  selected: string
}

const work = mkdtempSync(join(tmpdir(), 'mi-prun-passes-'))
try {
  const model = join(work, 'llama-32')
  await generateRandomCheckpoint(model, {
    arch: 'llama',
    seed: 1,
    numBlocks: T,
    hiddenSize: 32,
    numHeads: 4,
    numKvHeads: 2,
    vocabSize: 64,
    maxPositions: 64,
  })
  // 8 pre-tokenised calibration sequences of 32 ids (seeded)
  const rng = createRng(0)
  const calib = join(work, 'calib.json')
  writeFileSync(
    calib,
    JSON.stringify(Array.from({ length: 8 }, () => Array.from({ length: 32 }, () => rng.nextInt(64)))),
  )

  const rows: Row[] = []
  for (const n of budgets) {
    const got: Record<string, { passes: number; mi: number; ms: number; selected: number[] }> = {}
    for (const m of methods) {
      const r = spawnSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions',
          '@mi-prun/source',
          join(root, 'apps/cli/src/bin.ts'),
          'select',
          model,
          '--remove',
          String(n),
          '--selector',
          m,
          '--calib',
          calib,
          '--samples',
          '8',
          '--seq-len',
          '32',
          '--tokens',
          '200',
          '--seed',
          '0',
          '--json',
          '--quiet',
        ],
        { cwd: join(root, 'apps/cli'), encoding: 'utf8', maxBuffer: 64 << 20 },
      )
      if (r.status !== 0) throw new Error(`select ${m} failed (${r.status}): ${r.stderr}`)
      const out = JSON.parse(r.stdout) as {
        selected: number[]
        cost: { forwardPasses: number; miEvaluations: number; wallMs: number }
      }
      got[m] = {
        passes: out.cost.forwardPasses,
        mi: out.cost.miEvaluations,
        ms: out.cost.wallMs,
        selected: out.selected,
      }
    }
    const fbs = got.fbs!
    for (const m of methods) {
      const g = got[m]!
      rows.push({
        blocks: T,
        remove: n,
        method: m,
        forwardPasses: g.passes,
        miEvaluations: g.mi,
        selectionMs: Math.round(g.ms),
        passesVsFbs: g.passes / fbs.passes,
        timeVsFbs: g.ms / fbs.ms,
        selected: g.selected.join(','),
      })
    }
  }

  console.log(
    `forward passes and selection time, random-weight Llama with T = ${T} blocks (same process per method)`,
  )
  console.log('T   N  method    passes  ×FBS   MI evals  selection ms  ×FBS time')
  for (const r of rows) {
    console.log(
      `${r.blocks}  ${String(r.remove).padEnd(2)} ${r.method.padEnd(9)} ${String(r.forwardPasses).padStart(6)} ${r.passesVsFbs.toFixed(0).padStart(5)}× ${String(r.miEvaluations).padStart(9)} ${String(r.selectionMs).padStart(13)} ${r.timeVsFbs.toFixed(1).padStart(9)}×`,
    )
  }
  const out = join(here, 'results')
  mkdirSync(out, { recursive: true })
  const file = join(out, 'forward-passes.json')
  const tmp = `${file}.tmp`
  writeFileSync(
    tmp,
    JSON.stringify(
      {
        benchmark: 'forward-passes',
        model: `random-weight llama, ${T} blocks, d=32 (generateRandomCheckpoint seed 1)`,
        calibration: '8 x 32 pre-tokenised ids, seed 0; MI: gaussian + rp:32 (CLI defaults), 200 tokens',
        note: 'selectionMs is the selection alone (the one calibration pass of score-based methods is counted in forwardPasses); machine shared, compare ratios',
        rows,
      },
      null,
      2,
    ) + '\n',
  )
  renameSync(tmp, file)
  console.log(`wrote ${file}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
