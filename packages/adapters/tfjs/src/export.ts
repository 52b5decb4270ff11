import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { PruneError } from '@mi-prun/core'
import { type Checkpoint, type TensorSource, writeShardedSafetensors } from '@mi-prun/safetensors'
import { type ArchConfig, blockNamePattern } from './arch.js'

const P = '[@mi-prun/adapter-tfjs]'

/** Name of the provenance file written next to the pruned weights. */
export const PROVENANCE_FILE = 'mi_prun_provenance.json'

/** Files copied verbatim from the source folder (tokenizer and generation settings). */
const COPIED =
  /^(tokenizer.*|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|generation_config\.json|chat_template\.(json|jinja))$/

/** Validates `removed` against `numBlocks`: distinct integers in range, at least one block kept. Returns them sorted. */
export function checkRemoved(removed: readonly number[], numBlocks: number): number[] {
  const s = [...new Set(removed)].sort((a, b) => a - b)
  if (s.length !== removed.length)
    throw new PruneError(
      'INVALID_INPUT',
      `${P} removed blocks must be distinct, got ${JSON.stringify(removed)}`,
    )
  for (const b of s) {
    if (!Number.isInteger(b) || b < 0 || b >= numBlocks) {
      throw new PruneError(
        'INVALID_INPUT',
        `${P} block ${b} is out of range: the model has blocks 0..${numBlocks - 1}`,
      )
    }
  }
  if (s.length >= numBlocks)
    throw new PruneError('INFEASIBLE_BUDGET', `${P} cannot remove all ${numBlocks} blocks: keep at least one`)
  return s
}

/**
 * Writes the pruned model as a new Hugging Face folder: kept blocks renumbered contiguously (raw
 * bytes, dtype unchanged), config with the block count reduced and per-layer arrays cut, tokenizer
 * files copied, and a provenance file. Everything goes to a temp folder beside `outDir`, renamed at
 * the end; on failure nothing is left behind. `outDir` must not exist.
 */
export async function exportPrunedFolder(
  ckpt: Checkpoint,
  arch: ArchConfig,
  removed: readonly number[],
  outDir: string,
  provenance: Readonly<Record<string, unknown>> = {},
): Promise<{ path: string; numBlocks: number; removed: number[] }> {
  const rem = checkRemoved(removed, arch.numBlocks)
  const out = resolve(outDir)
  if (existsSync(out))
    throw new PruneError('IO_ERROR', `${P} ${out} already exists: choose a new folder or delete it first`)
  const kept = Array.from({ length: arch.numBlocks }, (_, i) => i).filter((i) => !rem.includes(i))
  const newIndex = new Map(kept.map((old, j) => [old, j]))
  const pattern = blockNamePattern(arch)
  // Missing parents are created ('out/pruned' with no out/); on failure the ones created here are
  // removed again, so an error leaves nothing behind.
  let createdParent: string | undefined
  try {
    createdParent = mkdirSync(dirname(out), { recursive: true })
  } catch (e) {
    throw new PruneError(
      'IO_ERROR',
      `${P} cannot create the parent folder of ${out} (${(e as Error).message}); nothing was written`,
      { cause: e },
    )
  }
  let tmp: string
  try {
    tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.tmp-`))
  } catch (e) {
    if (createdParent !== undefined) rmSync(createdParent, { recursive: true, force: true })
    throw new PruneError(
      'IO_ERROR',
      `${P} cannot write beside ${out} (${(e as Error).message}); nothing was written`,
      { cause: e },
    )
  }
  chmodSync(tmp, 0o755)
  try {
    const tensors: TensorSource[] = []
    for (const t of ckpt.tensors.values()) {
      const m = pattern.exec(t.name)
      let name = t.name
      if (m !== null) {
        const j = newIndex.get(Number(m[2]))
        if (j === undefined) continue
        name = `${m[1]}${j}${m[3]}`
      }
      tensors.push({ name, dtype: t.dtype, shape: t.shape, data: () => ckpt.readBytes(t.name) })
    }
    const shardBytes = ckpt.sharded
      ? Math.max(...ckpt.shards.map((s) => statSync(join(ckpt.dir, s)).size))
      : Number.POSITIVE_INFINITY
    await writeShardedSafetensors(tmp, tensors, { maxShardBytes: shardBytes, metadata: { format: 'pt' } })
    const config: Record<string, unknown> = { ...ckpt.config, [arch.layersKey]: kept.length }
    for (const [k, v] of Object.entries(config)) {
      if (Array.isArray(v) && v.length === arch.numBlocks && /layer/i.test(k))
        config[k] = kept.map((i) => v[i])
    }
    writeFileSync(join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n')
    for (const f of readdirSync(ckpt.dir)) {
      if (COPIED.test(f) && statSync(join(ckpt.dir, f)).isFile())
        copyFileSync(join(ckpt.dir, f), join(tmp, f))
    }
    const record = {
      ...provenance,
      tool: '@mi-prun/adapter-tfjs',
      source: {
        path: resolve(ckpt.dir),
        modelType: arch.modelType,
        architecture: arch.architecture,
        numBlocks: arch.numBlocks,
      },
      removedBlocks: rem,
      keptBlocks: kept,
      numBlocks: kept.length,
    }
    writeFileSync(join(tmp, PROVENANCE_FILE), JSON.stringify(record, null, 2) + '\n')
    renameSync(tmp, out)
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    if (createdParent !== undefined) rmSync(createdParent, { recursive: true, force: true })
    if (e instanceof PruneError) throw e
    throw new PruneError(
      'IO_ERROR',
      `${P} exporting to ${out} failed (${(e as Error).message}); nothing was written`,
      { cause: e },
    )
  }
  return { path: out, numBlocks: kept.length, removed: rem }
}
