#!/usr/bin/env node
// Runs every benchmark script bench/*.bench.ts (or the ones named on the command line) with tsx and
// the workspace's source condition. Each script prints its own table and writes bench/results/*.json.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const scripts = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort()
let failed = 0
for (const s of scripts) {
  console.log(`\n=== ${s}`)
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--conditions', '@mi-prun/source', join(here, s)],
    {
      cwd: here,
      stdio: 'inherit',
    },
  )
  if (r.status !== 0) failed++
}
if (scripts.length === 0) console.log('no benchmark scripts matched')
process.exit(failed ? 1 : 0)
