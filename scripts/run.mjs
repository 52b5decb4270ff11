#!/usr/bin/env node
// One entry point for the README's commands on a machine that has only Node 20 and npm.
// It installs the workspace with the pinned pnpm (through npx, so pnpm need not be installed),
// then runs the requested job from the local binaries.
//   node scripts/run.mjs demo   -> the pruning demo (the CLI's `demo` command)
//   node scripts/run.mjs test   -> type-check + every test
//   node scripts/run.mjs bench  -> benchmarks
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PNPM = 'pnpm@12.4.2'
const job = process.argv[2]
const rest = process.argv.slice(3)

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    ...opts,
  })
  if (r.error) throw r.error
  return r.status ?? 1
}
function must(cmd, args, opts) {
  const code = run(cmd, args, opts)
  if (code !== 0) process.exit(code)
}

function ensureInstalled() {
  const marker = join(root, 'node_modules', '.modules.yaml')
  const lock = join(root, 'pnpm-lock.yaml')
  const fresh =
    existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs)
  if (fresh) return
  console.error(`[mi-prun] installing the workspace with ${PNPM} (one time) ...`)
  const frozen = existsSync(lock) ? ['--frozen-lockfile'] : []
  must('npx', ['--yes', PNPM, 'install', ...frozen])
}

/** Test counts from vitest's JSON reporter (Jest-compatible keys), or undefined when there is no report. */
function readVitestReport(file) {
  if (!existsSync(file)) return undefined
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'))
    if (typeof r.numPassedTests !== 'number' || typeof r.numFailedTests !== 'number') return undefined
    return { passed: r.numPassedTests, failed: r.numFailedTests }
  } catch {
    return undefined
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name)

switch (job) {
  case 'test': {
    ensureInstalled()
    // Every check runs even when an earlier one fails, so one log shows every problem; each failed
    // check counts as one failed test in the summary. The last line printed is the plain summary
    // `N passed, N failed`, counted from vitest's JSON report (CI and readers look for it there).
    const failedChecks = []
    const check = (name, cmd, args) => {
      if (run(cmd, args) !== 0) failedChecks.push(name)
    }
    check('prettier', bin('prettier'), ['--check', '--log-level', 'warn', '.'])
    check('tsc -b', bin('tsc'), ['-b'])
    check('tsc docs', bin('tsc'), ['-p', join(root, 'docs', 'tsconfig.json')])
    check('tsc examples', bin('tsc'), ['-p', join(root, 'examples', 'tsconfig.json')])
    check('tsc bench', bin('tsc'), ['-p', join(root, 'bench', 'tsconfig.json')])
    // publint --strict and are-the-types-wrong on the packed tarballs of every public package
    check('package QA', 'node', [join(root, 'scripts', 'package-qa.mjs')])
    // The docs site is built before the tests: docs/test opens the built site in Chromium.
    check('docs build', 'npx', ['--yes', PNPM, '--filter', '@mi-prun/docs', 'run', 'docs:build'])
    const reportDir = mkdtempSync(join(tmpdir(), 'mi-prun-vitest-'))
    const reportFile = join(reportDir, 'report.json')
    const code = run(bin('vitest'), [
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${reportFile}`,
      ...rest,
    ])
    const summary = readVitestReport(reportFile)
    rmSync(reportDir, { recursive: true, force: true })
    if (summary === undefined) failedChecks.push('vitest (no JSON report)')
    const passed = summary?.passed ?? 0
    const failed = (summary?.failed ?? 0) + failedChecks.length
    if (failedChecks.length > 0) console.log(`failed checks: ${failedChecks.join(', ')}`)
    console.log(`${passed} passed, ${failed} failed`)
    process.exit(failed > 0 || code !== 0 ? 1 : 0)
  }
  case 'bench': {
    ensureInstalled()
    must('node', [join(root, 'bench', 'run-all.mjs'), ...rest])
    break
  }
  case 'demo': {
    ensureInstalled()
    const cli = join(root, 'apps', 'cli', 'dist', 'bin.js')
    if (!existsSync(cli) || process.env.MI_PRUN_REBUILD) must('npx', ['--yes', PNPM, 'run', 'build'])
    must('node', [cli, 'demo', ...rest])
    break
  }
  default:
    console.error('usage: node scripts/run.mjs <demo|test|bench> [args...]')
    process.exit(2)
}
