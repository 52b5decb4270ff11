// The generated pages (CLI reference, results, changelog) are written by docs/scripts at build time
// (docs:build runs them before VitePress). These tests fail when a page drifts from its source: a command or
// flag of the CLI registry missing from the CLI page, a bench artefact missing from the results page, a
// pending changeset missing from the changelog.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type CommandSpec, commands, exitCodes, optionSpecs } from '@mi-prun/cli'
import { cliPagePath, exitCodeDescriptions, renderCliReference } from '../scripts/cli-ref.js'

const docsDir = fileURLToPath(new URL('..', import.meta.url))
const root = join(docsDir, '..')
const page = readFileSync(cliPagePath, 'utf8')

describe('CLI reference (docs/reference/cli.md)', () => {
  it('is the current output of docs/scripts/cli-ref.ts (rebuild the docs after changing the CLI)', () => {
    expect(page).toBe(renderCliReference())
  })

  for (const spec of Object.values(commands) as CommandSpec[]) {
    it(`documents \`${spec.name}\`: its section, usage line and every flag`, () => {
      expect(page).toContain(`## \`${spec.name}\` {#${spec.name}}`)
      expect(page).toContain(`\n${spec.usage}\n`)
      const section = page.slice(page.indexOf(`## \`${spec.name}\``)).split(/\n## /)[0]!
      for (const flag of spec.options) {
        expect(optionSpecs[flag], `--${flag}`).toBeDefined()
        expect(section).toContain(`--${flag}`)
      }
    })
  }

  it('lists every exit code with the meaning documented in apps/cli/src/errors.ts', () => {
    const docs = exitCodeDescriptions(readFileSync(join(root, 'apps', 'cli', 'src', 'errors.ts'), 'utf8'))
    expect(Object.keys(docs).sort()).toEqual(Object.keys(exitCodes).sort())
    for (const [name, code] of Object.entries(exitCodes)) expect(page).toContain(`| ${code} | \`${name}\` |`)
    expect(docs.usage).toBe('Bad command line: unknown command or flag, missing or malformed value.')
  })

  it('exitCodeDescriptions reads a multi-line doc comment', () => {
    expect(
      exitCodeDescriptions('  /**\n   * first line\n   * second\n   */\n  a: 3,\n  /** one */\n  b: 4,\n'),
    ).toEqual({
      a: 'first line second',
      b: 'one',
    })
  })
})

describe('results page (docs/results.md)', () => {
  const results = readFileSync(join(docsDir, 'results.md'), 'utf8')
  const dir = join(root, 'bench', 'results')
  const files = existsSync(dir)
    ? readdirSync(dir).filter((f) => f.endsWith('.json') || /^evidence-.*\.md$/.test(f))
    : []
  it('has a section for every artefact in bench/results', () => {
    for (const f of files) expect(results, f).toContain(`## ${f}\n`)
  })
  it('names the command that reproduces each artefact written by a bench script', () => {
    const tsx = 'node --import tsx --conditions @mi-prun/source'
    const expected: Record<string, string> = {
      'evidence-summary': `${tsx} bench/evidence.bench.ts`,
      'evidence-gpt2-kjv': `EVIDENCE_MODELS=gpt2-kjv ${tsx} bench/evidence.bench.ts`,
      'tfjs-streaming-d4096-L3-2x64': `MI_PRUN_BENCH_D=4096 MI_PRUN_BENCH_LAYERS=3 MI_PRUN_BENCH_TOKENS=2x64 ${tsx} bench/tfjs-streaming.bench.ts`,
    }
    let checked = 0
    for (const f of files) {
      const stem = f.replace(/\.(json|md)$/, '')
      const cmd =
        expected[stem] ??
        (existsSync(join(root, 'bench', `${stem}.bench.ts`)) ? `${tsx} bench/${stem}.bench.ts` : undefined)
      if (cmd === undefined) continue
      const section = results.slice(results.indexOf(`## ${f}\n`)).split(/\n## /)[0]!
      expect(section, f).toContain(`Reproduce: \`${cmd}\``)
      checked++
    }
    if (files.length) expect(checked).toBeGreaterThan(0)
  })
})

describe('changelog page (docs/changelog.md)', () => {
  it('lists every pending changeset with its packages', () => {
    const changelog = readFileSync(join(docsDir, 'changelog.md'), 'utf8')
    const dir = join(root, '.changeset')
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      expect(changelog).toContain(`### ${f.replace(/\.md$/, '')}`)
      const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(join(dir, f), 'utf8'))![1]!
      for (const m of front.matchAll(/^'([^']+)':\s*(major|minor|patch)$/gm))
        expect(changelog).toContain(`\`${m[1]}\` (${m[2]})`)
    }
  })
})
