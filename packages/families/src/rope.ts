// Rotary position embeddings: reading the parameters in both config layouts and computing the
// inverse frequencies of every RoPE type in use.
//
// Layouts (both are read; a config must not mix them):
// - transformers 4: top-level `rope_theta` and `rope_scaling` ({ rope_type | type, factor, … } or
//   null); Gemma 3 also `rope_local_base_freq` for its sliding layers.
// - transformers 5: `rope_parameters` = { rope_type, rope_theta, … }, or per layer type
//   { full_attention: {…}, sliding_attention: {…} } (Gemma 3).
//
// [1] Su et al., "RoFormer: Enhanced Transformer with Rotary Position Embedding", 2021.
// [2] Meta, Llama 3.1 model card and reference code (the `llama3` frequency smoothing), 2024.
// [3] bloc97 / emozilla, "Dynamically Scaled RoPE further increases performance of long context
//     LLaMA with zero fine-tuning" (dynamic NTK), 2023.
// [4] Peng et al., "YaRN: Efficient Context Window Extension of Large Language Models", 2023.
// [5] Ding et al., "LongRoPE: Extending LLM Context Window Beyond 2 Million Tokens", 2024.

import type { RotaryTable } from './arch.js'
import type { ConfigReader } from './config.js'

type Params = Readonly<Record<string, unknown>>

/** The RoPE parameters of one table after layout normalisation. */
export interface RopeParameters {
  readonly ropeType: string
  readonly theta: number
  /** Every other parameter of the type (factor, low_freq_factor, …) as given. */
  readonly params: Params
  /** Where the parameters were read, for messages: `rope_parameters.sliding_attention`, … */
  readonly where: string
}

export interface RopeContext {
  /** Dimensions that rotate per head (head_dim × partial_rotary_factor). */
  readonly rotaryDim: number
  /** config `max_position_embeddings`. */
  readonly maxPositions: number
  /**
   * Top-level config `original_max_position_embeddings` (Phi-3 keeps it there). transformers gives
   * it priority over the value inside the RoPE parameters for llama3, yarn and longrope; absent
   * both, those types fall back to `maxPositions`.
   */
  readonly originalMaxPositions?: number
}

/** A RoPE type: validates its parameters (consuming them) and returns the table. */
export type RopeTypeImpl = (p: RopeParameters, ctx: RopeContext, r: ConfigReader) => RotaryTable

function baseInvFreq(theta: number, dim: number): Float64Array {
  const half = dim / 2
  const f = new Float64Array(half)
  for (let k = 0; k < half; k++) f[k] = 1 / Math.pow(theta, (2 * k) / dim)
  return f
}

function numParam(p: RopeParameters, key: string, r: ConfigReader, fallback?: number): number {
  const v = p.params[key] ?? fallback
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw r.unsupported(`${p.where}.${key}`, p.params[key], `a finite number for rope_type ${p.ropeType}`)
  return v
}

function table(
  p: RopeParameters,
  ctx: RopeContext,
  settings: Params,
  frequencies: RotaryTable['frequencies'],
): RotaryTable {
  return {
    rotaryDim: ctx.rotaryDim,
    settings: { rope_type: p.ropeType, rope_theta: p.theta, rotary_dim: ctx.rotaryDim, ...settings },
    frequencies,
  }
}

/** Keys each implemented type accepts besides rope_type/type/rope_theta; anything else is refused. */
const TYPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  default: [],
  linear: ['factor'],
  llama3: ['factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
  dynamic: ['factor'],
  yarn: [
    'factor',
    'attention_factor',
    'beta_fast',
    'beta_slow',
    'mscale',
    'mscale_all_dim',
    'original_max_position_embeddings',
    'truncate',
  ],
  longrope: ['long_factor', 'short_factor', 'factor', 'attention_factor', 'original_max_position_embeddings'],
}

/** original_max_position_embeddings as transformers resolves it: top level, else the parameters, else max_position_embeddings. */
function originalMax(p: RopeParameters, ctx: RopeContext, r: ConfigReader): number {
  if (ctx.originalMaxPositions !== undefined) return ctx.originalMaxPositions
  const v = numParam(p, 'original_max_position_embeddings', r, ctx.maxPositions)
  if (!Number.isInteger(v) || v < 1)
    throw r.unsupported(`${p.where}.original_max_position_embeddings`, v, 'a positive integer')
  return v
}

function optParam(p: RopeParameters, key: string, r: ConfigReader): number | undefined {
  const v = p.params[key]
  return v === undefined || v === null ? undefined : numParam(p, key, r)
}

function factorList(p: RopeParameters, key: string, n: number, r: ConfigReader): Float64Array {
  const v = p.params[key]
  if (
    !Array.isArray(v) ||
    v.length !== n ||
    v.some((x) => typeof x !== 'number' || !Number.isFinite(x) || x <= 0)
  )
    throw r.unsupported(`${p.where}.${key}`, v, `an array of ${n} positive numbers (rotary dimension / 2)`)
  return Float64Array.from(v as number[])
}

/** Implemented RoPE types. Frozen; add a type here and to TYPE_KEYS together. */
export const ropeTypes: Readonly<Record<string, RopeTypeImpl>> = Object.freeze({
  default: (p, ctx) => {
    const f = baseInvFreq(p.theta, ctx.rotaryDim)
    return table(p, ctx, {}, () => ({ invFreq: f, attentionFactor: 1 }))
  },
  linear: (p, ctx, r) => {
    const factor = numParam(p, 'factor', r)
    const f = baseInvFreq(p.theta, ctx.rotaryDim).map((x) => x / factor)
    return table(p, ctx, { factor }, () => ({ invFreq: f, attentionFactor: 1 }))
  },
  // [2]: wavelengths above original_max/low_freq_factor are divided by `factor`, those below
  // original_max/high_freq_factor kept, and the band between interpolated smoothly.
  llama3: (p, ctx, r) => {
    const factor = numParam(p, 'factor', r)
    const low = numParam(p, 'low_freq_factor', r)
    const high = numParam(p, 'high_freq_factor', r)
    const orig = originalMax(p, ctx, r)
    const lowWave = orig / low
    const highWave = orig / high
    const f = baseInvFreq(p.theta, ctx.rotaryDim).map((x) => {
      // (the original context length resolves as transformers does; see originalMax)
      const wave = (2 * Math.PI) / x
      if (wave < highWave) return x
      if (wave > lowWave) return x / factor
      const smooth = (orig / wave - low) / (high - low)
      return (1 - smooth) * (x / factor) + smooth * x
    })
    return table(
      p,
      ctx,
      { factor, low_freq_factor: low, high_freq_factor: high, original_max_position_embeddings: orig },
      () => ({ invFreq: f, attentionFactor: 1 }),
    )
  },
  // [3]: for a total length L beyond max_position_embeddings M the base grows to
  // θ·(factor·L/M − (factor − 1))^(d/(d−2)); up to M the table is the default one. transformers
  // recomputes it per call from the largest position (a fresh model's state; see dynamic_rope_update).
  dynamic: (p, ctx, r) => {
    const factor = numParam(p, 'factor', r)
    const d = ctx.rotaryDim
    const M = ctx.maxPositions
    const base = baseInvFreq(p.theta, d)
    return table(p, ctx, { factor, max_position_embeddings: M }, (L) => {
      if (L <= M) return { invFreq: base, attentionFactor: 1 }
      const theta = p.theta * Math.pow((factor * L) / M - (factor - 1), d / (d - 2))
      return { invFreq: baseInvFreq(theta, d), attentionFactor: 1 }
    })
  },
  // [4]: per frequency, a linear ramp between interpolation (÷ factor) and extrapolation over the
  // correction range of beta_fast … beta_slow rotations; cos/sin scaled by the attention factor
  // (0.1·ln(factor) + 1, or the mscale / mscale_all_dim ratio, or as given).
  yarn: (p, ctx, r) => {
    const orig = originalMax(p, ctx, r)
    const factor = optParam(p, 'factor', r) ?? ctx.maxPositions / orig
    const mscale = optParam(p, 'mscale', r)
    const mscaleAll = optParam(p, 'mscale_all_dim', r)
    const get = (scale: number, m = 1) => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1)
    const given = optParam(p, 'attention_factor', r)
    const attentionFactor =
      given ?? (mscale && mscaleAll ? get(factor, mscale) / get(factor, mscaleAll) : get(factor))
    // transformers: `beta_fast or 32`, `beta_slow or 1` (0 and null mean the default)
    const betaFast = optParam(p, 'beta_fast', r) || 32
    const betaSlow = optParam(p, 'beta_slow', r) || 1
    const tr = p.params['truncate'] ?? true
    if (typeof tr !== 'boolean') throw r.unsupported(`${p.where}.truncate`, tr, 'true or false')
    const d = ctx.rotaryDim
    const corr = (rot: number) => (d * Math.log(orig / (rot * 2 * Math.PI))) / (2 * Math.log(p.theta))
    let low = corr(betaFast)
    let high = corr(betaSlow)
    if (tr) {
      low = Math.floor(low)
      high = Math.ceil(high)
    }
    low = Math.max(low, 0)
    high = Math.min(high, d - 1)
    if (low === high) high += 0.001
    const base = baseInvFreq(p.theta, d)
    const f = base.map((x, k) => {
      const ramp = Math.min(1, Math.max(0, (k - low) / (high - low)))
      const extrap = 1 - ramp
      return (x / factor) * (1 - extrap) + x * extrap
    })
    return table(
      p,
      ctx,
      {
        factor,
        attention_factor: attentionFactor,
        beta_fast: betaFast,
        beta_slow: betaSlow,
        original_max_position_embeddings: orig,
        truncate: tr,
      },
      () => ({ invFreq: f, attentionFactor }),
    )
  },
  // [5]: inverse frequencies divided per dimension by short_factor, or by long_factor once the
  // total length exceeds original_max_position_embeddings; attention factor
  // √(1 + ln(factor)/ln(orig)) with factor = max_position_embeddings / orig unless given.
  longrope: (p, ctx, r) => {
    const orig = originalMax(p, ctx, r)
    const half = ctx.rotaryDim / 2
    const short = factorList(p, 'short_factor', half, r)
    const long = factorList(p, 'long_factor', half, r)
    const factor = optParam(p, 'factor', r) ?? ctx.maxPositions / orig
    const attentionFactor =
      optParam(p, 'attention_factor', r) ??
      (factor <= 1 ? 1 : Math.sqrt(1 + Math.log(factor) / Math.log(orig)))
    const base = baseInvFreq(p.theta, ctx.rotaryDim)
    const fs = base.map((x, k) => x / short[k]!)
    const fl = base.map((x, k) => x / long[k]!)
    return table(
      p,
      ctx,
      { factor, attention_factor: attentionFactor, original_max_position_embeddings: orig },
      (L) => ({ invFreq: L > orig ? fl : fs, attentionFactor }),
    )
  },
})

function paramsOf(v: unknown, where: string, r: ConfigReader): Params {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw r.invalid(where, 'an object')
  return v as Params
}

function normalise(raw: Params, theta: number | undefined, where: string, r: ConfigReader): RopeParameters {
  const type = raw['rope_type'] ?? raw['type'] ?? 'default'
  if (typeof type !== 'string') throw r.invalid(where, 'an object with a string rope_type')
  const th = raw['rope_theta'] ?? theta
  if (typeof th !== 'number' || !Number.isFinite(th) || th <= 0)
    throw r.invalid(`${where}.rope_theta`, 'a positive number')
  const params: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw))
    if (k !== 'rope_type' && k !== 'type' && k !== 'rope_theta') params[k] = v
  return { ropeType: type, theta: th, params, where }
}

/**
 * The RoPE parameters of a config, per layer type when the config gives them per layer type
 * (`{ full_attention, sliding_attention }`), else under the key `default`. Reads (consumes)
 * `rope_parameters`, `rope_theta`, `rope_scaling`; the caller decides what the layer types mean.
 * `defaultTheta` is the family's default when no θ is given anywhere.
 */
export function readRopeParameters(
  r: ConfigReader,
  defaultTheta: number,
): Readonly<Record<string, RopeParameters>> {
  const rp = r.raw('rope_parameters')
  const theta = r.has('rope_theta') ? r.num('rope_theta') : (r.raw('rope_theta'), undefined)
  const scaling = r.raw('rope_scaling')
  if (rp !== undefined && rp !== null) {
    if (scaling !== undefined && scaling !== null)
      throw r.unsupported(
        'rope_scaling',
        scaling,
        'one layout only: rope_parameters (transformers 5) or rope_scaling (transformers 4)',
      )
    const obj = paramsOf(rp, 'rope_parameters', r)
    const values = Object.values(obj)
    const perType =
      values.length > 0 && values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))
    if (perType) {
      const out: Record<string, RopeParameters> = {}
      for (const [lt, v] of Object.entries(obj))
        out[lt] = normalise(
          paramsOf(v, `rope_parameters.${lt}`, r),
          theta ?? defaultTheta,
          `rope_parameters.${lt}`,
          r,
        )
      return out
    }
    return { default: normalise(obj, theta ?? defaultTheta, 'rope_parameters', r) }
  }
  const s = scaling === undefined || scaling === null ? {} : paramsOf(scaling, 'rope_scaling', r)
  return { default: normalise(s, theta ?? defaultTheta, scaling == null ? 'rope_theta' : 'rope_scaling', r) }
}

/** Builds the table of one parameter set, refusing unimplemented types and unknown parameters by name. */
export function rotaryTable(p: RopeParameters, ctx: RopeContext, r: ConfigReader): RotaryTable {
  const impl = Object.hasOwn(ropeTypes, p.ropeType) ? ropeTypes[p.ropeType] : undefined
  if (impl === undefined)
    throw r.unsupported(`${p.where}.rope_type`, p.ropeType, Object.keys(ropeTypes).join(', '))
  const allowed = TYPE_KEYS[p.ropeType] ?? []
  for (const k of Object.keys(p.params)) {
    if (!allowed.includes(k))
      throw r.unsupported(
        `${p.where}.${k}`,
        p.params[k],
        `for rope_type ${p.ropeType}: ${allowed.join(', ') || 'no other parameters'}`,
      )
  }
  if (!Number.isInteger(ctx.rotaryDim) || ctx.rotaryDim < 2 || ctx.rotaryDim % 2 !== 0)
    throw r.invalid('head_dim', `such that the rotary dimension is even (got ${ctx.rotaryDim})`)
  return impl(p, ctx, r)
}

/** cos and sin tables [positions, rotaryDim] (rotate-half layout: [freqs, freqs]) for positions from..to−1. */
export function rotaryCosSin(
  t: RotaryTable,
  totalLength: number,
  from = 0,
): { cos: Float64Array; sin: Float64Array } {
  const { invFreq, attentionFactor } = t.frequencies(totalLength)
  const half = invFreq.length
  const d = 2 * half
  const n = totalLength - from
  const cos = new Float64Array(n * d)
  const sin = new Float64Array(n * d)
  for (let p = 0; p < n; p++) {
    for (let k = 0; k < half; k++) {
      const ang = (p + from) * invFreq[k]!
      const c = Math.cos(ang) * attentionFactor
      const s = Math.sin(ang) * attentionFactor
      cos[p * d + k] = cos[p * d + k + half] = c
      sin[p * d + k] = sin[p * d + k + half] = s
    }
  }
  return { cos, sin }
}
