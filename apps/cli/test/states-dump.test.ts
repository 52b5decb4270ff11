// The dump path gives the direct path's selection: states captured by transformers (scripts/capture on
// models/llama-kjv, the committed fixture) versus mi-prun's own forward pass over the same token windows.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadHfModel } from '@mi-prun/adapter-tfjs'
import { createExactMiSelector, createTopNSelector } from '@mi-prun/selector-baselines'
import {
  collectActivations,
  createBlockInfluenceScorer,
  loadActivationDumpFolder,
} from '@mi-prun/span-scoring'
import { toBatches } from '../src/calibration.js'
import { createMiScorer, parseReducerSpec } from '../src/scoring.js'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const model = join(repo, 'models/llama-kjv')
const dump = join(repo, 'packages/testkit/fixtures/dumps/llama-kjv')

describe.skipIf(!existsSync(join(model, 'model.safetensors')))(
  'a transformers dump selects like the direct path',
  () => {
    it('ShortGPT and the exact MI oracle pick the same blocks at every budget', async () => {
      const index = JSON.parse(readFileSync(join(dump, 'index.json'), 'utf8'))
      const seqLen = index.seqLen as number
      const ids = Int32Array.from(index.tokens.ids as number[])
      const windows = Array.from({ length: ids.length / seqLen }, (_, s) =>
        ids.subarray(s * seqLen, (s + 1) * seqLen),
      )
      const adapter = await loadHfModel(model, { backend: 'wasm' })
      const opts = { maxTokens: 96, seed: 0 }
      const direct = await collectActivations(adapter, toBatches(windows, seqLen), opts)
      const fromDump = loadActivationDumpFolder(dump, opts)
      expect(fromDump.samples).toBe(direct.samples)
      expect(Array.from(fromDump.tags.position)).toEqual(Array.from(direct.tags.position))
      const T = direct.numBlocks
      const results: string[] = []
      for (let n = 1; n <= 6; n++) {
        const a = await createTopNSelector().select(
          { numBlocks: T, scorer: createBlockInfluenceScorer({ store: direct }) },
          n,
        )
        const b = await createTopNSelector().select(
          { numBlocks: T, scorer: createBlockInfluenceScorer({ store: fromDump }) },
          n,
        )
        expect(b.selected).toEqual(a.selected)
        const reducer = parseReducerSpec('pca:16', 128, 0)
        const mi = (s: typeof direct) => createMiScorer(s, 'gaussian', reducer, { k: 3, seed: 0 })
        const c = await createExactMiSelector().select({ numBlocks: T, scorer: mi(direct) }, n)
        const d = await createExactMiSelector().select({ numBlocks: T, scorer: mi(fromDump) }, n)
        expect(d.selected).toEqual(c.selected)
        expect(a.selected.length).toBe(n)
        results.push(`n=${n} shortgpt [${a.selected}] exact-mi [${c.selected}]`)
      }
      console.log(results.join('\n'))
      await adapter.dispose?.()
    }, 120_000)
  },
)
