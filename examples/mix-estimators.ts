// Mixing MI estimators on the hidden states of the reference model: score every block with KSG, with the
// Gaussian estimator behind a PCA reducer, and with a mean-rank ensemble of the two, then print the per-block
// table and how well the rankings agree (Spearman). Run: pnpm --filter @mi-prun/examples mix-estimators
import { createKsgEstimator } from '@mi-prun/mi-ksg'
import { createGaussianEstimator } from '@mi-prun/mi-gaussian'
import { createPcaReducer } from '@mi-prun/mi-reducers'
import { collectActivations, createEnsembleScorer, createMiSpanScorer } from '@mi-prun/span-scoring'
import { isMain, loadReference, spearman } from './reference.js'

export interface MixResult {
  readonly numBlocks: number
  readonly samples: number
  /** MI(h_i; h_{i+1}) in nats per block i, KSG (k = 3) on the raw d = 128 states. */
  readonly ksg: number[]
  /** MI(h_i; h_{i+1}) in nats per block i, Gaussian on a joint PCA to rank 16. */
  readonly gaussian: number[]
  /** Mean rank of the two (higher = more removable), per block. */
  readonly ensemble: number[]
  /** Spearman correlation of the per-block rankings. */
  readonly agreement: { ksgVsGaussian: number; ksgVsEnsemble: number; gaussianVsEnsemble: number }
}

export async function mixEstimators(options: { maxTokens?: number } = {}): Promise<MixResult> {
  const { maxTokens = 200 } = options
  const { model, calibration } = await loadReference()
  try {
    // one forward pass; h_0..h_T of a seeded sample of maxTokens tokens
    const store = await collectActivations(model, [calibration], { maxTokens, seed: 0, maxSpan: 1 })
    const ksg = createMiSpanScorer({ store, estimator: createKsgEstimator({ k: 3 }) })
    const gaussian = createMiSpanScorer({
      store,
      estimator: createGaussianEstimator(),
      reducer: createPcaReducer({ rank: 16 }),
    })
    const ensemble = createEnsembleScorer({ scorers: [ksg, gaussian], method: 'mean-rank' })
    const T = store.numBlocks
    const per = (s: { score(j: number, L: number): number }): number[] =>
      Array.from({ length: T }, (_, j) => s.score(j, 1))
    const k = per(ksg)
    const g = per(gaussian)
    const e = per(ensemble)
    return {
      numBlocks: T,
      samples: store.samples,
      ksg: k,
      gaussian: g,
      ensemble: e,
      agreement: {
        ksgVsGaussian: spearman(k, g),
        ksgVsEnsemble: spearman(k, e),
        gaussianVsEnsemble: spearman(g, e),
      },
    }
  } finally {
    await model.dispose()
  }
}

if (isMain(import.meta.url)) {
  const r = await mixEstimators()
  console.log(`block  KSG (nats)  Gaussian+PCA16 (nats)  ensemble mean rank   (${r.samples} tokens)`)
  for (let i = 0; i < r.numBlocks; i++)
    console.log(
      `${String(i).padStart(5)}  ${r.ksg[i]!.toFixed(4).padStart(10)}  ${r.gaussian[i]!.toFixed(4).padStart(21)}  ${r.ensemble[i]!.toFixed(2).padStart(18)}`,
    )
  const a = r.agreement
  console.log(
    `Spearman: KSG~Gaussian ${a.ksgVsGaussian.toFixed(3)}, KSG~ensemble ${a.ksgVsEnsemble.toFixed(3)}, Gaussian~ensemble ${a.gaussianVsEnsemble.toFixed(3)}`,
  )
}
