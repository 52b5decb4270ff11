// The one mechanism that runs documentation code: fenced TypeScript blocks are extracted from a Markdown file,
// written as modules under docs/test/.examples (inside the workspace, so package imports resolve to their
// TS source through the @mi-prun/source condition) and imported. Used by examples.test.ts (guide pages) and
// readme-examples.test.ts (package READMEs).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const docsDir = fileURLToPath(new URL('..', import.meta.url))
export const tmpDir = join(docsDir, 'test', '.examples')

/**
 * The fenced blocks of a Markdown file (a path relative to docs/, or absolute) whose info string is exactly
 * `info` (```ts for guide pages, ```ts test for README examples), in order.
 */
export function tsBlocks(page: string, info = 'ts'): string[] {
  const text = readFileSync(page.startsWith('/') ? page : join(docsDir, page), 'utf8')
  const fence = new RegExp('```' + info.replace(/ /g, '[ \\t]+') + '[ \\t]*\\n([\\s\\S]*?)```', 'g')
  return [...text.matchAll(fence)].map((m) => m[1]!)
}

/**
 * A loader for one test file: `load` writes `code` as a module under docs/test/.examples/<group>/ and imports
 * it; `clean` (for afterAll) removes that folder only, so test files running in parallel do not collide.
 */
export function blockLoader(group: string): {
  load<T>(name: string, code: string): Promise<T>
  clean(): void
} {
  const dir = join(tmpDir, group)
  return {
    async load<T>(name: string, code: string): Promise<T> {
      mkdirSync(dir, { recursive: true })
      const file = join(dir, `${name}.ts`)
      writeFileSync(file, code)
      return (await import(/* @vite-ignore */ file)) as T
    },
    clean: () => rmSync(dir, { recursive: true, force: true }),
  }
}
