// The supported families, keyed by name, and the dispatch from config.json to an Arch. Frozen: the
// list of families and the type of their names cannot drift apart (style.md, "frozen registries").

import { PruneError } from '@mi-prun/core'
import type { Arch } from './arch.js'
import { type Config, ConfigReader } from './config.js'
import { parseGpt2 } from './families/gpt2.js'
import { parseGemma2, parseGemma3Text } from './families/gemma.js'
import { parseGptNeox } from './families/gpt_neox.js'
import { parseLlama, parseMistral, parseQwen2 } from './families/llama.js'
import { parseMixtral } from './families/mixtral.js'
import { parseGranite, parseOlmo2, parsePhi3, parseSmolLM3 } from './families/others.js'
import { parseQwen3, parseQwen3Moe } from './families/qwen3.js'
import { NUMERICS_KEYS } from './numerics-keys.js'

const P = '[@mi-prun/families]'

/** One decoder family: how to recognise it, parse its config, and cut its config on pruning. */
export interface Family {
  /** config.json `model_type` values this family reads. */
  readonly modelTypes: readonly string[]
  /** `architectures[0]` class names (used when model_type is absent); the first is the default. */
  readonly classes: readonly string[]
  /** The config keys that change numerics and that this family implements (numerics-keys.ts). */
  readonly numericsKeys: readonly string[]
  /** Config keys that do not change numerics for this family (beyond the global list). */
  readonly ignoredKeys: readonly string[]
  /** The key holding the block count. */
  readonly layersKey: string
  /** Keys whose value is an array with one entry per block (cut on pruning). */
  readonly perBlockLists: readonly string[]
  /** Keys whose value is an array of block indices (renumbered on pruning). */
  readonly blockIndexLists: readonly string[]
  parse(r: ConfigReader, architecture: string, tensorNames: ReadonlySet<string>): Arch
  /**
   * Rewrites rules that depend on block indices (an interval, a threshold) for the kept blocks
   * `kept` (old indices, ascending) into `out`, after the generic cut.
   */
  cut?(cfg: Config, kept: readonly number[], out: Record<string, unknown>): void
}

/** Qwen2/Qwen3 `max_window_layers` m (blocks i ≥ m slide): the new threshold is the number of kept blocks below m. */
function cutMaxWindowLayers(cfg: Config, kept: readonly number[], out: Record<string, unknown>): void {
  const m = cfg['max_window_layers']
  if (typeof m === 'number') out['max_window_layers'] = kept.filter((i) => i < m).length
}

export const families = Object.freeze({
  llama: {
    numericsKeys: NUMERICS_KEYS.llama,
    modelTypes: ['llama'],
    classes: ['LlamaForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: [],
    blockIndexLists: [],
    parse: (r, a) => parseLlama(r, a),
  },
  mistral: {
    numericsKeys: NUMERICS_KEYS.mistral,
    modelTypes: ['mistral'],
    classes: ['MistralForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseMistral(r, a),
  },
  qwen2: {
    numericsKeys: NUMERICS_KEYS.qwen2,
    modelTypes: ['qwen2'],
    classes: ['Qwen2ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseQwen2(r, a),
    cut: cutMaxWindowLayers,
  },
  qwen3: {
    numericsKeys: NUMERICS_KEYS.qwen3,
    modelTypes: ['qwen3'],
    classes: ['Qwen3ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseQwen3(r, a),
    cut: cutMaxWindowLayers,
  },
  qwen3_moe: {
    numericsKeys: NUMERICS_KEYS.qwen3_moe,
    modelTypes: ['qwen3_moe'],
    classes: ['Qwen3MoeForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: ['mlp_only_layers'],
    parse: (r, a) => parseQwen3Moe(r, a),
    cut: (cfg, kept, out) => {
      cutMaxWindowLayers(cfg, kept, out)
      // the MoE blocks are those with (i + 1) % decoder_sparse_step = 0 outside mlp_only_layers:
      // after a cut the interval no longer lines up, so the dense blocks become an explicit list
      const step = typeof cfg['decoder_sparse_step'] === 'number' ? cfg['decoder_sparse_step'] : 1
      const only = Array.isArray(cfg['mlp_only_layers']) ? (cfg['mlp_only_layers'] as number[]) : []
      const dense = kept.flatMap((old, i) => (only.includes(old) || (old + 1) % step !== 0 ? [i] : []))
      out['decoder_sparse_step'] = 1
      out['mlp_only_layers'] = dense
    },
  },
  mixtral: {
    numericsKeys: NUMERICS_KEYS.mixtral,
    modelTypes: ['mixtral'],
    classes: ['MixtralForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseMixtral(r, a),
  },
  gemma2: {
    numericsKeys: NUMERICS_KEYS.gemma2,
    modelTypes: ['gemma2'],
    classes: ['Gemma2ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseGemma2(r, a),
    cut: (cfg, kept, out) => {
      if (!Array.isArray(cfg['layer_types']))
        out['layer_types'] = kept.map((i) => ((i + 1) % 2 !== 0 ? 'sliding_attention' : 'full_attention'))
    },
  },
  gemma3_text: {
    numericsKeys: NUMERICS_KEYS.gemma3_text,
    modelTypes: ['gemma3_text'],
    classes: ['Gemma3ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseGemma3Text(r, a),
    cut: (cfg, kept, out) => {
      if (!Array.isArray(cfg['layer_types'])) {
        const n = typeof cfg['sliding_window_pattern'] === 'number' ? cfg['sliding_window_pattern'] : 6
        out['layer_types'] = kept.map((i) => ((i + 1) % n !== 0 ? 'sliding_attention' : 'full_attention'))
      }
    },
  },
  phi3: {
    numericsKeys: NUMERICS_KEYS.phi3,
    modelTypes: ['phi3'],
    classes: ['Phi3ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parsePhi3(r, a),
  },
  olmo2: {
    numericsKeys: NUMERICS_KEYS.olmo2,
    modelTypes: ['olmo2'],
    classes: ['Olmo2ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: [],
    blockIndexLists: [],
    parse: (r, a) => parseOlmo2(r, a),
  },
  granite: {
    numericsKeys: NUMERICS_KEYS.granite,
    modelTypes: ['granite'],
    classes: ['GraniteForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: [],
    blockIndexLists: [],
    parse: (r, a) => parseGranite(r, a),
  },
  smollm3: {
    numericsKeys: NUMERICS_KEYS.smollm3,
    modelTypes: ['smollm3'],
    classes: ['SmolLM3ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types', 'no_rope_layers'],
    blockIndexLists: [],
    parse: (r, a) => parseSmolLM3(r, a),
    cut: (cfg, kept, out) => {
      cutMaxWindowLayers(cfg, kept, out)
      if (!Array.isArray(cfg['no_rope_layers'])) {
        const n = typeof cfg['no_rope_layer_interval'] === 'number' ? cfg['no_rope_layer_interval'] : 4
        out['no_rope_layers'] = kept.map((i) => ((i + 1) % n !== 0 ? 1 : 0))
      }
    },
  },
  gpt_neox: {
    numericsKeys: NUMERICS_KEYS.gpt_neox,
    modelTypes: ['gpt_neox'],
    classes: ['GPTNeoXForCausalLM'],
    // classifier_dropout: sequence-classification head only
    ignoredKeys: ['classifier_dropout'],
    layersKey: 'num_hidden_layers',
    perBlockLists: [],
    blockIndexLists: [],
    parse: (r, a) => parseGptNeox(r, a),
  },
  gpt2: {
    numericsKeys: NUMERICS_KEYS.gpt2,
    modelTypes: ['gpt2'],
    classes: ['GPT2LMHeadModel'],
    ignoredKeys: [],
    layersKey: 'n_layer',
    perBlockLists: [],
    blockIndexLists: [],
    parse: (r, a, names) => parseGpt2(r, a, names),
  },
} satisfies Record<string, Family>)

export type FamilyName = keyof typeof families

/** The family of a config: by `model_type`, else by `architectures[0]`. */
export function familyOf(cfg: Config): { name: FamilyName; family: Family; architecture: string } {
  const mt = cfg['model_type']
  const archs = cfg['architectures']
  const arch0 = Array.isArray(archs) && typeof archs[0] === 'string' ? archs[0] : undefined
  for (const [name, f] of Object.entries(families) as [FamilyName, Family][]) {
    const byType = typeof mt === 'string' && f.modelTypes.includes(mt)
    const byClass = mt === undefined && arch0 !== undefined && f.classes.includes(arch0)
    if (byType || byClass) return { name, family: f, architecture: arch0 ?? f.classes[0]! }
  }
  const types = Object.values(families).flatMap((f: Family) => f.modelTypes)
  throw new PruneError(
    'UNSUPPORTED_ARCHITECTURE',
    `${P} config.json: model_type ${JSON.stringify(mt)} (architectures ${JSON.stringify(archs)}) is not supported; ` +
      `supported model_type values: ${types.join(', ')}`,
  )
}

/**
 * config.json → Arch, strictly: every key present must be implemented by the family or known not
 * to change numerics, else PruneError UNSUPPORTED_CONFIG names it. `tensorNames` are the
 * checkpoint's tensor names (a few families name tensors differently by how they were saved).
 */
export function parseModel(
  cfg: Config,
  tensorNames: ReadonlySet<string> = new Set(),
  where = 'config.json',
): Arch {
  const { name, family, architecture } = familyOf(cfg)
  return parseWithFamily(family, name, architecture, cfg, tensorNames, where)
}

/**
 * parseModel with an explicit family (tests use it to show that dropping a key from a family's
 * numerics list makes configs with that key refused).
 */
export function parseWithFamily(
  family: Family,
  name: string,
  architecture: string,
  cfg: Config,
  tensorNames: ReadonlySet<string> = new Set(),
  where = 'config.json',
): Arch {
  const r = new ConfigReader(cfg, name, where)
  const arch = family.parse(r, architecture, tensorNames)
  const listed = new Set(family.numericsKeys)
  const unlisted = r.readKeys.filter((k) => !listed.has(k))
  const present = unlisted.filter((k) => cfg[k] !== undefined)
  if (present.length > 0)
    throw r.unsupported(
      present[0]!,
      cfg[present[0]!],
      `the ${name} numerics keys: ${family.numericsKeys.join(', ')}`,
    )
  if (unlisted.length > 0)
    throw new Error(
      `${P} internal: the ${name} parser reads ${unlisted.join(', ')}, missing from its numericsKeys list`,
    )
  r.finish(family.ignoredKeys)
  return arch
}

/**
 * The config of the model with `removed` blocks deleted: the block count, every per-block list
 * cut, every block-index list renumbered. Families with rules that cannot be cut (e.g. a
 * "every n-th layer" interval) rewrite them as explicit lists in their own code.
 */
export function prunedConfig(cfg: Config, removed: readonly number[]): Record<string, unknown> {
  const { family } = familyOf(cfg)
  const T = cfg[family.layersKey]
  if (typeof T !== 'number') throw new RangeError(`${P} config has no numeric ${family.layersKey}`)
  const gone = new Set(removed)
  const kept = Array.from({ length: T }, (_, i) => i).filter((i) => !gone.has(i))
  const newIndex = new Map(kept.map((old, i) => [old, i]))
  const out: Record<string, unknown> = { ...cfg, [family.layersKey]: kept.length }
  for (const k of family.perBlockLists) {
    const v = cfg[k]
    if (Array.isArray(v)) {
      if (v.length !== T) throw new RangeError(`${P} config "${k}" has ${v.length} entries for ${T} blocks`)
      out[k] = kept.map((i) => v[i])
    }
  }
  for (const k of family.blockIndexLists) {
    const v = cfg[k]
    if (Array.isArray(v))
      out[k] = v.filter((i) => newIndex.has(i as number)).map((i) => newIndex.get(i as number))
  }
  family.cut?.(cfg, kept, out)
  return out
}
