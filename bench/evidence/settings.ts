/** Every setting of the evidence run (written into the output). `quick` is a smoke-test size. */
export function evidenceSettings(quick: boolean) {
  return {
    seed: 0,
    /** Time budget of one model's run, s; later sections that would overrun it are skipped and listed. */
    budgetS: Number(process.env.EVIDENCE_BUDGET_S ?? (quick ? 300 : 1200)),
    reserveMs: quick ? 10_000 : 60_000,
    calibChars: 600_000,
    samples: quick ? 8 : 16,
    seqLen: quick ? 64 : 128,
    tokens: 2048,
    subsets: 5,
    reducer: 'pca:32',
    ksgK: 3,
    estimators: quick
      ? ['gaussian', 'binning']
      : ['gaussian', 'binning', 'ksg', 'ensemble:gaussian,binning,ksg'],
    reducerEstimators: ['gaussian', 'binning'],
    reducers: quick ? ['pca:16', 'rp:16'] : ['pca:16', 'pca:32', 'pca:64', 'rp:32', 'none'],
    sizeEstimators: ['gaussian'],
    sizes: (quick
      ? [[4, 32]]
      : [
          [4, 64],
          [8, 128],
          [32, 128],
        ]) as Array<[number, number]>,
    objRows: quick ? 2 : 4,
    pplWindow: 128,
    pplWindows: quick ? 4 : 8,
    mcItems: quick ? 20 : 60,
    mcRandomSeeds: quick ? 2 : 3,
    randomSeeds: quick ? 3 : 10,
    oracleCapMs: quick ? 20_000 : 300_000,
  }
}
