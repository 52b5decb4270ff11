// Model files on disk: reading (with external-data checks), writing (copying external weights into
// a fresh `<file>_data`), and atomic folder writes.
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  stat,
  writeFile,
  type FileHandle,
} from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { create } from '@bufbuild/protobuf'
import { PruneError } from '@mi-prun/core'
import { StringStringEntryProtoSchema } from 'onnx-buf'
import { PKG, decodeModel, encodeModel, externalRef, isExternal, type ModelProto } from './proto.js'

/** A decoded model and where it came from (external data is resolved relative to `dir`). */
export interface LoadedModelFile {
  readonly path: string
  readonly dir: string
  readonly model: ModelProto
  /** Total bytes of external data referenced (0 when all weights are inline). */
  readonly externalBytes: number
}

function ioError(what: string, cause: unknown): PruneError {
  return new PruneError('IO_ERROR', `${PKG} ${what}: ${(cause as Error).message}`, { cause })
}

/**
 * Reads and decodes an .onnx file; checks that every external-data reference stays inside the
 * model's folder and lies within its file (so a truncated `.onnx_data` fails here, not in ORT).
 */
export async function readModelFile(path: string): Promise<LoadedModelFile> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (cause) {
    throw ioError(`cannot read ${path}`, cause)
  }
  const model = decodeModel(bytes, path)
  const dir = dirname(path)
  const sizes = new Map<string, number>()
  let externalBytes = 0
  for (const t of model.graph!.initializer) {
    if (!isExternal(t)) continue
    const ref = externalRef(t)
    let size = sizes.get(ref.location)
    if (size === undefined) {
      try {
        size = (await stat(join(dir, ref.location))).size
      } catch (cause) {
        throw new PruneError(
          'INVALID_CHECKPOINT',
          `${PKG} ${path}: external data file '${ref.location}' of '${t.name}' is missing: copy it next to the model`,
          { cause },
        )
      }
      sizes.set(ref.location, size)
    }
    const len = ref.length ?? size - ref.offset
    if (ref.offset + len > size) {
      throw new PruneError(
        'INVALID_CHECKPOINT',
        `${PKG} ${path}: '${t.name}' needs bytes ${ref.offset}..${ref.offset + len} of '${ref.location}', which has ${size}: the data file is truncated`,
      )
    }
    externalBytes += len
  }
  return { path, dir, model, externalBytes }
}

const ALIGN = 4096
const CHUNK = 16 * 1024 * 1024

/**
 * The external-data file name for `destPath`, following the source's own convention: a source
 * `model.onnx` whose data is `model.onnx.data` (torch's dynamo exporter) gives `<dest>.data`, one with
 * `model.onnx_data` (optimum, onnx's save_model) gives `<dest>_data`; any other name (or no source
 * file) gives `<dest>_data`.
 */
export function externalDataName(destPath: string, srcFile: string | undefined, model: ModelProto): string {
  const dest = basename(destPath)
  const first = model.graph!.initializer.find(isExternal)
  if (srcFile !== undefined && first !== undefined) {
    const src = basename(srcFile)
    const loc = externalRef(first).location
    if (loc.startsWith(src) && loc.length > src.length) {
      const suffix = loc.slice(src.length)
      if (/^[._-][A-Za-z0-9_.-]*$/.test(suffix)) return `${dest}${suffix}`
    }
  }
  return `${dest}_data`
}

/**
 * Writes `model` to `destPath`. Initializers stored externally in the source are copied (streamed,
 * never held in memory whole) into one data file next to it (named by {@link externalDataName}, the
 * source's own convention when `srcFile` is given), 4 KiB aligned, and their `external_data` entries
 * rewritten; inline initializers stay inline. `srcDir` is the folder the source model's external
 * references are relative to.
 */
export async function writeModelFile(
  model: ModelProto,
  srcDir: string,
  destPath: string,
  srcFile?: string,
): Promise<{ bytes: number; externalBytes: number }> {
  const ext = model.graph!.initializer.filter(isExternal)
  let externalBytes = 0
  if (ext.length > 0) {
    const dataName = externalDataName(destPath, srcFile, model)
    const out = await open(join(dirname(destPath), dataName), 'w')
    const handles = new Map<string, FileHandle>()
    const buf = new Uint8Array(CHUNK)
    let pos = 0
    try {
      for (const t of ext) {
        const ref = externalRef(t)
        let src = handles.get(ref.location)
        if (src === undefined) handles.set(ref.location, (src = await open(join(srcDir, ref.location), 'r')))
        const len = ref.length ?? (await src.stat()).size - ref.offset
        pos += (ALIGN - (pos % ALIGN)) % ALIGN // the gap reads as zeros
        for (let done = 0; done < len;) {
          const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, len - done), ref.offset + done)
          if (bytesRead === 0)
            throw new PruneError(
              'INVALID_CHECKPOINT',
              `${PKG} external data of '${t.name}' in '${ref.location}' ends early: the data file is truncated`,
            )
          await out.write(buf, 0, bytesRead, pos + done)
          done += bytesRead
        }
        t.externalData = [
          create(StringStringEntryProtoSchema, { key: 'location', value: dataName }),
          create(StringStringEntryProtoSchema, { key: 'offset', value: String(pos) }),
          create(StringStringEntryProtoSchema, { key: 'length', value: String(len) }),
        ]
        pos += len
      }
    } finally {
      for (const h of handles.values()) await h.close()
      await out.close()
    }
    externalBytes = pos
  }
  let bytes: Uint8Array
  try {
    bytes = encodeModel(model)
  } catch (cause) {
    throw new PruneError(
      'IO_ERROR',
      `${PKG} cannot encode ${destPath} (${(cause as Error).message}): a graph over 2 GiB must keep its weights as external data`,
      { cause },
    )
  }
  await writeFile(destPath, bytes)
  return { bytes: bytes.length, externalBytes }
}

/**
 * Builds a folder atomically: `fill` writes into a fresh sibling temp folder, which is renamed to
 * `outDir` only if `fill` succeeds. `outDir` must not exist (as in the TF.js adapter's export). On
 * failure the temp folder is removed and nothing is left behind.
 */
export async function writeFolderAtomic(outDir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  if (existsSync(outDir))
    throw new PruneError(
      'IO_ERROR',
      `${PKG} ${outDir} already exists: choose a new folder or delete it first`,
    )
  const parent = dirname(outDir)
  const tmp = join(parent, `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(parent, { recursive: true })
    await mkdir(tmp)
  } catch (cause) {
    throw ioError(`cannot create a temp folder in ${parent}`, cause)
  }
  try {
    await fill(tmp)
    await rename(tmp, outDir)
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    if (e instanceof PruneError) throw e
    throw ioError(`exporting to ${outDir} failed; nothing was written`, e)
  }
}

/** The .onnx files of a model folder: `dir/onnx/*.onnx`, else `dir/*.onnx`; sorted by name. */
export async function listOnnxFiles(dir: string): Promise<{ sub: string; files: string[] }> {
  for (const sub of ['onnx', '.']) {
    const d = join(dir, sub)
    if (!existsSync(d)) continue
    let names: string[]
    try {
      names = (await readdir(d)).filter((f) => f.endsWith('.onnx')).sort()
    } catch (cause) {
      throw ioError(`cannot list ${d}`, cause)
    }
    if (names.length > 0) return { sub, files: names }
  }
  throw new PruneError(
    'INVALID_CHECKPOINT',
    `${PKG} no .onnx file in ${dir} or ${join(dir, 'onnx')}: point at a transformers.js-style model folder`,
  )
}
