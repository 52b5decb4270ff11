import { existsSync, lstatSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { CliError, exitCodes } from './errors.js'
import { cliVersion } from './version.js'

/**
 * The marker file in every output folder mi-prun writes. `--force` replaces a folder only when it
 * holds this file (a folder a previous mi-prun run wrote); anything else is refused by name.
 */
export const OUTPUT_MARKER = '.mi-prun-output.json'

/** A staging folder that becomes the output folder in one rename, or vanishes. */
export interface StagedOutput {
  /** The staging folder: write everything here. */
  readonly dir: string
  /** The final output folder. */
  readonly target: string
  /** Writes the marker and moves the staging folder into place (replacing a previous mi-prun output when allowed). */
  commit(): Promise<void>
  /** Removes the staging folder (and any temp folder beside it); the output folder is untouched. */
  abort(): Promise<void>
}

/** Staging and replaced-output folders of this process, removed on SIGINT/SIGTERM. */
const active = new Set<string>()

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The names mi-prun gives its hidden folders beside `--out`: `.NAME.staging-PID-MS` (and temp folders
 * the adapters create beside it, `.NAME.staging-PID-MS.tmp-…`) and `.NAME.old-PID-MS` (a replaced
 * output while the new one is renamed into place). Only names of this form are ever cleaned up.
 */
function stagingPattern(base: string): RegExp {
  return new RegExp(`^\\.${escapeRegExp(base)}\\.(staging|old)-(\\d+)-(\\d+)(\\.tmp-.*)?$`)
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes this process's unfinished output (synchronously: for signal handlers); returns what it removed. */
export function removeActiveStagingSync(): string[] {
  const removed: string[] = []
  for (const dir of active) {
    const parent = dirname(dir)
    const name = basename(dir)
    let siblings: string[] = []
    try {
      siblings = readdirSync(parent).filter((e) => e === name || e.startsWith(`${name}.tmp-`))
    } catch {
      siblings = []
    }
    for (const s of siblings) {
      rmSync(join(parent, s), { recursive: true, force: true })
      removed.push(join(parent, s))
    }
    active.delete(dir)
  }
  return removed
}

/**
 * Finds the hidden staging folders a killed mi-prun run left beside `target` (names of our scheme
 * only, from processes that no longer run) and removes them; a replaced output whose new version never
 * arrived is put back. Returns one line per folder for the log.
 */
export function cleanStaleStaging(target: string): string[] {
  const parent = dirname(target)
  const base = basename(target)
  const pattern = stagingPattern(base)
  const lines: string[] = []
  let entries: string[]
  try {
    entries = readdirSync(parent)
  } catch {
    return lines
  }
  for (const e of entries) {
    const m = pattern.exec(e)
    if (!m || processAlive(Number(m[2]))) continue
    const path = join(parent, e)
    if (m[1] === 'old' && m[4] === undefined && !existsSync(target)) {
      renameSync(path, target)
      lines.push(`restored ${target} from ${path}, left by an interrupted mi-prun run (pid ${m[2]})`)
      continue
    }
    rmSync(path, { recursive: true, force: true })
    lines.push(`removed ${path}, left by an interrupted mi-prun run (pid ${m[2]})`)
  }
  return lines
}

/** What is at `path`: nothing, an empty folder, a folder mi-prun wrote, another folder, or not a folder. */
function describeTarget(
  path: string,
): { kind: 'absent' | 'empty' | 'ours' } | { kind: 'foreign'; entries: string[] } | { kind: 'file' } {
  let s
  try {
    s = lstatSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' }
    throw e
  }
  if (!s.isDirectory()) return { kind: 'file' }
  const entries = readdirSync(path)
  if (entries.length === 0) return { kind: 'empty' }
  if (entries.includes(OUTPUT_MARKER) && statSync(join(path, OUTPUT_MARKER)).isFile()) return { kind: 'ours' }
  return { kind: 'foreign', entries: entries.sort() }
}

function listNames(entries: readonly string[]): string {
  const shown = entries.slice(0, 5).join(', ')
  return entries.length > 5 ? `${shown} and ${entries.length - 5} more` : shown
}

/**
 * Checks that `out` can be written and reserves a hidden staging folder next to it (created unless
 * `create: false`, for writers that create their folder themselves). `out` may be absent or an empty
 * folder; a folder a previous mi-prun run wrote (it holds OUTPUT_MARKER) is replaced with `force`
 * (or, with `replaceOwn`, always); any other folder, and any plain file, is refused by name. Stale
 * staging folders of a killed run are removed first and named through `log`. Nothing is written to
 * `out` until `commit()`; on SIGINT/SIGTERM the staging folder is removed (see bin.ts).
 */
export async function stageOutput(
  out: string,
  force: boolean,
  options: { create?: boolean; log?: (message: string) => void; replaceOwn?: boolean } = {},
): Promise<StagedOutput> {
  const { create = true, log = () => {}, replaceOwn = false } = options
  const target = resolve(out)
  for (const line of cleanStaleStaging(target)) log(line)
  const what = describeTarget(target)
  if (what.kind === 'file') {
    throw new CliError(
      exitCodes.io,
      `[@mi-prun/cli] ${target} is a file, not a folder: mi-prun never replaces a file with a folder; choose another --out`,
    )
  }
  if (what.kind === 'foreign') {
    throw new CliError(
      exitCodes.io,
      `[@mi-prun/cli] the output folder ${target} already exists and holds files mi-prun did not write (${listNames(what.entries)}; no ${OUTPUT_MARKER}): choose another --out${force ? '; --force replaces only a folder a previous mi-prun run wrote' : ''}`,
    )
  }
  if (what.kind === 'ours' && !force && !replaceOwn) {
    throw new CliError(
      exitCodes.io,
      `[@mi-prun/cli] the output folder ${target} already exists and is not empty: choose another --out or pass --force to replace it (it is a previous mi-prun output)`,
    )
  }
  if (what.kind === 'ours') log(`replacing the previous mi-prun output in ${target}`)
  const parent = dirname(target)
  await mkdir(parent, { recursive: true })
  const dir = join(parent, `.${basename(target)}.staging-${process.pid}-${Date.now()}`)
  active.add(dir)
  if (create) await mkdir(dir)
  return {
    dir,
    target,
    async commit() {
      await writeFile(
        join(dir, OUTPUT_MARKER),
        `${JSON.stringify({ tool: '@mi-prun/cli', version: cliVersion, note: 'written by mi-prun; --force may replace this folder' })}\n`,
      )
      const now = describeTarget(target)
      if (now.kind === 'absent') {
        await rename(dir, target)
        active.delete(dir)
        return
      }
      if (now.kind === 'empty') {
        await rm(target, { recursive: true })
        await rename(dir, target)
        active.delete(dir)
        return
      }
      if (now.kind !== 'ours')
        throw new CliError(
          exitCodes.io,
          `[@mi-prun/cli] ${target} changed while mi-prun ran: it is no longer a previous mi-prun output; nothing was replaced`,
        )
      const old = join(parent, `.${basename(target)}.old-${process.pid}-${Date.now()}`)
      await rename(target, old)
      await rename(dir, target)
      active.delete(dir)
      await rm(old, { recursive: true, force: true })
    },
    async abort() {
      const name = basename(dir)
      const siblings = (await readdir(parent).catch(() => [] as string[])).filter(
        (e) => e === name || e.startsWith(`${name}.tmp-`),
      )
      for (const s of siblings) await rm(join(parent, s), { recursive: true, force: true })
      active.delete(dir)
    },
  }
}

/** True when `path` names a folder: it ends with a path separator or is an existing directory. */
export async function isFolderPath(path: string): Promise<boolean> {
  if (/[/\\]$/.test(path)) return true
  try {
    return (await stat(path)).isDirectory()
  } catch {
    return false
  }
}
