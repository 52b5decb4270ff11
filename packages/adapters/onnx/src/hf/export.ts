// Export of a pruned Hugging Face folder: kept blocks renumbered contiguously (raw bytes, dtype
// unchanged), config cut by the family's own rules (`prunedConfig`), tokenizer files copied, and a
// provenance record. Written to a temp folder beside `outDir` and renamed; nothing is left on error.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { PruneError, type ExportResult } from '@mi-prun/core'
import { type Arch, prunedConfig, serializeConfig } from '@mi-prun/families'
import { type Checkpoint, type TensorSource, writeShardedSafetensors } from '@mi-prun/safetensors'
import { PKG } from '../proto.js'
import { PROVENANCE_FILE } from '../adapter.js'

const COPIED =
  /^(tokenizer.*|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|generation_config\.json|chat_template\.(json|jinja))$/

/**
 * The block a tensor belongs to (−1: embedding, final norm, head): the longest matching block prefix, so
 * "layers.1." does not claim "layers.11.".
 */
export function blockOwner(name: string, prefixes: readonly string[]): number {
  let owner = -1
  for (let i = 0; i < prefixes.length; i++)
    if (name.startsWith(prefixes[i]!) && (owner < 0 || prefixes[i]!.length > prefixes[owner]!.length))
      owner = i
  return owner
}

export async function exportPrunedHf(
  ckpt: Checkpoint,
  arch: Arch,
  removed: readonly number[],
  outDir: string,
  provenance: Readonly<Record<string, unknown>> = {},
): Promise<ExportResult> {
  const T = arch.numBlocks
  const rem = [...new Set(removed)].sort((a, b) => a - b)
  if (rem.length !== removed.length)
    throw new PruneError(
      'INVALID_INPUT',
      `${PKG} removed blocks must be distinct, got ${JSON.stringify(removed)}`,
    )
  for (const b of rem)
    if (!Number.isInteger(b) || b < 0 || b >= T)
      throw new PruneError(
        'INVALID_INPUT',
        `${PKG} block ${b} is out of range: the model has blocks 0..${T - 1}`,
      )
  if (rem.length >= T)
    throw new PruneError('INFEASIBLE_BUDGET', `${PKG} cannot remove all ${T} blocks: keep at least one`)
  const out = resolve(outDir)
  if (existsSync(out))
    throw new PruneError('IO_ERROR', `${PKG} ${out} already exists: choose a new folder or delete it first`)
  const kept = Array.from({ length: T }, (_, i) => i).filter((i) => !rem.includes(i))
  const prefixes = Array.from({ length: T }, (_, i) => arch.blockPrefix(i))
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.tmp-`))
  chmodSync(tmp, 0o755)
  try {
    const tensors: TensorSource[] = []
    for (const [name, t] of ckpt.tensors) {
      const owner = blockOwner(name, prefixes)
      let newName = name
      if (owner >= 0) {
        const j = kept.indexOf(owner)
        if (j < 0) continue
        newName = prefixes[j]! + name.slice(prefixes[owner]!.length)
      }
      tensors.push({ name: newName, dtype: t.dtype, shape: t.shape, data: () => ckpt.readBytes(name) })
    }
    const shardBytes = ckpt.sharded
      ? Math.max(...ckpt.shards.map((s) => statSync(join(ckpt.dir, s)).size))
      : Number.POSITIVE_INFINITY
    await writeShardedSafetensors(tmp, tensors, { maxShardBytes: shardBytes, metadata: { format: 'pt' } })
    // serializeConfig keeps 30.0 a float: transformers 5's config dataclasses refuse an int in a float field
    const configText = readFileSync(join(ckpt.dir, 'config.json'), 'utf8')
    writeFileSync(join(tmp, 'config.json'), serializeConfig(prunedConfig(ckpt.config, rem), configText))
    for (const f of readdirSync(ckpt.dir))
      if (COPIED.test(f) && statSync(join(ckpt.dir, f)).isFile())
        copyFileSync(join(ckpt.dir, f), join(tmp, f))
    const record = {
      ...provenance,
      tool: '@mi-prun/adapter-onnx',
      source: {
        path: resolve(ckpt.dir),
        modelType: arch.modelType,
        architecture: arch.architecture,
        numBlocks: T,
      },
      removedBlocks: rem,
      keptBlocks: kept,
      numBlocks: kept.length,
    }
    writeFileSync(join(tmp, PROVENANCE_FILE), JSON.stringify(record, null, 2) + '\n')
    renameSync(tmp, out)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    if (e instanceof PruneError) throw e
    throw new PruneError(
      'IO_ERROR',
      `${PKG} exporting to ${out} failed (${(e as Error).message}); nothing was written`,
      {
        cause: e,
      },
    )
  }
  return { path: out, numBlocks: kept.length, removed: rem }
}
