import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { repoRoot, runMiPrun } from './helpers.js'

const model = fileURLToPath(new URL('./fixtures/hostile/_model', import.meta.url))
const small = ['--seq-len', '32', '--samples', '4', '--tokens', '96']
const onnxFolder = join(repoRoot, 'models/llama-kjv/onnx')

describe('honest numbers and names', { timeout: 300_000 }, () => {
  it('select says "1 forward pass" and counts MI evaluations only for MI methods', async () => {
    const sg = await runMiPrun([
      'select',
      model,
      '--remove',
      '1',
      '--selector',
      'shortgpt',
      ...small,
      '--quiet',
    ])
    expect(sg.code, sg.stderr).toBe(0)
    expect(sg.stdout).toMatch(/\(1 forward pass, \d+ ms\)/)
    expect(sg.stdout).not.toContain('MI evaluation')
    const fbs = await runMiPrun(['select', model, '--remove', '1', ...small, '--quiet'])
    expect(fbs.code, fbs.stderr).toBe(0)
    expect(fbs.stdout).toMatch(/\(1 forward pass, \d+ MI evaluations?, \d+ ms\)/)
  })

  it('demo names the perplexity protocol and the removed share in blocks and in parameters', async () => {
    const out = join(tmpdir(), `mi-prun-honest-${process.pid}`)
    const r = await runMiPrun([
      'demo',
      model,
      '--out',
      out,
      '--samples',
      '4',
      '--seq-len',
      '32',
      '--max-windows',
      '2',
    ])
    const j = await runMiPrun([
      'demo',
      model,
      '--out',
      out,
      '--samples',
      '4',
      '--seq-len',
      '32',
      '--max-windows',
      '2',
      '--json',
    ])
    await rm(out, { recursive: true, force: true })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/removed 1 of 4 blocks \(25% of blocks, \d+\.\d% of parameters\)/)
    expect(r.stdout).toContain(
      'held-out perplexity of kjv-heldout.txt: 2 windows of 32 tokens, 62 tokens scored',
    )
    const dj = JSON.parse(j.stdout) as { dense: { protocol: object }; removedParameterShare: number }
    expect(dj.dense.protocol).toEqual({ text: ['kjv-heldout.txt'], windows: 2, windowLength: 32, tokens: 62 })
    expect(dj.removedParameterShare).toBeGreaterThan(0)
    expect(dj.removedParameterShare).toBeLessThan(0.25)
  })

  it('inspect on an ONNX subfolder prints the real hidden size and vocabulary from the parent config', async () => {
    const r = await runMiPrun(['inspect', onnxFolder, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout) as { hiddenSize: number; vocabSize: number; blocks: number }
    expect(j).toMatchObject({ hiddenSize: 128, vocabSize: 2048, blocks: 12 })
    const t = await runMiPrun(['inspect', onnxFolder])
    expect(t.stdout).toContain('hidden size 128, vocabulary 2048')
    expect(t.stdout).not.toContain('NaN')
  })

  it('an ONNX subfolder finds its tokenizer in the parent folder', async () => {
    const r = await runMiPrun([
      'eval',
      onnxFolder,
      '--seq-len',
      '32',
      '--max-windows',
      '1',
      '--tasks',
      'none',
      '--json',
    ])
    expect(r.stderr).not.toContain('onnx/tokenizer.json')
    expect(r.code, r.stderr).toBe(0)
  })
})
