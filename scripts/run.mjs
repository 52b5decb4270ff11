#!/usr/bin/env node
// One entry point for the README's commands on a machine that has only Node 20 and npm.
// It installs the workspace with the pinned pnpm (through npx, so pnpm need not be installed),
// then runs the requested job from the local binaries.
//   node scripts/run.mjs demo   -> the pruning demo (the CLI's `demo` command)
//   node scripts/run.mjs test   -> type-check + every test
//   node scripts/run.mjs bench  -> benchmarks
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
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

const bin = (name) => join(root, 'node_modules', '.bin', name)

switch (job) {
  case 'test': {
    ensureInstalled()
    must(bin('prettier'), ['--check', '--log-level', 'warn', '.'])
    must(bin('tsc'), ['-b'])
    must(bin('tsc'), ['-p', join(root, 'docs', 'tsconfig.json')])
    must(bin('tsc'), ['-p', join(root, 'examples', 'tsconfig.json')])
    must(bin('tsc'), ['-p', join(root, 'bench', 'tsconfig.json')])
    // publint --strict and are-the-types-wrong on the packed tarballs of every public package
    must('node', [join(root, 'scripts', 'package-qa.mjs')])
    // The docs site is built before the tests: docs/test opens the built site in Chromium.
    must('npx', ['--yes', PNPM, '--filter', '@mi-prun/docs', 'run', 'docs:build'])
    must(bin('vitest'), ['run', ...rest])
    break
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
