// Every page a reader opens must be finished, and the Quick start must only show commands that run:
// a page that still says "skeleton", TODO/FIXME/TBD or "fills the commands" fails, and every `mi-prun`
// line of quick-start.md must name a real command with real flags and paths that exist.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type CommandSpec, commands } from '@mi-prun/cli'

const docsDir = fileURLToPath(new URL('..', import.meta.url))
const root = join(docsDir, '..')

function pages(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...pages(p))
    else if (name.endsWith('.md')) out.push(p)
  }
  return out
}

/** Unfinished-page markers: a reader must never see them. */
export const UNFINISHED = /\bskeleton\b|\bTODO\b|\bFIXME\b|\bTBD\b|fills the commands|<!--\s*integrator/i

describe('no docs page is unfinished', () => {
  const all = pages(docsDir)
  it('finds the pages', () => {
    expect(all.map((p) => relative(docsDir, p))).toContain(join('guide', 'quick-start.md'))
  })
  for (const page of all) {
    it(`${relative(docsDir, page)} has no skeleton/TODO text`, () => {
      const lines = readFileSync(page, 'utf8').split('\n')
      const hits = lines.flatMap((l, i) => (UNFINISHED.test(l) ? [`${i + 1}: ${l.trim()}`] : []))
      expect(hits).toEqual([])
    })
  }
  it('the marker catches the old Quick start text', () => {
    expect(UNFINISHED.test('::: warning This page is a skeleton')).toBe(true)
    expect(UNFINISHED.test('The integrator fills the commands and their output below')).toBe(true)
    expect(UNFINISHED.test('<!-- integrator: paste the exact commands -->')).toBe(true)
    expect(UNFINISHED.test('the skeletal muscle')).toBe(false)
  })
})

/** The `mi-prun …` lines of the sh code blocks of a page (alias and comment-free). */
function cliLines(md: string): string[][] {
  const blocks = [...md.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!)
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('mi-prun '))
    .map((l) => l.split(/\s+/))
}

const SHARED = new Set(['json', 'quiet', 'help'])

describe('Quick start commands exist (docs/guide/quick-start.md)', () => {
  const md = readFileSync(join(docsDir, 'guide', 'quick-start.md'), 'utf8')
  const lines = cliLines(md)
  const specs = Object.values(commands) as CommandSpec[]
  it('shows every step: install, demo, prune a HF and an ONNX model, compare and report', () => {
    const used = new Set(lines.map((l) => l[1]))
    for (const c of ['inspect', 'select', 'prune', 'eval', 'compare', 'report']) expect(used).toContain(c)
    expect(md).toContain('npm run demo')
    expect(md).toContain('install --frozen-lockfile')
    expect(lines.some((l) => l[1] === 'prune' && l[2]!.endsWith('.onnx'))).toBe(true)
  })
  for (const words of lines) {
    it(words.join(' '), () => {
      const spec = specs.find((s) => s.name === words[1])
      expect(spec, `mi-prun ${words[1]} is not a command`).toBeDefined()
      for (const w of words.slice(2)) {
        if (w.startsWith('--')) {
          const flag = w.slice(2)
          expect(
            (spec!.options as readonly string[]).includes(flag) || SHARED.has(flag),
            `--${flag} is not a flag of ${spec!.name}`,
          ).toBe(true)
        } else if (w.startsWith('models/')) {
          expect(existsSync(join(root, w)), `${w} does not exist in the repository`).toBe(true)
        }
      }
    })
  }
  it('the alias points at the CLI entry point the package declares', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'apps', 'cli', 'package.json'), 'utf8')) as {
      bin: Record<string, string>
    }
    expect(pkg.bin['mi-prun']).toBe('./dist/bin.js')
    expect(md).toContain('apps/cli/dist/bin.js')
    const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
    }
    expect(rootPkg.scripts['demo']).toBeDefined()
    expect(rootPkg.scripts['build']).toBeDefined()
  })
})
