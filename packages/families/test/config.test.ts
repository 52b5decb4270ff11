import { describe, expect, it } from 'vitest'
import { isPruneError } from '@mi-prun/core'
import { parseModel, rotaryCosSin } from '@mi-prun/families'

const llama = {
  model_type: 'llama',
  architectures: ['LlamaForCausalLM'],
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 512,
  max_position_embeddings: 256,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
}

const code = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    if (isPruneError(e)) return e.code
    throw e
  }
  return 'no error'
}

describe('strict config reading', () => {
  it('reads the transformers 4 and 5 RoPE layouts to the same table', () => {
    const t4 = parseModel({ ...llama, rope_theta: 500000, rope_scaling: null })
    const t5 = parseModel({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 500000 } })
    const a = t4.rotary['default']!.frequencies(16).invFreq
    const b = t5.rotary['default']!.frequencies(16).invFreq
    expect([...a]).toEqual([...b])
    expect(a[1]).toBeCloseTo(Math.pow(500000, -2 / 16), 15)
  })
  it('a transformers-5 theta is not silently replaced by the default', () => {
    const t5 = parseModel({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } })
    const dflt = parseModel(llama)
    expect(t5.rotary['default']!.frequencies(8).invFreq[1]).not.toBe(
      dflt.rotary['default']!.frequencies(8).invFreq[1],
    )
  })
  it('llama3 scaling keeps high frequencies and divides low ones by the factor', () => {
    const a = parseModel({
      ...llama,
      rope_parameters: {
        rope_type: 'llama3',
        rope_theta: 500000,
        factor: 8,
        low_freq_factor: 1,
        high_freq_factor: 4,
        original_max_position_embeddings: 8192,
      },
    })
    const base = parseModel({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 500000 } })
    const f = a.rotary['default']!.frequencies(8).invFreq
    const g = base.rotary['default']!.frequencies(8).invFreq
    expect(f[0]).toBe(g[0]) // wavelength 2π < 8192/4: unchanged
    expect(f[7]! / g[7]!).toBeCloseTo(1 / 8, 12) // wavelength ≫ 8192: divided by 8
    const { cos } = rotaryCosSin(a.rotary['default']!, 4)
    expect(cos[0]).toBe(1)
  })
  it('refuses an unknown numerics key by name', () => {
    expect(code(() => parseModel({ ...llama, attn_logit_softcapping: 50 }))).toBe('UNSUPPORTED_CONFIG')
    expect(() => parseModel({ ...llama, attn_logit_softcapping: 50 })).toThrow(
      /"attn_logit_softcapping" = 50/,
    )
  })
  it('refuses an unimplemented RoPE type and unknown RoPE parameters', () => {
    expect(code(() => parseModel({ ...llama, rope_parameters: { rope_type: 'su', rope_theta: 1e4 } }))).toBe(
      'UNSUPPORTED_CONFIG',
    )
    expect(() =>
      parseModel({
        ...llama,
        rope_parameters: { rope_type: 'linear', rope_theta: 1e4, factor: 2, beta_fast: 3 },
      }),
    ).toThrow(/beta_fast/)
  })
  it('refuses a config that mixes both layouts', () => {
    expect(() =>
      parseModel({
        ...llama,
        rope_parameters: { rope_theta: 1e4 },
        rope_scaling: { rope_type: 'linear', factor: 2 },
      }),
    ).toThrow(/one layout only/)
  })
  it('ignores bookkeeping keys and `_`-prefixed internals', () => {
    expect(() =>
      parseModel({ ...llama, transformers_version: '5.18.0', _name_or_path: 'x', use_cache: true }),
    ).not.toThrow()
  })
  it('names the supported model types for an unknown one', () => {
    expect(() => parseModel({ ...llama, model_type: 'mamba' })).toThrow(/supported model_type values: llama/)
  })
})
