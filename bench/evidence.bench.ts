// The evidence for issue 8, items 1–5, on every reference model (models/gpt2-kjv, models/llama-kjv):
// FBS vs exact MI search (optimality), held-out perplexity and multiple choice of every method at three
// pruning levels (quality), Jaccard across disjoint calibration subsets and sizes (stability), time and
// forward passes (cost), single-block top-N vs Fast-Block-Select (ablation). Each model runs in its own
// process (evidence/run-model.ts; all methods of a model share that process and its cached states),
// both at once. Prints each model's tables and the default-estimator recommendation, and writes
// bench/results/evidence-<model>.{json,md} and bench/results/evidence-summary.md.
// EVIDENCE_QUICK=1 runs a smoke-test size; EVIDENCE_MODELS=gpt2-kjv picks models.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { recommend } from './evidence/recommend.js'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..')
const models = (process.env.EVIDENCE_MODELS ?? 'gpt2-kjv,llama-kjv').split(',')
const present = models.filter((m) => existsSync(join(root, 'models', m, 'config.json')))
if (present.length === 0) {
  console.log('skipped: no reference model under models/')
  process.exit(0)
}
for (const m of present) {
  const metrics = JSON.parse(readFileSync(join(root, 'models', m, 'metrics.json'), 'utf8'))
  const step = metrics.valid?.best_step ?? 0
  console.log(
    `${m}: valid.best_step ${step}, valid loss ${metrics.valid?.best_loss_nats} nats${step < 100 ? ' — WARNING: an untrained checkpoint; the evidence is only meaningful on the trained model' : ''}`,
  )
}
const t0 = performance.now()
const codes = await Promise.all(
  present.map(
    (m) =>
      new Promise<number>((res) => {
        const c = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            '--conditions',
            '@mi-prun/source',
            join(here, 'evidence/run-model.ts'),
            `models/${m}`,
            m,
          ],
          { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] },
        )
        c.on('exit', (code) => res(code ?? 1))
      }),
  ),
)
console.log(`all models: ${((performance.now() - t0) / 1000).toFixed(0)} s wall`)
for (const m of present.filter((_, i) => codes[i] === 0))
  console.log(`\n${readFileSync(join(here, 'results', `evidence-${m}.md`), 'utf8')}`)
// the summary covers every model with a result on disk (this run's and earlier runs of other models)
const all = ['gpt2-kjv', 'llama-kjv'].filter((m) => existsSync(join(here, 'results', `evidence-${m}.json`)))
const results = all.map((m) => JSON.parse(readFileSync(join(here, 'results', `evidence-${m}.json`), 'utf8')))
if (results.length) {
  const rec = recommend(results)
  const out = join(here, 'results', 'evidence-summary.md')
  writeFileSync(`${out}.tmp`, `${rec.markdown}\n`)
  renameSync(`${out}.tmp`, out)
  console.log(rec.markdown)
}
process.exit(codes.every((c) => c === 0) ? 0 : 1)
