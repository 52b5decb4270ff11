// The supported families, keyed by name, and the dispatch from config.json to an Arch. Frozen: the
// list of families and the type of their names cannot drift apart (style.md, "frozen registries").

import { PruneError } from '@mi-prun/core'
import type { Arch } from './arch.js'
import { type Config, ConfigReader } from './config.js'
import { parseGpt2 } from './families/gpt2.js'
import { parseLlama, parseMistral, parseQwen2 } from './families/llama.js'

const P = '[@mi-prun/families]'

/** One decoder family: how to recognise it, parse its config, and cut its config on pruning. */
export interface Family {
  /** config.json `model_type` values this family reads. */
  readonly modelTypes: readonly string[]
  /** `architectures[0]` class names (used when model_type is absent); the first is the default. */
  readonly classes: readonly string[]
  /** Config keys that do not change numerics for this family (beyond the global list). */
  readonly ignoredKeys: readonly string[]
  /** The key holding the block count. */
  readonly layersKey: string
  /** Keys whose value is an array with one entry per block (cut on pruning). */
  readonly perBlockLists: readonly string[]
  /** Keys whose value is an array of block indices (renumbered on pruning). */
  readonly blockIndexLists: readonly string[]
  parse(r: ConfigReader, architecture: string, tensorNames: ReadonlySet<string>): Arch
}

export const families = Object.freeze({
  llama: {
    modelTypes: ['llama'],
    classes: ['LlamaForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: [],
    blockIndexLists: [],
    parse: (r, a) => parseLlama(r, a),
  },
  mistral: {
    modelTypes: ['mistral'],
    classes: ['MistralForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseMistral(r, a),
  },
  qwen2: {
    modelTypes: ['qwen2'],
    classes: ['Qwen2ForCausalLM'],
    ignoredKeys: [],
    layersKey: 'num_hidden_layers',
    perBlockLists: ['layer_types'],
    blockIndexLists: [],
    parse: (r, a) => parseQwen2(r, a),
  },
  gpt2: {
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
  const r = new ConfigReader(cfg, name, where)
  const arch = family.parse(r, architecture, tensorNames)
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
  return out
}
