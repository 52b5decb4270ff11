import { readFile, writeFile, rename, rm, lstat, mkdir } from 'node:fs/promises'
import { isFolderPath } from '../output.js'
import { dirname, join, resolve } from 'node:path'
import type { CommandSpec } from '../command.js'
import { CliError, exitCodes } from '../errors.js'
import { stringOption } from '../options.js'
import { readEchartsSource, renderReportHtml } from '../report/html.js'
import { validateReport } from '../report/schema.js'
import { GENERATOR_META } from '../report/html.js'
import type { RunReport } from '../report/schema.js'

/** Reads and validates a saved run (report.json). */
export async function readRun(path: string): Promise<RunReport> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new CliError(
      exitCodes.io,
      `[@mi-prun/cli] cannot read the run file ${path}: ${(cause as Error).message}`,
      { cause },
    )
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new CliError(
      exitCodes.input,
      `[@mi-prun/cli] ${path} is not valid JSON (${(cause as Error).message}): pass the report.json a run wrote`,
      { cause },
    )
  }
  return validateReport(value, path)
}

/** Writes `text` to `path` atomically (temp file in the same folder, then rename). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${process.pid}-${Date.now()}.tmp`)
  try {
    await writeFile(tmp, text)
    await rename(tmp, path)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
}

/**
 * An existing file at `out` is replaced only with --force, or when it is a report mi-prun rendered
 * (its generator meta tag); a folder there is refused.
 */
async function assertWritableReport(out: string, force: boolean, log: (m: string) => void): Promise<void> {
  let st
  try {
    st = await lstat(out)
  } catch {
    await mkdir(dirname(out), { recursive: true })
    return
  }
  if (st.isDirectory())
    throw new CliError(exitCodes.io, `[@mi-prun/cli] --out ${out} is a folder: pass FILE.html or DIR/`)
  const head = (await readFile(out, 'utf8')).slice(0, 2000)
  if (head.includes(GENERATOR_META)) {
    log(`replacing the previous mi-prun report ${out}`)
    return
  }
  if (!force)
    throw new CliError(
      exitCodes.io,
      `[@mi-prun/cli] ${out} already exists and is not a report mi-prun wrote: choose another --out or pass --force to overwrite it`,
    )
}

export const reportCommand: CommandSpec = {
  name: 'report',
  summary: 'render the self-contained HTML report of a saved run',
  usage: 'mi-prun report RUN.json [--out FILE.html]',
  description:
    'Reads a report.json written by `compare`, `prune` or `demo`, checks its schema version, and writes report.html next to it (or to --out). The page embeds ECharts and the data: it opens offline.',
  positionals: [{ name: 'RUN.json', description: 'a saved run (report.json)', required: true }],
  options: ['out', 'force'],
  jsonKeys: ['html', 'schemaVersion', 'methods'],
  async run(ctx) {
    const runPath = ctx.positionals[0]
    if (!runPath)
      throw new CliError(
        exitCodes.usage,
        '[@mi-prun/cli] report needs the path of a run: mi-prun report path/to/report.json',
      )
    const report = await readRun(runPath)
    const outArg = stringOption(ctx.values, 'out')
    // `--out X/` (or an existing folder X) means X/report.html, never a file named X
    const out = resolve(
      outArg === undefined
        ? join(dirname(runPath), 'report.html')
        : (await isFolderPath(outArg))
          ? join(outArg, 'report.html')
          : outArg,
    )
    await assertWritableReport(out, ctx.values.force === true, ctx.log)
    const html = renderReportHtml(report, await readEchartsSource())
    await writeFileAtomic(out, html)
    return {
      json: {
        html: out,
        schemaVersion: report.version,
        methods: report.methods.map((m) => m.selector),
        bytes: Buffer.byteLength(html),
      },
      text: `wrote ${out} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, ${report.methods.length} methods)`,
    }
  },
}
