// Runs the ```ts test block of every public package's README (through the same mechanism as the guide pages,
// ./blocks.ts) and checks the value each exports as `result` against an answer known independently of the code.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { blockLoader, docsDir, tsBlocks } from './blocks.js'

const root = join(docsDir, '..')
const { load, clean } = blockLoader('readme')
afterAll(clean)

/** Public workspace packages (name → folder). */
function publicPackages(): Map<string, string> {
  const out = new Map<string, string>()
  const visit = (dir: string, depth: number): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory() || e.name === 'node_modules' || e.name.startsWith('.')) continue
      const d = join(dir, e.name)
      if (existsSync(join(d, 'package.json'))) {
        const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as {
          name: string
          private?: boolean
        }
        if (!pkg.private) out.set(pkg.name, d)
      } else if (depth > 0) visit(d, depth - 1)
    }
  }
  visit(join(root, 'packages'), 1)
  visit(join(root, 'apps'), 0)
  return out
}

const halfLn = -0.5 * Math.log(1 - 0.64) // 0.5108 nats, the MI of the README's ρ = 0.8 pair

/** The check of each package's README result. */
const checks: Record<string, (result: any) => void> = {
  '@mi-prun/core': (r) =>
    expect(r).toEqual({
      row1: [4, 5, 6],
      sameSeedSameDraws: true,
      removeFor25Percent: 8,
      error: 'INFEASIBLE_BUDGET',
    }),
  '@mi-prun/mi-ksg': (r) => expect(Math.abs(r - halfLn)).toBeLessThan(0.06),
  '@mi-prun/mi-gaussian': (r) => expect(Math.abs(r - halfLn)).toBeLessThan(0.04),
  '@mi-prun/mi-binning': (r) => expect(r).toBeCloseTo(Math.log(4), 6),
  '@mi-prun/mi-reducers': (r) => expect(Math.abs(r - halfLn)).toBeLessThan(0.04),
  '@mi-prun/safetensors': (r) => expect(r).toEqual({ shape: [2, 3], values: [1, -2, 3.5, 0.25, 8, -0.5] }),
  '@mi-prun/span-scoring': (r) => expect(r).toEqual({ objective: 1 + 22, evaluations: 3 }),
  '@mi-prun/selector-fast-block-select': (r) => expect([...r]).toEqual([2, 6]),
  '@mi-prun/selector-baselines': (r) => expect([...r]).toEqual([1, 3]),
  '@mi-prun/families': (r) => {
    expect(r).toMatchObject({ family: 'llama', blocks: 12, states: 13 })
    // the numpy float64 golden of the same ids (models/llama-kjv/golden-forward.json)
    expect(Math.abs(r.sumNll - 1295.2486282086197) / 1295.2486282086197).toBeLessThan(1e-9)
  },
  '@mi-prun/eval': (r) =>
    expect(r).toEqual({ batch: 2, seqLen: 4, starts: [0, 4], ids: [0, 1, 2, 3, 4, 5, 6, 7] }),
  '@mi-prun/adapter-tfjs': (r) => expect(r).toEqual({ numBlocks: 8, states: 9, shape: [16, 128] }),
  '@mi-prun/adapter-onnx': (r) => expect(r).toEqual({ numBlocks: 8, tokens: 14, changed: true }),
  '@mi-prun/cli': (r) => expect(r).toMatchObject({ code: 0, blocks: 8, hiddenSize: 128 }),
}

describe('package README examples', () => {
  const packages = publicPackages()
  it('every public package has a README with exactly one ```ts test block and a check here', () => {
    for (const [name, dir] of packages) {
      const readme = join(dir, 'README.md')
      expect(existsSync(readme), `${relative(root, readme)}`).toBe(true)
      expect(tsBlocks(readme, 'ts test'), name).toHaveLength(1)
      expect(checks[name], `no check for ${name} in readme-examples.test.ts`).toBeTypeOf('function')
    }
    expect(packages.size).toBe(Object.keys(checks).length)
  })
  for (const [name, dir] of packages) {
    it(`${name}: README example`, async () => {
      const [code] = tsBlocks(join(dir, 'README.md'), 'ts test')
      const mod = await load<{ result: unknown }>(name.replace(/[@/]/g, '_'), code!)
      checks[name]!(mod.result)
    })
  }
})
