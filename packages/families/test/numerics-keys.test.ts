import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isPruneError } from '@mi-prun/core'
import { type Family, families, familyOf, parseModel, parseWithFamily } from '@mi-prun/families'

const dir = join(import.meta.dirname, '..', '..', 'testkit', 'fixtures', 'families')
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, name, 'config.json'), 'utf8')) as Record<string, unknown>
const fixtures = readdirSync(dir).filter((f) => !f.endsWith('.json'))

/** Keys known to change the numbers of each family (transformers' modeling code reads them). */
const ROPE = ['rope_parameters', 'rope_scaling', 'rope_theta', 'partial_rotary_factor']
const LLAMA = ['hidden_size', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'intermediate_size']
const KNOWN: Record<keyof typeof families, readonly string[]> = {
  llama: [
    ...LLAMA,
    ...ROPE,
    'rms_norm_eps',
    'hidden_act',
    'attention_bias',
    'mlp_bias',
    'tie_word_embeddings',
  ],
  mistral: [...LLAMA, ...ROPE, 'sliding_window', 'layer_types', 'rms_norm_eps'],
  qwen2: [...LLAMA, ...ROPE, 'use_sliding_window', 'sliding_window', 'max_window_layers', 'layer_types'],
  gpt2: [
    'n_embd',
    'n_head',
    'layer_norm_epsilon',
    'scale_attn_weights',
    'scale_attn_by_inverse_layer_idx',
    'reorder_and_upcast_attn',
    'activation_function',
  ],
  qwen3: [...LLAMA, ...ROPE, 'attention_bias', 'use_sliding_window', 'max_window_layers', 'layer_types'],
  qwen3_moe: [
    ...LLAMA,
    ...ROPE,
    'num_experts',
    'num_local_experts',
    'num_experts_per_tok',
    'norm_topk_prob',
    'decoder_sparse_step',
    'mlp_only_layers',
    'moe_intermediate_size',
  ],
  mixtral: [...LLAMA, ...ROPE, 'num_local_experts', 'num_experts_per_tok', 'sliding_window'],
  gemma2: [
    ...LLAMA,
    ...ROPE,
    'query_pre_attn_scalar',
    'attn_logit_softcapping',
    'final_logit_softcapping',
    'hidden_activation',
    'sliding_window',
    'layer_types',
  ],
  gemma3_text: [
    ...LLAMA,
    ...ROPE,
    'query_pre_attn_scalar',
    'attn_logit_softcapping',
    'final_logit_softcapping',
    'hidden_activation',
    'rope_local_base_freq',
    'sliding_window_pattern',
    'use_bidirectional_attention',
    'layer_types',
  ],
  phi3: [...LLAMA, ...ROPE, 'original_max_position_embeddings', 'sliding_window'],
  olmo2: [...LLAMA, ...ROPE, 'rms_norm_eps', 'attention_bias'],
  granite: [
    ...LLAMA,
    ...ROPE,
    'embedding_multiplier',
    'residual_multiplier',
    'attention_multiplier',
    'logits_scaling',
  ],
  smollm3: [
    ...LLAMA,
    ...ROPE,
    'no_rope_layers',
    'no_rope_layer_interval',
    'use_sliding_window',
    'layer_types',
  ],
  gpt_neox: [
    'hidden_size',
    'num_attention_heads',
    ...ROPE,
    'rotary_pct',
    'rotary_emb_base',
    'use_parallel_residual',
    'layer_norm_eps',
    'attention_bias',
  ],
}

const refusal = (f: () => unknown): { code: string; message: string } => {
  try {
    f()
  } catch (e) {
    if (isPruneError(e)) return { code: e.code, message: e.message }
    throw e
  }
  return { code: 'no error', message: '' }
}

describe('numerics keys per family', () => {
  for (const [name, f] of Object.entries(families) as [keyof typeof families, Family][]) {
    it(`${name}: every known numerics key is in its list`, () => {
      expect(f.numericsKeys).toEqual(expect.arrayContaining([...KNOWN[name]]))
    })
  }
  for (const fx of fixtures) {
    it(`${fx}: dropping any present key from the family list makes the config refused by name`, () => {
      const cfg = fixture(fx)
      const { name, family, architecture } = familyOf(cfg)
      expect(() => parseWithFamily(family, name, architecture, cfg)).not.toThrow()
      const present = family.numericsKeys.filter((k) => cfg[k] !== undefined)
      expect(present.length).toBeGreaterThan(5)
      for (const k of present) {
        const dropped = { ...family, numericsKeys: family.numericsKeys.filter((x) => x !== k) }
        const r = refusal(() => parseWithFamily(dropped, name, architecture, cfg))
        expect(r.code, k).toBe('UNSUPPORTED_CONFIG')
        expect(r.message).toContain(`"${k}"`)
      }
    })
  }
})

describe('refusals (UNSUPPORTED_CONFIG / INVALID_CONFIG, by name)', () => {
  const cases: [string, string, (c: Record<string, unknown>) => Record<string, unknown>, string, string][] = [
    [
      'gemma2',
      'unknown top-level key',
      (c) => ({ ...c, logit_bias_scale: 2 }),
      'UNSUPPORTED_CONFIG',
      '"logit_bias_scale" = 2',
    ],
    [
      'llama3',
      'unknown rope_type',
      (c) => ({ ...c, rope_parameters: { rope_type: 'su', rope_theta: 1e4 } }),
      'UNSUPPORTED_CONFIG',
      'rope_parameters.rope_type',
    ],
    [
      'llama_yarn',
      'unknown yarn parameter',
      (c) => ({ ...c, rope_parameters: { ...(c['rope_parameters'] as object), extrapolation: 2 } }),
      'UNSUPPORTED_CONFIG',
      'rope_parameters.extrapolation',
    ],
    [
      'llama_yarn',
      'yarn truncate not boolean',
      (c) => ({ ...c, rope_parameters: { ...(c['rope_parameters'] as object), truncate: 'yes' } }),
      'UNSUPPORTED_CONFIG',
      'rope_parameters.truncate',
    ],
    [
      'phi3_longrope',
      'longrope factors of the wrong length',
      (c) => ({ ...c, rope_parameters: { ...(c['rope_parameters'] as object), short_factor: [1, 1] } }),
      'UNSUPPORTED_CONFIG',
      'rope_parameters.short_factor',
    ],
    [
      'llama3',
      'both RoPE layouts at once',
      (c) => ({ ...c, rope_scaling: { rope_type: 'linear', factor: 2 } }),
      'UNSUPPORTED_CONFIG',
      '"rope_scaling"',
    ],
    [
      'llama3',
      'partial rotary on a full-rotary family',
      (c) => ({ ...c, partial_rotary_factor: 0.5 }),
      'UNSUPPORTED_CONFIG',
      '"partial_rotary_factor" = 0.5',
    ],
    [
      'phi3',
      'partial rotary given twice, differently',
      (c) => ({ ...c, partial_rotary_factor: 0.5 }),
      'UNSUPPORTED_CONFIG',
      '"partial_rotary_factor"',
    ],
    [
      'gpt_neox',
      'rotary_pct disagreeing with partial_rotary_factor',
      (c) => ({ ...c, rotary_pct: 0.5 }),
      'UNSUPPORTED_CONFIG',
      '"rotary_pct" = 0.5',
    ],
    [
      'gemma3',
      'per-layer-type RoPE without a sliding entry',
      (c) => ({ ...c, rope_parameters: { full_attention: { rope_type: 'default', rope_theta: 1e6 } } }),
      'UNSUPPORTED_CONFIG',
      '"rope_parameters"',
    ],
    [
      'gemma3',
      'rope_local_base_freq disagreeing with sliding rope_theta',
      (c) => ({ ...c, rope_local_base_freq: 5000 }),
      'UNSUPPORTED_CONFIG',
      '"rope_local_base_freq" = 5000',
    ],
    [
      'gemma2',
      'per-layer-type RoPE on Gemma 2',
      (c) => ({
        ...c,
        rope_parameters: { full_attention: { rope_theta: 1e4 }, sliding_attention: { rope_theta: 1e4 } },
      }),
      'UNSUPPORTED_CONFIG',
      '"rope_parameters"',
    ],
    [
      'gemma3',
      'bidirectional attention',
      (c) => ({ ...c, use_bidirectional_attention: true }),
      'UNSUPPORTED_CONFIG',
      '"use_bidirectional_attention" = true',
    ],
    [
      'gemma2',
      'hidden_act disagreeing with hidden_activation',
      (c) => ({ ...c, hidden_act: 'gelu' }),
      'UNSUPPORTED_CONFIG',
      '"hidden_act" = "gelu"',
    ],
    [
      'qwen3',
      'unimplemented activation',
      (c) => ({ ...c, hidden_act: 'quick_gelu' }),
      'UNSUPPORTED_CONFIG',
      '"hidden_act" = "quick_gelu"',
    ],
    [
      'qwen3_moe',
      'num_experts disagreeing with num_local_experts',
      (c) => ({ ...c, num_experts: 8 }),
      'UNSUPPORTED_CONFIG',
      '"num_local_experts" = 4',
    ],
    [
      'qwen3',
      'sliding layer_types without use_sliding_window',
      (c) => ({ ...c, layer_types: ['sliding_attention', 'full_attention', 'full_attention'] }),
      'UNSUPPORTED_CONFIG',
      '"layer_types"',
    ],
    [
      'gemma3',
      'unknown layer type',
      (c) => ({ ...c, layer_types: ['chunked_attention', 'sliding_attention', 'full_attention'] }),
      'UNSUPPORTED_CONFIG',
      '"layer_types[0]" = "chunked_attention"',
    ],
    [
      'qwen3_moe',
      'mlp_only_layers out of range',
      (c) => ({ ...c, mlp_only_layers: [7] }),
      'INVALID_CONFIG',
      '"mlp_only_layers"',
    ],
    [
      'smollm3',
      'no_rope_layers of the wrong length',
      (c) => ({ ...c, no_rope_layers: [1, 0] }),
      'INVALID_CONFIG',
      '"no_rope_layers"',
    ],
    [
      'qwen3_moe',
      'more experts per token than experts',
      (c) => ({ ...c, num_experts_per_tok: 5 }),
      'INVALID_CONFIG',
      '"num_experts_per_tok"',
    ],
    [
      'gemma2',
      'sliding layers without a window',
      (c) => ({ ...c, sliding_window: null }),
      'INVALID_CONFIG',
      '"sliding_window"',
    ],
  ]
  for (const [fx, what, edit, code, named] of cases) {
    it(`${fx}: ${what}`, () => {
      const base = fixture(fx)
      expect(() => parseModel(base)).not.toThrow()
      const r = refusal(() => parseModel(edit(base)))
      expect(r.code).toBe(code)
      expect(r.message).toContain(named)
    })
  }
})

describe('the transformers-5 RoPE layout is never silently replaced', () => {
  it('Llama 3 with theta and llama3 scaling only under rope_parameters', () => {
    const arch = parseModel(fixture('llama3'))
    expect(arch.rotary['default']!.settings).toMatchObject({
      rope_type: 'llama3',
      rope_theta: 500000,
      factor: 8,
    })
  })
  it('Qwen2 with θ = 1e6 under rope_parameters', () => {
    const f = parseModel(fixture('qwen2')).rotary['default']!.frequencies(8).invFreq
    expect(f[1]).toBeCloseTo(Math.pow(1e6, -2 / 8), 15)
  })
  it('Gemma 3: full layers use the full_attention table, sliding ones the local base', () => {
    const arch = parseModel(fixture('gemma3'))
    expect(arch.blocks.map((b) => [b.attention.rotary?.table, b.attention.window])).toEqual([
      ['sliding_attention', 8],
      ['sliding_attention', 8],
      ['full_attention', undefined],
    ])
    expect(arch.rotary['full_attention']!.settings).toMatchObject({
      rope_type: 'linear',
      rope_theta: 1e6,
      factor: 8,
    })
    expect(arch.rotary['sliding_attention']!.settings).toMatchObject({
      rope_type: 'default',
      rope_theta: 10000,
    })
  })
})
