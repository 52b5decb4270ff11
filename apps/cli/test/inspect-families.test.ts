import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot, runMiPrun } from './helpers.js'

// `inspect` on a family the TF.js reading does not know (here Qwen3 and Gemma 3 text, run by the ONNX Runtime
// engine) is summarised from the families' reading of config.json, not refused; ONNX files report their real
// storage type instead of "see graph".
describe('inspect beyond the four TF.js families', () => {
  it('qwen3-kjv-16 (HF, bf16): family, blocks, parameters and dtype from the files', async () => {
    const r = await runMiPrun(['inspect', join(repoRoot, 'models', 'qwen3-kjv-16'), '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as Record<string, unknown>
    expect(j).toMatchObject({
      architecture: 'Qwen3ForCausalLM',
      family: 'qwen3',
      blocks: 16,
      hiddenSize: 128,
      vocabSize: 2048,
      parameters: 3413120,
      dtype: 'BF16',
    })
  })
  it('a sharded gemma3_text fixture', async () => {
    const dir = join(repoRoot, 'packages', 'testkit', 'fixtures', 'families', 'gemma3')
    const r = await runMiPrun(['inspect', dir, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ modelType: 'gemma3_text', blocks: 3, parameters: 45568 })
  })
  it('an ONNX folder reports its storage type', async () => {
    const r = await runMiPrun(['inspect', join(repoRoot, 'models', 'llama-kjv', 'onnx'), '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ dtype: 'F32' })
  })
})
