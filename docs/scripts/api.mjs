// Generates the API reference (docs/api/) with TypeDoc + typedoc-plugin-markdown + typedoc-vitepress-theme,
// from the `src/index.ts` entry of every public (non-private) workspace package. The output is written to a
// temporary folder and renamed into place, so a failed run never leaves a half-written docs/api/.
// Run: `pnpm --filter @mi-prun/docs docs:api` (docs:build and docs:dev run it first).
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Application, Converter, ReflectionKind } from 'typedoc'

const docsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const root = resolve(docsDir, '..')
const P = '[@mi-prun/docs]'

/** Public workspace packages with a TS entry point, sorted by folder. */
export function findPackages() {
  const found = []
  const visit = (dir, depth) => {
    if (!existsSync(dir)) return
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue
      const d = join(dir, e.name)
      const pj = join(d, 'package.json')
      const entry = join(d, 'src', 'index.ts')
      if (existsSync(pj) && existsSync(entry)) {
        const pkg = JSON.parse(readFileSync(pj, 'utf8'))
        if (!pkg.private) found.push({ name: pkg.name, dir: relative(root, d), entry })
      } else if (depth > 0) visit(d, depth - 1)
    }
  }
  visit(join(root, 'packages'), 1)
  visit(join(root, 'apps'), 0)
  return found.sort((a, b) => a.dir.localeCompare(b.dir))
}

async function main() {
  const packages = findPackages()
  if (packages.length === 0) throw new Error(`${P} no public package with src/index.ts found under ${root}`)

  // A throwaway tsconfig that sees every package's sources through the @mi-prun/source condition.
  const tmpRoot = join(docsDir, '.typedoc')
  mkdirSync(tmpRoot, { recursive: true })
  const tsconfig = join(tmpRoot, 'tsconfig.json')
  writeFileSync(
    tsconfig,
    JSON.stringify(
      {
        extends: relative(tmpRoot, join(root, 'tsconfig.base.json')),
        compilerOptions: {
          composite: false,
          noEmit: true,
          declaration: false,
          declarationMap: false,
          types: ['node'],
        },
        files: packages.map((p) => relative(tmpRoot, p.entry)),
      },
      null,
      2,
    ),
  )

  const out = join(docsDir, 'api')
  // docsRoot is the temp folder, so the sidebar links read /api/… and stay right after the rename
  const tmpOut = join(tmpRoot, 'api')
  rmSync(tmpOut, { recursive: true, force: true })

  const app = await Application.bootstrapWithPlugins({
    entryPoints: packages.map((p) => p.entry),
    entryPointStrategy: 'resolve',
    tsconfig,
    plugin: ['typedoc-plugin-markdown', 'typedoc-vitepress-theme'],
    out: tmpOut,
    docsRoot: tmpRoot,
    name: 'API reference',
    readme: 'none',
    // Packages are being written in parallel; a type error in one must not hide the others' API.
    skipErrorChecking: true,
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: true,
    hideGenerator: true,
    hidePageHeader: true,
    disableSources: true,
    entryFileName: 'index.md',
    sort: ['kind', 'alphabetical'],
    logLevel: 'Warn',
    // Inline tags such as {@link} to things outside the API would otherwise fail the VitePress dead-link check.
    validation: { notExported: false, invalidLink: true, rewrittenLink: true },
    sidebar: { autoConfiguration: true, format: 'vitepress', pretty: true, collapsed: true },
  })

  // Name each module after its npm package instead of its folder ("mi/binning/src" → "@mi-prun/mi-binning").
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      // TypeDoc names a module by its entry folder relative to the entries' common folder, e.g. "mi/binning/src".
      const hit = packages.find((p) => {
        const key = relative(root, dirname(p.entry)).split('\\').join('/')
        return key === mod.name || key.endsWith(`/${mod.name}`)
      })
      if (hit) mod.name = hit.name
    }
  })

  const project = await app.convert()
  if (!project) throw new Error(`${P} TypeDoc could not convert the packages; see the messages above`)
  await app.generateOutputs(project)
  if (!existsSync(join(tmpOut, 'index.md')))
    throw new Error(`${P} TypeDoc wrote no ${join(tmpOut, 'index.md')}`)

  rmSync(out, { recursive: true, force: true })
  renameSync(tmpOut, out)
  rmSync(tmpRoot, { recursive: true, force: true })
  console.log(
    `${P} API pages for ${packages.length} packages written to ${relative(root, out)}: ${packages.map((p) => p.name).join(', ')}`,
  )
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  })
}
