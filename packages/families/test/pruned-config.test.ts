import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type Arch, type BlockSpec, parseModel, prunedConfig } from '@mi-prun/families'

const dir = join(import.meta.dirname, '..', '..', 'testkit', 'fixtures', 'families')
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, name, 'config.json'), 'utf8')) as Record<string, unknown>

/** What a block computes, without its tensor names (which are renumbered on export). */
function signature(b: BlockSpec, arch: Arch) {
  const a = b.attention
  return {
    residual: b.residual,
    norms: [b.attnNorm, b.attnPostNorm, b.mlpNorm, b.mlpPostNorm].map((n) => n?.kind ?? null),
    residualScale: b.residualScale ?? null,
    window: a.window ?? null,
    rotary: a.rotary === undefined ? null : arch.rotary[a.rotary.table]!.settings,
    qkNorm: a.qkNorm?.over ?? null,
    scale: a.scale,
    softcap: a.softcap ?? null,
    mlp: b.mlp.kind,
    experts: b.mlp.kind === 'moe' ? [b.mlp.experts.length, b.mlp.topK, b.mlp.normTopK] : null,
  }
}

function checkCut(cfg: Record<string, unknown>, removed: number[]) {
  const before = parseModel(cfg)
  const after = parseModel(prunedConfig(cfg, removed))
  const kept = before.blocks.map((_, i) => i).filter((i) => !removed.includes(i))
  expect(after.numBlocks).toBe(kept.length)
  kept.forEach((old, i) => {
    expect(signature(after.blocks[i]!, after), `block ${old} → ${i}`).toEqual(
      signature(before.blocks[old]!, before),
    )
  })
}

const subsets = (n: number): number[][] => {
  const out: number[][] = []
  for (let m = 1; m < (1 << n) - 1; m++) out.push([...Array(n).keys()].filter((i) => m & (1 << i)))
  return out
}

describe('prunedConfig keeps every per-block setting of every kept block', () => {
  for (const fx of readdirSync(dir).filter((f) => !f.endsWith('.json'))) {
    it(`${fx}: every proper subset of blocks removed`, () => {
      const cfg = fixture(fx)
      for (const removed of subsets(cfg['num_hidden_layers'] as number)) checkCut(cfg, removed)
    })
  }
  // index-dependent rules (not written by transformers 5, which saves explicit lists, but by older configs)
  const six = (c: Record<string, unknown>) => ({ ...c, num_hidden_layers: 6 })
  it('qwen3_moe: decoder_sparse_step and mlp_only_layers become an explicit dense list', () => {
    const cfg = six({ ...fixture('qwen3_moe'), decoder_sparse_step: 2, mlp_only_layers: [3] })
    for (const removed of subsets(6)) checkCut(cfg, removed)
    const p = prunedConfig(cfg, [0])
    expect(p['decoder_sparse_step']).toBe(1)
    // old blocks 1..5 (MoE at old 1 and 5; old 3 dense by mlp_only_layers) → new dense 1, 2, 3
    expect(p['mlp_only_layers']).toEqual([1, 2, 3])
  })
  it('qwen2: use_sliding_window with max_window_layers and no layer_types', () => {
    const { layer_types: _l, ...base } = fixture('qwen2')
    const cfg = six({ ...base, use_sliding_window: true, sliding_window: 8, max_window_layers: 3 })
    for (const removed of subsets(6)) checkCut(cfg, removed)
    expect(prunedConfig(cfg, [0, 4])['max_window_layers']).toBe(2)
  })
  it('qwen2: layer_types cut together with max_window_layers', () => {
    const cfg = six({
      ...fixture('qwen2'),
      use_sliding_window: true,
      sliding_window: 8,
      max_window_layers: 2,
      layer_types: [
        'full_attention',
        'full_attention',
        'sliding_attention',
        'sliding_attention',
        'sliding_attention',
        'sliding_attention',
      ],
    })
    for (const removed of subsets(6)) checkCut(cfg, removed)
  })
  it('smollm3: no_rope_layer_interval alone becomes an explicit no_rope_layers list', () => {
    const { no_rope_layers: _n, ...base } = fixture('smollm3')
    const cfg = six({ ...base, no_rope_layer_interval: 2, layer_types: null })
    for (const removed of subsets(6)) checkCut(cfg, removed)
    expect(prunedConfig(cfg, [1])['no_rope_layers']).toEqual([1, 1, 0, 1, 0])
  })
  it('gemma3: sliding_window_pattern alone becomes explicit layer_types', () => {
    const { layer_types: _l, ...base } = fixture('gemma3')
    const cfg = six({ ...base, sliding_window_pattern: 3 })
    for (const removed of subsets(6)) checkCut(cfg, removed)
  })
  it('gemma2: the alternating default becomes explicit layer_types', () => {
    const { layer_types: _l, ...base } = fixture('gemma2')
    const cfg = six(base)
    for (const removed of subsets(6)) checkCut(cfg, removed)
  })
})
