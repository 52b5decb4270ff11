// Regenerates the tiny random-weight fixtures under test/fixtures/ and their numpy goldens.
// Run from packages/adapters/tfjs:
//   node --import tsx --conditions @mi-prun/source scripts/make-fixtures.ts
// Needs the image's python3 (numpy 2.x) for scripts/goldens/hf_forward.py.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RandomCheckpointOptions, generateRandomCheckpoint } from '@mi-prun/adapter-tfjs'

const here = dirname(fileURLToPath(import.meta.url))
const fixtures = join(here, '..', 'test', 'fixtures')
const script = join(here, '..', '..', '..', '..', 'scripts', 'goldens', 'hf_forward.py')

const specs: Record<string, RandomCheckpointOptions> = {
  // grouped-query attention (4 heads, 2 KV heads), untied head, custom rope_theta
  'llama-gqa': {
    arch: 'llama',
    seed: 11,
    hiddenSize: 16,
    numBlocks: 4,
    numHeads: 4,
    numKvHeads: 2,
    vocabSize: 48,
    maxPositions: 32,
    ropeTheta: 500,
  },
  // sliding window 4 < seqLen 8, stored as BF16
  'mistral-bf16': {
    arch: 'mistral',
    seed: 12,
    hiddenSize: 16,
    numBlocks: 3,
    numHeads: 2,
    numKvHeads: 1,
    vocabSize: 40,
    maxPositions: 32,
    slidingWindow: 4,
    dtype: 'BF16',
  },
  // qkv bias, tied head, stored as F16
  'qwen2-f16': {
    arch: 'qwen2',
    seed: 13,
    hiddenSize: 16,
    numBlocks: 3,
    numHeads: 4,
    vocabSize: 40,
    maxPositions: 32,
    tied: true,
    dtype: 'F16',
  },
  // Conv1D layout, learned positions, sharded with an index
  'gpt2-sharded': {
    arch: 'gpt2',
    seed: 14,
    hiddenSize: 16,
    numBlocks: 4,
    numHeads: 2,
    vocabSize: 48,
    maxPositions: 16,
    maxShardBytes: 24000,
  },
}

for (const [name, spec] of Object.entries(specs)) {
  const dir = join(fixtures, name)
  rmSync(dir, { recursive: true, force: true })
  await generateRandomCheckpoint(dir, spec)
  const B = 2
  const S = 8
  const ids = Array.from({ length: B * S }, (_, i) => (i * 17 + 5 * (i >> 3) + 3) % (spec.vocabSize ?? 64))
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify({ batch: B, seqLen: S, ids }) + '\n')
  execFileSync('python3', [script, '--model', dir, '--tokens', join(dir, 'tokens.json')], {
    stdio: 'inherit',
  })
}
