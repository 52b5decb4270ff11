// The CLI's own pipeline (session, calibration draw, scorers, selectors, perplexity), imported from
// apps/cli's source so the evidence runs exactly what `mi-prun compare` runs — nothing duplicated.
import type { CommandContext } from '../../apps/cli/src/command.js'
import type { OptionValues } from '../../apps/cli/src/options.js'
import { createProgress } from '../../apps/cli/src/progress.js'

export { openSession, sessionSettings, selectorRegistry } from '../../apps/cli/src/session.js'
export type { Session, SessionSettings, SelectorName } from '../../apps/cli/src/session.js'
export { evalPerplexity, heldoutIds, bundledTasks } from '../../apps/cli/src/commands/eval.js'
export {
  createMiScorer,
  estimatorFactories,
  parseEstimatorSpec,
  parseReducerSpec,
} from '../../apps/cli/src/scoring.js'
export { pairwiseJaccard, jaccard } from '../../apps/cli/src/report/schema.js'
export { prefixable } from './prefix.js'

/** A quiet CLI command context (no progress bars); `log` goes to stderr when `verbose`. */
export function quietContext(values: OptionValues, verbose = false): CommandContext {
  return {
    command: 'evidence',
    values,
    positionals: [],
    io: { stdout: process.stdout, stderr: process.stderr },
    progress: createProgress(process.stderr, false),
    log: (m) => {
      if (verbose) process.stderr.write(`${m}\n`)
    },
    json: false,
    argv: ['evidence'],
  }
}
