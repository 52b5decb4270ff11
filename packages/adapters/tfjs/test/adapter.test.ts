import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isPruneError } from '@mi-prun/core'
import { describeAdapter } from '@mi-prun/testkit'
import {
  PROVENANCE_FILE,
  generateRandomCheckpoint,
  inspectHfModel,
  loadHfModel,
  parseArchitecture,
} from '@mi-prun/adapter-tfjs'

const fixtures = join(import.meta.dirname, 'fixtures')
const tmp = mkdtempSync(join(tmpdir(), 'adapter-tfjs-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
let k = 0
const fresh = (): string => join(tmp, `m${k++}`)
const copy = (name: string): string => {
  const d = fresh()
  cpSync(join(fixtures, name), d, { recursive: true })
  return d
}

for (const name of ['llama-gqa', 'gpt2-sharded', 'qwen2-f16']) {
  describeAdapter({
    name: `tfjs ${name}`,
    load: () => loadHfModel(join(fixtures, name), { backend: 'cpu' }),
    reload: (dir) => loadHfModel(dir, { backend: 'cpu' }),
  })
}
describeAdapter({
  name: 'tfjs mistral-bf16, streamed on wasm',
  load: () => loadHfModel(join(fixtures, 'mistral-bf16'), { backend: 'wasm', stream: true }),
  reload: (dir) => loadHfModel(dir, { backend: 'wasm' }),
})

describe('architecture dispatch', () => {
  it('dispatches on config.json, never on the folder name', async () => {
    const d = copy('gpt2-sharded')
    const named = join(tmp, 'llama-looking-name')
    cpSync(d, named, { recursive: true })
    expect(inspectHfModel(named).arch.family).toBe('gpt2')
    const cfg = JSON.parse(readFileSync(join(named, 'config.json'), 'utf8'))
    delete cfg.model_type
    writeFileSync(join(named, 'config.json'), JSON.stringify(cfg))
    expect(inspectHfModel(named).arch.modelType).toBe('gpt2') // from architectures[0]
  })
  it('unknown architecture: UNSUPPORTED_ARCHITECTURE listing the supported ones', () => {
    try {
      parseArchitecture({ model_type: 'falcon', architectures: ['FalconForCausalLM'] })
      expect.unreachable()
    } catch (e) {
      expect(isPruneError(e, 'UNSUPPORTED_ARCHITECTURE')).toBe(true)
      expect((e as Error).message).toMatch(/"falcon"/)
      expect((e as Error).message).toMatch(/llama, mistral, qwen2, gpt2/)
    }
  })
  it('reads Hugging Face defaults: GQA, tied head, qkv bias, sliding window, Conv1D sizes', () => {
    const l = inspectHfModel(join(fixtures, 'llama-gqa')).arch
    expect([l.numHeads, l.numKvHeads, l.headDim, l.tied, l.qkvBias, l.ropeTheta]).toEqual([
      4,
      2,
      4,
      false,
      false,
      500,
    ])
    const q = inspectHfModel(join(fixtures, 'qwen2-f16')).arch
    expect([q.tied, q.qkvBias, q.oBias]).toEqual([true, true, false])
    expect(inspectHfModel(join(fixtures, 'mistral-bf16')).arch.window).toEqual([4, 4, 4])
    const g = inspectHfModel(join(fixtures, 'gpt2-sharded'))
    expect([g.arch.intermediateSize, g.arch.prefix, g.arch.activation, g.dtype]).toEqual([
      64,
      'transformer.',
      'gelu_tanh',
      'F32',
    ])
    expect(inspectHfModel(join(fixtures, 'qwen2-f16')).dtype).toBe('F16')
    expect(
      parseArchitecture({
        model_type: 'llama',
        hidden_size: 8,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 8,
        vocab_size: 4,
        layer_types: ['full_attention', 'sliding_attention'],
        sliding_window: 3,
      }).window,
    ).toEqual([0, 3])
  })
  it('rejects configs it cannot run faithfully', () => {
    const base = {
      model_type: 'llama',
      hidden_size: 8,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      intermediate_size: 8,
      vocab_size: 4,
    }
    expect(() => parseArchitecture({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(
      /rope_scaling/,
    )
    expect(() => parseArchitecture({ ...base, num_key_value_heads: 3 })).toThrow(
      /multiple of num_key_value_heads/,
    )
    expect(() => parseArchitecture({ ...base, hidden_size: 'x' })).toThrow(/"hidden_size" must be a number/)
  })
  it('a tensor missing or of the wrong shape for the config is named in the error', () => {
    const d = copy('llama-gqa')
    const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'))
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, num_hidden_layers: 5 }))
    expect(() => inspectHfModel(d)).toThrow(/"model\.layers\.4\.input_layernorm\.weight" is missing/)
    writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 41 }))
    expect(() => inspectHfModel(d)).toThrow(
      /gate_proj\.weight" has shape \[40,16\], config\.json implies \[41,16\]/,
    )
  })
})

describe('forward input validation', () => {
  it('refuses bad batches, out-of-vocabulary ids, skip and captureRows out of range', async () => {
    const m = await loadHfModel(join(fixtures, 'llama-gqa'), { backend: 'cpu' })
    const ok = { ids: new Int32Array(4), batch: 2, seqLen: 2 }
    await expect(m.forward({ ...ok, batch: 3 })).rejects.toThrow(/needs 6 ids, got 4/)
    await expect(m.forward({ ...ok, ids: Int32Array.from([0, 1, 48, 2]) })).rejects.toThrow(
      /token id 48 at flat index 2/,
    )
    await expect(m.forward({ ids: new Int32Array(33), batch: 1, seqLen: 33 })).rejects.toThrow(
      /exceeds the model's 32 positions/,
    )
    await expect(m.forward(ok, { skip: [4] })).rejects.toThrow(/skip block 4/)
    await expect(m.forward(ok, { hiddenStates: true, captureRows: Int32Array.from([4]) })).rejects.toThrow(
      /captureRows entry 4/,
    )
    m.dispose()
    await expect(m.forward(ok)).rejects.toThrow(/disposed/)
  })
})

describe('exportPruned', () => {
  it('renumbers blocks, cuts per-layer config arrays, copies the tokenizer, records provenance', async () => {
    const src = copy('llama-gqa')
    const cfg = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'))
    writeFileSync(
      join(src, 'config.json'),
      JSON.stringify({
        ...cfg,
        layer_types: ['full_attention', 'full_attention', 'sliding_attention', 'full_attention'],
        sliding_window: 64,
      }),
    )
    const m = await loadHfModel(src, { backend: 'cpu' })
    const out = fresh()
    const r = await m.exportPruned([0, 2], out, { method: 'mi-prun', settings: { estimator: 'ksg' } })
    expect(r).toEqual({ path: out, numBlocks: 2, removed: [0, 2] })
    const oc = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))
    expect(oc.num_hidden_layers).toBe(2)
    expect(oc.layer_types).toEqual(['full_attention', 'full_attention'])
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(
      readFileSync(join(src, 'tokenizer.json'), 'utf8'),
    )
    const prov = JSON.parse(readFileSync(join(out, PROVENANCE_FILE), 'utf8'))
    expect([prov.removedBlocks, prov.keptBlocks, prov.method, prov.settings, prov.source.numBlocks]).toEqual([
      [0, 2],
      [1, 3],
      'mi-prun',
      { estimator: 'ksg' },
      4,
    ])
    const s = inspectHfModel(out)
    const names = s.tensors.map((t) => t.name).filter((n) => n.includes('layers.'))
    expect(new Set(names.map((n) => n.split('.')[2]))).toEqual(new Set(['0', '1']))
    // block 1 of the export holds the bytes of original block 3
    const { openCheckpoint } = await import('@mi-prun/safetensors')
    const a = openCheckpoint(src).readBytes('model.layers.3.mlp.down_proj.weight')
    const b = openCheckpoint(out).readBytes('model.layers.1.mlp.down_proj.weight')
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([])
    m.dispose()
  })
  it('keeps a sharded source sharded with an index', async () => {
    const m = await loadHfModel(join(fixtures, 'gpt2-sharded'), { backend: 'cpu' })
    const out = fresh()
    await m.exportPruned([3], out)
    expect(existsSync(join(out, 'model.safetensors.index.json'))).toBe(true)
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).n_layer).toBe(3)
    m.dispose()
  })
  it('a failure leaves nothing behind; bad requests are refused before writing', async () => {
    const src = copy('llama-gqa')
    const m = await loadHfModel(src, { backend: 'cpu', stream: true })
    await expect(m.exportPruned([0, 1, 2, 3], fresh())).rejects.toThrow(/cannot remove all 4 blocks/)
    await expect(m.exportPruned([4], fresh())).rejects.toThrow(/block 4 is out of range/)
    await expect(m.exportPruned([1, 1], fresh())).rejects.toThrow(/distinct/)
    const existing = fresh()
    cpSync(src, existing, { recursive: true })
    await expect(m.exportPruned([1], existing)).rejects.toThrow(/already exists/)
    rmSync(join(src, 'model.safetensors')) // weights vanish mid-way: reading the first tensor fails
    const out = fresh()
    const e = await m.exportPruned([1], out).catch((x: unknown) => x)
    expect(isPruneError(e)).toBe(true)
    expect(existsSync(out)).toBe(false)
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([])
    m.dispose()
  })
})

describe('random checkpoint generator', () => {
  it('same seed, same bytes; another seed, other bytes', async () => {
    const opts = { arch: 'qwen2', seed: 5, numBlocks: 2, dtype: 'BF16' } as const
    const [a, b, c] = [fresh(), fresh(), fresh()]
    await generateRandomCheckpoint(a, opts)
    await generateRandomCheckpoint(b, opts)
    await generateRandomCheckpoint(c, { ...opts, seed: 6 })
    const bytes = (d: string): Buffer => readFileSync(join(d, 'model.safetensors'))
    expect(bytes(a).equals(bytes(b))).toBe(true)
    expect(bytes(a).equals(bytes(c))).toBe(false)
    expect(inspectHfModel(a).blockBytes).toEqual([
      inspectHfModel(a).blockBytes[0],
      inspectHfModel(a).blockBytes[0],
    ])
    await expect(generateRandomCheckpoint(a, opts)).rejects.toThrow(/already exists/)
  })
})
