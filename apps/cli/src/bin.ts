#!/usr/bin/env node
import { writeSync } from 'node:fs'
import { relative } from 'node:path'
import { removeActiveStagingSync } from './output.js'
import { runCli } from './run.js'

// Ctrl-C / SIGTERM: remove this run's unfinished output (staging folders beside --out) and say so in
// one line; exit 130 / 143 (128 + signal number) as shells expect.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(signal, () => {
    const removed = removeActiveStagingSync().map((p) => relative(process.cwd(), p) || p)
    writeSync(
      2,
      `\nmi-prun: interrupted by ${signal}; ${removed.length ? `removed the unfinished output ${removed.join(', ')}` : 'no output was written'}\n`,
    )
    process.exit(code)
  })
}

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr })
// Worker pools (KSG) and runtimes may hold the event loop open; the exit code is final here.
process.stdout.write('', () => process.exit(code))
