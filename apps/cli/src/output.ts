import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { CliError, exitCodes } from './errors.js'

/** A staging folder that becomes the output folder in one rename, or vanishes. */
export interface StagedOutput {
  /** The staging folder: write everything here. */
  readonly dir: string
  /** The final output folder. */
  readonly target: string
  /** Moves the staging folder into place (replacing an existing output when forced). */
  commit(): Promise<void>
  /** Removes the staging folder; the output folder is untouched. */
  abort(): Promise<void>
}

async function isEmptyDir(path: string): Promise<boolean | undefined> {
  try {
    const s = await stat(path)
    if (!s.isDirectory()) return false
    return (await readdir(path)).length === 0
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

/**
 * Checks that `out` can be written (it does not exist, is an empty folder, or `force` is set) and
 * reserves a hidden staging folder next to it (created unless `create: false`, for writers that
 * create their folder themselves). Nothing is written to `out` until `commit()`.
 */
export async function stageOutput(
  out: string,
  force: boolean,
  options: { create?: boolean } = {},
): Promise<StagedOutput> {
  const { create = true } = options
  const target = resolve(out)
  const empty = await isEmptyDir(target)
  if (empty === false && !force) {
    throw new CliError(
      exitCodes.io,
      `[@mi-prun/cli] the output folder ${target} already exists and is not empty: choose another --out or pass --force to replace it`,
    )
  }
  const parent = dirname(target)
  await mkdir(parent, { recursive: true })
  const dir = join(parent, `.${basename(target)}.staging-${process.pid}-${Date.now()}`)
  if (create) await mkdir(dir)
  return {
    dir,
    target,
    async commit() {
      const state = await isEmptyDir(target)
      if (state === undefined) {
        await rename(dir, target)
        return
      }
      const old = join(parent, `.${basename(target)}.old-${process.pid}-${Date.now()}`)
      await rename(target, old)
      await rename(dir, target)
      await rm(old, { recursive: true, force: true })
    },
    async abort() {
      await rm(dir, { recursive: true, force: true })
    },
  }
}
