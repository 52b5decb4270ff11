#!/usr/bin/env node
// Package QA for every public workspace package: publint (strict) on the package folder and
// are-the-types-wrong on the tarball `pnpm pack` writes into a temporary folder (offline: attw reads the
// tarball, it fetches nothing). Builds nothing: run `tsc -b` first so every dist/ exists.
// Prints one table row per package and exits 1 when any package has an error (publint error or warning in
// strict mode, an attw problem, a failed pack), 2 when dist/ is missing.
//   node scripts/package-qa.mjs [name-filter]
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const P = '[mi-prun package-qa]'
const PNPM = 'pnpm@12.4.2'
const attwJs = join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js')

/** Public (non-private) workspace packages under packages/ and apps/. */
function publicPackages() {
  const found = []
  const visit = (dir, depth) => {
    if (!existsSync(dir)) return
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue
      const d = join(dir, e.name)
      const pj = join(d, 'package.json')
      if (existsSync(pj)) {
        const pkg = JSON.parse(readFileSync(pj, 'utf8'))
        if (!pkg.private) found.push({ name: pkg.name, dir: d, pkg })
      } else if (depth > 0) visit(d, depth - 1)
    }
  }
  visit(join(root, 'packages'), 1)
  visit(join(root, 'apps'), 0)
  return found.sort((a, b) => a.name.localeCompare(b.name))
}

/** Required metadata the house style asks of every public package (publint does not check these). */
function metadataProblems(pkg) {
  const out = []
  if (pkg.sideEffects !== false) out.push('sideEffects is not false')
  if (pkg.license !== 'MIT') out.push('license is not MIT')
  if (!pkg.repository?.directory) out.push('repository.directory missing')
  if (!Array.isArray(pkg.files) || !pkg.files.includes('dist')) out.push('files does not list dist')
  const dot = pkg.exports?.['.']
  if (!dot?.types || !dot?.default) out.push('exports["."] lacks types/default')
  if (pkg.exports?.['./internal/*'] !== null) out.push('exports["./internal/*"] is not null')
  return out
}

/** The file name `pnpm pack` gives a package's tarball. */
const tarballName = (pkg) => `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}.tgz`

// esm-only: these packages ship ESM only, so node10 and CJS-require resolution are out of scope.
const ignoredResolutions = new Set(['node10', 'node16-cjs'])

async function check({ name, pkg }, dest) {
  const row = { name, publint: [], attw: [], meta: metadataProblems(pkg) }
  const tgz = join(dest, tarballName(pkg))
  if (!existsSync(tgz)) {
    row.attw.push(`pnpm pack wrote no ${tarballName(pkg)}`)
    return row
  }
  // publint on the packed tarball: what npm users get, with workspace:* already replaced by versions
  const tarball = readFileSync(tgz)
  const { messages, pkg: packed } = await publint({
    pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
    strict: true,
    level: 'suggestion',
  })
  for (const m of messages) row.publint.push({ type: m.type, text: formatMessage(m, packed) ?? m.code })
  // attw reads the tarball; it fetches nothing (no --from-npm)
  const r = await run(process.execPath, [attwJs, tgz, '--profile', 'esm-only', '--format', 'json'], {
    maxBuffer: 64 << 20,
  }).catch((e) => e)
  try {
    const json = JSON.parse(r.stdout)
    for (const p of json.analysis?.problems ?? [])
      if (!ignoredResolutions.has(p.resolutionKind))
        row.attw.push(
          `${p.kind}${p.entrypoint ? ` at ${p.entrypoint}` : ''}${p.resolutionKind ? ` (${p.resolutionKind})` : ''}`,
        )
  } catch {
    row.attw.push(`attw failed: ${String(r.stderr || r.message).split('\n')[0]}`)
  }
  return row
}

async function main() {
  const filter = process.argv[2]
  const pkgs = publicPackages().filter((p) => !filter || p.name.includes(filter))
  if (!pkgs.length) throw new Error(`${P} no public package matches ${filter}`)
  const tmp = mkdtempSync(join(tmpdir(), 'mi-prun-qa-'))
  const t0 = performance.now()
  const rows = []
  try {
    for (const p of pkgs) {
      const entry = p.pkg.exports?.['.']?.default
      if (entry && !existsSync(join(p.dir, entry))) {
        console.error(
          `${P} ${p.name}: ${relative(root, join(p.dir, entry))} is missing; run \`tsc -b\` first`,
        )
        process.exit(2)
      }
    }
    // one recursive pack of every public package (one pnpm start, not one per package)
    await run(
      'npx',
      ['--yes', PNPM, '-r', ...pkgs.flatMap((p) => ['--filter', p.name]), 'pack', '--pack-destination', tmp],
      {
        cwd: root,
        maxBuffer: 64 << 20,
      },
    )
    const queue = [...pkgs]
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) rows.push(await check(p, tmp))
      }),
    )
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  rows.sort((a, b) => a.name.localeCompare(b.name))
  const w = Math.max(...rows.map((r) => r.name.length))
  console.log(`${'package'.padEnd(w)}  publint  attw  metadata`)
  let failed = false
  for (const r of rows) {
    const pub = r.publint.length ? `${r.publint.length} msg` : 'ok'
    console.log(
      `${r.name.padEnd(w)}  ${pub.padEnd(7)}  ${(r.attw.length ? `${r.attw.length} err` : 'ok').padEnd(4)}  ${r.meta.length ? r.meta.join('; ') : 'ok'}`,
    )
    if (r.publint.length || r.attw.length || r.meta.length) failed = true
  }
  for (const r of rows) {
    for (const m of r.publint) console.log(`  ${r.name} publint ${m.type}: ${m.text}`)
    for (const m of r.attw) console.log(`  ${r.name} attw: ${m}`)
  }
  console.log(`${rows.length} packages in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  if (failed) process.exit(1)
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
