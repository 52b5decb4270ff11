import { describe, expect, it } from 'vitest'
import { createRng, matrix } from '@mi-prun/core'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import {
  type ActivationOptions,
  collectActivations,
  createActivationStore,
  createAngularDistanceScorer,
  createBlockInfluenceScorer,
  createEnsembleScorer,
  createMiSpanScorer,
  createRandomProjection,
  createSpanScorer,
  createWindowCosineScorer,
  loadActivationDump,
} from '@mi-prun/span-scoring'
import { toyAdapter, toyBatches } from './toy-model.js'

function states(T: number, n: number, d: number) {
  const rng = createRng(5)
  return Array.from({ length: T + 1 }, () =>
    matrix(
      n,
      d,
      Float32Array.from({ length: n * d }, () => rng.normal()),
    ),
  )
}

describe('span-scoring option keys (unknown keys are TypeErrors naming the closest key)', () => {
  const store = createActivationStore({ states: states(3, 12, 2) }, { excludeFirst: false })

  it('refuses a typo in every factory instead of running the default', async () => {
    const bad = (o: object): never => o as never
    expect(() => createActivationStore({ states: states(3, 12, 2) }, bad({ maxToken: 8 }))).toThrow(
      /\[@mi-prun\/span-scoring\] unknown option "maxToken" \(did you mean "maxTokens"\?\)/,
    )
    expect(() => createActivationStore({ states: states(3, 12, 2) }, bad({ excludeFirst: 'yes' }))).toThrow(
      TypeError,
    )
    await expect(
      collectActivations(toyAdapter(3, 4), toyBatches(2, 6, 3), bad({ maxspan: 2 })),
    ).rejects.toThrow(/unknown option "maxspan" \(did you mean "maxSpan"\?\)/)
    expect(() => loadActivationDump('/nonexistent/dump.safetensors', bad({ sed: 1 }))).toThrow(
      /unknown option "sed" \(did you mean "seed"\?\)/,
    )
    expect(() =>
      createMiSpanScorer(bad({ store, estimator: createGaussianEstimator(), passTag: true })),
    ).toThrow(/did you mean "passTags"/)
    expect(() => createBlockInfluenceScorer(bad({ store, nanpolicy: 'skip' }))).toThrow(
      /did you mean "nanPolicy"/,
    )
    expect(() => createAngularDistanceScorer(bad({ store, token: 'all' }))).toThrow(/did you mean "tokens"/)
    expect(() => createWindowCosineScorer(bad({ store, window: 2 }))).toThrow(TypeError)
    const bi = createBlockInfluenceScorer({ store })
    expect(() => createEnsembleScorer(bad({ scorers: [bi], weight: [1] }))).toThrow(/did you mean "weights"/)
    expect(() =>
      createSpanScorer(
        bad({
          name: 'x',
          numBlocks: 3,
          settings: {},
          higherMeansRemovable: true,
          evaluate: () => 0,
          maxLen: 2,
        }),
      ),
    ).toThrow(/did you mean "maxLength"/)
  })

  it('names the random projection size `rank`, as mi-reducers does, and refuses the old `dims` naming `rank`', () => {
    expect(() => createRandomProjection({ dims: 4 } as never)).toThrow(TypeError)
    expect(() => createRandomProjection({ dims: 4 } as never)).toThrow(
      /"dims" was renamed "rank".*\{ rank: 4 \}/,
    )
    expect(() => createRandomProjection({ rank: 0 })).toThrow(RangeError)
    expect(() => createRandomProjection({ rank: '4' as never })).toThrow(TypeError)
    const rp = createRandomProjection({ rank: 4, seed: 2 })
    expect(rp.settings).toEqual({ kind: 'random-projection', rank: 4, seed: 2 })
    expect(rp.reduce(matrix(3, 5, new Float32Array(15).fill(1))).cols).toBe(4)
  })
})

describe('createActivationStore settings record what ran', () => {
  it('without tags, excludeFirst cannot exclude anything: the settings say false and why', () => {
    const hs = states(2, 10, 3)
    const opts: ActivationOptions = { excludeFirst: true, maxTokens: 100 }
    const untagged = createActivationStore({ states: hs }, opts)
    expect(untagged.samples).toBe(10) // every row was eligible: nothing was excluded
    expect(untagged.settings['excludeFirst']).toBe(false)
    expect(untagged.settings['excludeFirstIgnored']).toMatch(/no tags/)
    const tags = {
      sequence: new Int32Array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1]),
      position: new Int32Array([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]),
    }
    const tagged = createActivationStore({ states: hs, tags }, opts)
    expect(tagged.samples).toBe(8) // the two position-0 rows were excluded
    expect(tagged.settings['excludeFirst']).toBe(true)
    expect(tagged.settings['excludeFirstIgnored']).toBeUndefined()
    const off = createActivationStore({ states: hs }, { excludeFirst: false })
    expect(off.settings['excludeFirst']).toBe(false)
    expect(off.settings['excludeFirstIgnored']).toBeUndefined()
  })
})
