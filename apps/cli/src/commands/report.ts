import { readFile, writeFile, rename } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { CommandSpec } from '../command.js'
import { CliError, exitCodes } from '../errors.js'
import { stringOption } from '../options.js'
import { readEchartsSource, renderReportHtml } from '../report/html.js'
import { validateReport } from '../report/schema.js'
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
  await writeFile(tmp, text)
  await rename(tmp, path)
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
    const out = resolve(stringOption(ctx.values, 'out') ?? join(dirname(runPath), 'report.html'))
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
