import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadHfOnOrt } from '@mi-prun/adapter-onnx'

// transformers 5's config dataclasses refuse an int in a float-typed field, so the pruned config must write
// `"final_logit_softcapping": 3.0`, not the `3` that JSON.parse → JSON.stringify would give.
const fixtures = join(import.meta.dirname, '..', '..', '..', 'testkit', 'fixtures', 'families')
const work = mkdtempSync(join(tmpdir(), 'mi-prun-hf-export-config-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe('pruned HF config keeps float spelling', () => {
  it.each([
    ['gemma2', ['"attn_logit_softcapping": 2.0', '"final_logit_softcapping": 3.0']],
    ['granite', ['"embedding_multiplier": 12.0']],
  ])('%s', async (name, wanted) => {
    const model = await loadHfOnOrt(join(fixtures, name), { intraOpNumThreads: 1 })
    try {
      const out = join(work, name)
      await model.exportPruned([1], out)
      const text = readFileSync(join(out, 'config.json'), 'utf8')
      for (const w of wanted) expect(text).toContain(w)
      expect((JSON.parse(text) as { num_hidden_layers: number }).num_hidden_layers).toBe(2)
    } finally {
      await model.dispose()
    }
  })
})
