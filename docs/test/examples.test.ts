// Runs the TypeScript examples of the guide pages as written, so the documentation cannot drift from the
// packages: each fenced ```ts block is written to a temporary module inside docs/ and imported (./blocks.ts).
import { afterAll, describe, expect, it } from 'vitest'
import {
  type MIEstimator,
  type Matrix,
  type Selector,
  type SpanScorer,
  createRng,
  matrix,
} from '@mi-prun/core'
import { correlatedGaussian, describeEstimator } from '@mi-prun/testkit'
import { blockLoader, tsBlocks } from './blocks.js'

const { load, clean } = blockLoader('guide')

function block(page: string, marker: string): string {
  const found = tsBlocks(page).filter((b) => b.includes(marker))
  if (found.length !== 1)
    throw new Error(
      `[@mi-prun/docs] expected one ts block of ${page} containing "${marker}", found ${found.length}`,
    )
  return found[0]!
}

const extending = 'guide/extending.md'
const { createPearsonEstimator } = await load<{ createPearsonEstimator: () => MIEstimator }>(
  'estimator',
  block(extending, 'export function createPearsonEstimator'),
)
const { createResidualChangeScorer } = await load<{
  createResidualChangeScorer: (s: readonly Matrix[]) => SpanScorer
}>('scorer', block(extending, 'export function createResidualChangeScorer'))
const { createLowestScoreSelector } = await load<{ createLowestScoreSelector: () => Selector }>(
  'selector',
  block(extending, 'export function createLowestScoreSelector'),
)
const library = await load<{ plugIn: MIEstimator; x: Matrix; y: Matrix }>(
  'library',
  `${block('guide/library.md', 'const plugIn = createBinningEstimator')}\nexport { plugIn, x, y }\n`,
)

afterAll(clean)

// The guide says the testkit's conformance suite accepts the example estimator: check that it does.
describeEstimator({ name: 'guide example: createPearsonEstimator', create: () => createPearsonEstimator() })

describe('guide examples', () => {
  it('library.md: the binning hand case gives 0.2911032 nats', () => {
    expect(library.plugIn.estimate(library.x, library.y)).toBeCloseTo(0.2911032, 7)
  })

  it('extending.md: the Pearson estimator recovers −½ ln(1−ρ²) on Gaussian data', () => {
    const { x, y } = correlatedGaussian(createRng(5), 20_000, 2, 0.8)
    expect(Math.abs(createPearsonEstimator().estimate(x, y) - -0.5 * Math.log(1 - 0.64))).toBeLessThan(0.02)
  })

  it('extending.md: the residual-change scorer memoises and the lowest-score selector removes the quietest blocks', () => {
    // 5 blocks; block b adds steps[b] to every coordinate, so its score is 3·steps[b]² (3 columns)
    const steps = [1, 0.1, 2, 0.2, 0.05]
    const states: Matrix[] = [matrix(4, 3, new Float32Array(12).fill(1))]
    for (const s of steps)
      states.push(
        matrix(
          4,
          3,
          states.at(-1)!.data.map((v) => v + s),
        ),
      )
    const scorer = createResidualChangeScorer(states)
    expect(scorer.score(2, 1)).toBeCloseTo(3 * 4, 5)
    expect(scorer.score(0, 2)).toBeCloseTo(3 * 1.1 * 1.1, 5)
    scorer.score(2, 1)
    expect(scorer.evaluations).toBe(2)
    const selection = createLowestScoreSelector().select({ numBlocks: 5, scorer, protectedBlocks: [4] }, 2)
    expect(selection).toMatchObject({ selector: 'lowest-score', selected: [1, 3] })
    expect(() => createLowestScoreSelector().select({ numBlocks: 5, scorer }, 6)).toThrow(
      /cannot remove 6 of 5/,
    )
  })
})
